/**
 * `reasoning` on the Messages API, per model generation (see `capabilities.ts`):
 *
 * - `budgetTokens` → `thinking: { type: 'enabled', budget_tokens }` where the model takes budgets (at
 *   least 1024: a smaller one is raised, with a warning); on models that reject budgets, adaptive thinking
 *   with a warning.
 * - `effort` → `thinking: { type: 'adaptive' }` plus `output_config.effort` where the model has adaptive
 *   thinking; on budget-only models a budget from `EFFORT_BUDGET`. `effort: 'none'` (or `budgetTokens: 0`)
 *   turns thinking off, or says it cannot (models that always think).
 * - `max_tokens` counts thinking too and must exceed the budget, so a budget is added to `maxTokens`
 *   (default 4096); adaptive thinking without `maxTokens` gets 16 000, as Anthropic's examples use.
 * - While thinking, the API refuses a `temperature` other than 1 and a `top_p` below 0.95: they are not
 *   sent, with a warning (a default temperature in calling code should not break a thinking request), and a
 *   forced tool choice is an `LLMUnsupportedError` before sending.
 *
 * @see https://platform.claude.com/docs/en/build-with-claude/extended-thinking
 */
import type { ReasoningEffort, Warning } from '../../spec/tools.ts';
import type { NormalizedRequest } from '../provider.ts';
import { unsupported } from '../request-helpers.ts';
import { type ClaudeModel, claudeModel } from './capabilities.ts';

/** `max_tokens` sent when the caller gives none: the API requires the field (the seed's value). */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;
/** `max_tokens` when thinking adaptively and the caller gives none: room to think and answer. */
export const DEFAULT_THINKING_MAX_TOKENS = 16_000;
/** The smallest `budget_tokens` the API accepts. */
export const MIN_THINKING_BUDGET = 1024;

/** Thinking budgets for an effort, on models that take budgets only (each fits Opus 4's 32k output). */
export const EFFORT_BUDGET: Readonly<Record<Exclude<ReasoningEffort, 'none'>, number>> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16_384,
  xhigh: 24_576,
};

export interface ThinkingSettings {
  /** The body's `thinking`, when one is sent. */
  thinking?: Record<string, unknown>;
  /** `output_config.effort`, when one is sent. */
  effort?: string;
  maxTokens: number;
  /** The model will think (asked to, or by default): sampling and forced tools are restricted. */
  thinks: boolean;
}

function setting(message: string): Warning {
  return { code: 'setting-changed', message: `anthropic: ${message}` };
}

/** Our effort → `output_config.effort` on a model that has it. */
function wireEffort(
  effort: ReasoningEffort,
  claude: ClaudeModel,
  model: string,
  warnings: Warning[],
): string {
  if (effort === 'minimal') {
    warnings.push(setting(`reasoning.effort 'minimal' was sent as 'low' (Anthropic's lowest effort)`));
    return 'low';
  }
  if (effort === 'xhigh' && !claude.xhighEffort) {
    warnings.push(setting(`reasoning.effort 'xhigh' was sent as 'max' (${model} has no 'xhigh')`));
    return 'max';
  }
  return effort;
}

export function thinkingSettings(request: NormalizedRequest, warnings: Warning[]): ThinkingSettings {
  const model = request.model;
  const claude = claudeModel(model);
  const { effort, budgetTokens } = request.reasoning ?? {};
  const off = effort === 'none' || budgetTokens === 0;
  const asked =
    request.reasoning !== undefined && !off && (effort !== undefined || budgetTokens !== undefined);
  const base = request.maxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS;
  const forcedTool =
    request.tools !== undefined &&
    (request.toolChoice === 'required' || typeof request.toolChoice === 'object');

  if (!asked) {
    if (claude.thinking === 'always') {
      if (off)
        warnings.push(
          setting(`${model} always thinks; reasoning off was sent as output_config.effort 'low'`),
        );
      return {
        effort: off ? 'low' : undefined,
        maxTokens: request.maxTokens ?? DEFAULT_THINKING_MAX_TOKENS,
        thinks: true,
      };
    }
    // Opus 5 and Sonnet 5 think unless told not to: they are told when reasoning is off, or when a forced
    // tool choice needs thinking off.
    if (claude.thinksByDefault && !off && !forcedTool) {
      return { maxTokens: request.maxTokens ?? DEFAULT_THINKING_MAX_TOKENS, thinks: true };
    }
    if (claude.thinksByDefault) return { thinking: { type: 'disabled' }, maxTokens: base, thinks: false };
    return { maxTokens: base, thinks: false };
  }

  if (claude.thinking === 'none') throw unsupported('anthropic', model, 'reasoning (extended thinking)');
  const adaptive = (): ThinkingSettings => ({
    thinking: { type: 'adaptive' },
    effort: effort === undefined ? undefined : wireEffort(effort as ReasoningEffort, claude, model, warnings),
    maxTokens: request.maxTokens ?? DEFAULT_THINKING_MAX_TOKENS,
    thinks: true,
  });
  const budget = (tokens: number): ThinkingSettings => {
    let budgetTokens = tokens;
    if (budgetTokens < MIN_THINKING_BUDGET) {
      warnings.push(
        setting(
          `reasoning.budgetTokens ${budgetTokens} was raised to ${MIN_THINKING_BUDGET}, the API's minimum`,
        ),
      );
      budgetTokens = MIN_THINKING_BUDGET;
    }
    return {
      thinking: { type: 'enabled', budget_tokens: budgetTokens },
      maxTokens: base + budgetTokens,
      thinks: true,
    };
  };

  if (budgetTokens !== undefined) {
    if (claude.thinking === 'adaptive' || claude.thinking === 'always') {
      warnings.push(
        setting(`${model} takes no thinking budget; reasoning.budgetTokens was sent as adaptive thinking`),
      );
      return adaptive();
    }
    const settings = budget(budgetTokens);
    if (effort !== undefined) {
      if (claude.effort) settings.effort = wireEffort(effort, claude, model, warnings);
      else
        warnings.push(setting(`${model} takes no effort; reasoning.effort was not sent (budgetTokens was)`));
    }
    return settings;
  }
  if (claude.thinking === 'budget') return budget(EFFORT_BUDGET[effort as Exclude<ReasoningEffort, 'none'>]);
  return adaptive();
}

/** Drops what the API refuses while thinking, saying so; a forced tool choice cannot be honoured at all. */
export function restrictWhileThinking(
  body: Record<string, unknown>,
  request: NormalizedRequest,
  settings: ThinkingSettings,
  warnings: Warning[],
): void {
  if (!settings.thinks) return;
  const choice = request.toolChoice;
  if (request.tools && (choice === 'required' || typeof choice === 'object')) {
    const always = claudeModel(request.model).thinking === 'always';
    throw unsupported(
      'anthropic',
      request.model,
      always
        ? 'a forced tool choice (it always thinks, and thinking rules out forced tool use)'
        : 'a forced tool choice while thinking (reasoning) is on',
    );
  }
  if (body.temperature !== undefined && body.temperature !== 1) {
    warnings.push(
      setting(`temperature ${body.temperature} was not sent: the API takes only 1 while thinking`),
    );
    delete body.temperature;
  }
  if (typeof body.top_p === 'number' && body.top_p < 0.95) {
    warnings.push(setting(`topP ${body.top_p} was not sent: the API takes 0.95 to 1 while thinking`));
    delete body.top_p;
  }
}
