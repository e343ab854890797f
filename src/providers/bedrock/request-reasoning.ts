/**
 * `reasoning` on Converse, which has no field of its own: each family takes its native setting through
 * `additionalModelRequestFields`.
 *
 * - Claude 3.7 to 4.5: `thinking: { type: 'enabled', budget_tokens }`; the budget is `budgetTokens`, or
 *   from `effort` (minimal 1024, low 2048, medium 8192, high 16384, xhigh 32768), at least 1024. The budget
 *   is part of `maxTokens`: without `maxTokens`, 4096 answer tokens are added to it; a budget from `effort`
 *   is lowered to fit a given `maxTokens`; an explicit budget that does not fit is an error.
 * - Claude 4.6: the same with `budgetTokens`; with `effort` alone, `thinking: { type: 'adaptive' }` and
 *   `output_config: { effort }` (low, medium, high, max).
 * - Claude Opus 4.7 and later: adaptive only (`type: 'enabled'` is a 400), with `display: 'summarized'` so
 *   the reasoning text comes back; `budgetTokens` alone becomes an effort, with a warning.
 * - With thinking on, Claude takes no `temperature` or `topP` other than the defaults: they are left out,
 *   with a warning.
 * - Nova 2: `reasoningConfig: { type: 'enabled', maxReasoningEffort }` (low, medium, high); at `high` Nova
 *   requires `maxTokens` unset ("`maxTokens` must be unset when … maxReasoningEffort is 'high'").
 * - gpt-oss: `reasoning_effort` (low, medium, high).
 * - DeepSeek R1 always reasons; other models have no known setting: an `LLMUnsupportedError`.
 */
import { LLMBadRequestError } from '../../spec/errors.ts';
import type { ReasoningEffort, Warning } from '../../spec/tools.ts';
import type { NormalizedRequest } from '../provider.ts';
import { unsupported } from '../request-helpers.ts';
import type { BedrockModelTraits } from './capabilities.ts';

type Json = Record<string, unknown>;

export interface ReasoningFields {
  /** Merged into `additionalModelRequestFields`. */
  additional: Json;
  /** Claude is thinking (a forced tool is then refused). */
  thinking: boolean;
  /** `maxTokens` to send: a number, `undefined` for the request's own, `null` to leave it unset. */
  maxTokens?: number | null;
}

const EFFORT_BUDGET: Record<Exclude<ReasoningEffort, 'none'>, number> = {
  minimal: 1024,
  low: 2048,
  medium: 8192,
  high: 16_384,
  xhigh: 32_768,
};
/** Anthropic's smallest thinking budget. */
const MIN_BUDGET = 1024;
/** Room for the answer when the caller gave no `maxTokens`. */
const ANSWER_TOKENS = 4096;

/** The effort closest to a token budget (for models that take an effort only). */
function effortFromBudget(budget: number): 'low' | 'medium' | 'high' {
  return budget <= 4096 ? 'low' : budget <= 16_384 ? 'medium' : 'high';
}

/** low / medium / high, for Nova and gpt-oss. */
function threeLevels(effort: Exclude<ReasoningEffort, 'none'>): 'low' | 'medium' | 'high' {
  return effort === 'minimal' ? 'low' : effort === 'xhigh' ? 'high' : effort;
}

function claudeBudget(request: NormalizedRequest, effort: ReasoningEffort | undefined): ReasoningFields {
  const explicit = request.reasoning?.budgetTokens;
  let budget = Math.max(
    MIN_BUDGET,
    explicit ?? EFFORT_BUDGET[effort === undefined || effort === 'none' ? 'medium' : effort],
  );
  let maxTokens: number | undefined;
  if (request.maxTokens === undefined) maxTokens = budget + ANSWER_TOKENS;
  else if (budget >= request.maxTokens) {
    if (explicit !== undefined || request.maxTokens <= MIN_BUDGET) {
      throw new LLMBadRequestError(
        `Invalid request: the thinking budget (${budget} tokens) must be less than maxTokens (${request.maxTokens}) on bedrock ${request.model}: the budget is part of maxTokens; raise maxTokens or lower reasoning.budgetTokens (at least ${MIN_BUDGET})`,
        { provider: 'bedrock', model: request.model },
      );
    }
    budget = request.maxTokens - 1;
  }
  const fields: ReasoningFields = {
    additional: { thinking: { type: 'enabled', budget_tokens: budget } },
    thinking: true,
  };
  if (maxTokens !== undefined) fields.maxTokens = maxTokens;
  return fields;
}

