/**
 * `reasoning` → Gemini's `generationConfig.thinkingConfig`. Gemini 3 thinks at a level (`minimal`, `low`,
 * `medium`, `high`; Pro has `low` and `high` only, and neither can stop thinking); 2.5 within a token
 * budget (Pro cannot go below 128, Flash and Flash-Lite stop at 0). Thought summaries are asked for
 * (`includeThoughts`) whenever reasoning is on, so that `result.reasoning` has them. What had to be moved to
 * the nearest value the model has is said in a warning; a model that does not think at all (before 2.5)
 * refuses a request that asks it to.
 *
 * @see https://ai.google.dev/gemini-api/docs/thinking
 */
import type { Json } from '../../spec/json.ts';
import type { ReasoningEffort, ReasoningOptions, Warning } from '../../spec/tools.ts';
import { unsupported } from '../request-helpers.ts';
import type { GeminiModel } from './capabilities.ts';

type Level = 'minimal' | 'low' | 'medium' | 'high';

const FLASH_LEVELS: Readonly<Record<ReasoningEffort, Level>> = {
  none: 'minimal',
  minimal: 'minimal',
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'high',
};
const PRO_LEVELS: Readonly<Record<ReasoningEffort, Level>> = {
  none: 'low',
  minimal: 'low',
  low: 'low',
  medium: 'high',
  high: 'high',
  xhigh: 'high',
};

/** 2.5 budgets per effort (Flash's maximum is 24,576, Pro's 32,768). */
const BUDGETS: Readonly<Record<ReasoningEffort, number>> = {
  none: 0,
  minimal: 512,
  low: 1024,
  medium: 8192,
  high: 24_576,
  xhigh: 24_576,
};
const PRO_MIN_BUDGET = 128;
const PRO_MAX_BUDGET = 32_768;

/** The `thinkingConfig` for `reasoning` on `model`, or undefined when there is nothing to send. */
export function thinkingConfig(
  reasoning: ReasoningOptions | undefined,
  model: string,
  info: GeminiModel,
  warnings: Warning[],
): Json | undefined {
  if (!reasoning) return undefined;
  const { effort, budgetTokens } = reasoning;
  if (effort === undefined && budgetTokens === undefined) return undefined;
  const changed = (message: string) =>
    warnings.push({ code: 'setting-changed', message: `gemini model ${model}: ${message}` });
  const ignored = (message: string) =>
    warnings.push({ code: 'setting-ignored', message: `gemini model ${model}: ${message}` });

  if (info.thinking === 'none') {
    const asked = budgetTokens !== undefined ? budgetTokens > 0 : effort !== 'none';
    if (asked) throw unsupported('gemini', model, 'reasoning (it does not think; Gemini 2.5 and later do)');
    return undefined;
  }
  if (info.thinking === 'level' && effort !== undefined) {
    const level = (info.pro ? PRO_LEVELS : FLASH_LEVELS)[effort];
    if (effort === 'none') changed(`thinking cannot be turned off; the lowest level (${level}) is used`);
    else if (level !== effort) changed(`reasoning.effort ${effort} is sent as thinkingLevel ${level}`);
    if (budgetTokens !== undefined) {
      ignored('reasoning.budgetTokens is not sent with reasoning.effort (Gemini 3 takes one or the other)');
    }
    const config: Json = { thinkingLevel: level };
    if (effort !== 'none') config.includeThoughts = true;
    return config;
  }
  let budget: number;
  if (budgetTokens !== undefined) {
    budget = budgetTokens;
    if (effort !== undefined)
      ignored('reasoning.effort is not sent with reasoning.budgetTokens (the budget wins)');
  } else {
    budget = BUDGETS[effort!];
    if (info.pro && effort === 'xhigh') budget = PRO_MAX_BUDGET;
    if (info.pro && info.version !== undefined && info.version < 3 && budget < PRO_MIN_BUDGET) {
      budget = PRO_MIN_BUDGET;
      changed(`thinking cannot be turned off; the smallest budget (${PRO_MIN_BUDGET}) is used`);
    }
  }
  const config: Json = { thinkingBudget: budget };
  if (budget !== 0) config.includeThoughts = true;
  return config;
}