function claudeAdaptive(
  effort: ReasoningEffort | undefined,
  budget: number | undefined,
  only: boolean,
  model: string,
  warnings: Warning[],
): ReasoningFields {
  let level: string | undefined = effort === undefined || effort === 'none' ? undefined : effort;
  if (level === undefined && budget !== undefined) {
    level = effortFromBudget(budget);
    warnings.push({
      code: 'setting-changed',
      message: `bedrock: ${model} takes adaptive thinking only; reasoning.budgetTokens ${budget} is sent as effort ${level}`,
    });
  } else if (budget !== undefined) {
    warnings.push({
      code: 'setting-ignored',
      message: `bedrock: ${model} takes adaptive thinking only; reasoning.budgetTokens is ignored (effort ${level} is sent)`,
    });
  }
  if (level === 'minimal') level = 'low';
  if (level === 'xhigh' && !only) level = 'max'; // Claude 4.6 has low, medium, high and max
  const thinking: Json = only ? { type: 'adaptive', display: 'summarized' } : { type: 'adaptive' };
  const additional: Json = { thinking };
  if (level !== undefined) additional.output_config = { effort: level };
  return { additional, thinking: true };
}

/** The reasoning fields for `request` on this model, or none. */
export function reasoningFields(
  request: NormalizedRequest,
  traits: BedrockModelTraits,
  warnings: Warning[],
): ReasoningFields | undefined {
  const reasoning = request.reasoning;
  if (!reasoning) return undefined;
  const { effort, budgetTokens } = reasoning;
  if (effort === 'none' || (effort === undefined && budgetTokens === undefined)) return undefined;
  const model = request.model;
  switch (traits.reasoning) {
    case 'claude-budget':
      return claudeBudget(request, effort);
    case 'claude-adaptive':
      return budgetTokens !== undefined
        ? claudeBudget(request, effort)
        : claudeAdaptive(effort, undefined, false, model, warnings);
    case 'claude-adaptive-only':
      return claudeAdaptive(effort, budgetTokens, true, model, warnings);
    case 'nova':
    case 'gpt-oss': {
      const level = effort ? threeLevels(effort) : effortFromBudget(budgetTokens!);
      if (budgetTokens !== undefined) {
        warnings.push({
          code: effort ? 'setting-ignored' : 'setting-changed',
          message: `bedrock: ${model} takes an effort, not a token budget; reasoning.budgetTokens ${effort ? 'is ignored' : `is sent as effort ${level}`}`,
        });
      }
      if (traits.reasoning === 'gpt-oss') return { additional: { reasoning_effort: level }, thinking: false };
      const fields: ReasoningFields = {
        additional: { reasoningConfig: { type: 'enabled', maxReasoningEffort: level } },
        thinking: false,
      };
      if (level === 'high' && request.maxTokens !== undefined) {
        fields.maxTokens = null;
        warnings.push({
          code: 'setting-ignored',
          message: `bedrock: ${model} requires maxTokens unset at reasoning effort high; maxTokens is not sent`,
        });
      }
      return fields;
    }
    case 'always':
      warnings.push({
        code: 'setting-ignored',
        message: `bedrock: ${model} always reasons and has no reasoning setting; reasoning is ignored`,
      });
      return undefined;
    default:
      throw unsupported(
        'bedrock',
        model,
        'reasoning (no known Converse setting for it; native fields can go in providerOptions.bedrock.additionalModelRequestFields)',
      );
  }
}
