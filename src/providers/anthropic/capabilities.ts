/**
 * What each Claude model can do, read from its name. Claude's generations differ in ways a request must
 * respect before it is sent:
 *
 * - thinking: none before 3.7; a `budget_tokens` budget (`thinking.type: enabled`) from 3.7 to 4.5; 4.6
 *   takes that or `adaptive` plus `output_config.effort`; 4.7, 4.8 and 5 reject budgets (adaptive only);
 *   Fable, Mythos and every model from 5.1 think always (thinking cannot be disabled, forced tool use is
 *   rejected). Opus 5 and Sonnet 5 think by default but may be told not to.
 * - native structured output (`output_config.format`, strict tools): Claude 4.5 and later.
 * - `output_config.effort`: Opus 4.5, every 4.6 and later model; `xhigh` from 4.7.
 * - URLs: the API fetches `https:` images and PDFs itself.
 *
 * A model name this does not recognise (a proxy's alias, an Anthropic-compatible server) is passed what
 * the caller asked for, untranslated, and the server decides.
 *
 * @see https://platform.claude.com/docs/en/build-with-claude/adaptive-thinking
 * @see https://platform.claude.com/docs/en/build-with-claude/effort
 * @see https://platform.claude.com/docs/en/build-with-claude/structured-outputs
 */
import type { ModelCapabilities } from '../provider.ts';

/** How a model thinks, as far as the request must know. */
export type ThinkingMode =
  /** No extended thinking (Claude 3.5 and earlier). */
  | 'none'
  /** `thinking: { type: 'enabled', budget_tokens }` only (3.7 to 4.5). */
  | 'budget'
  /** Adaptive with effort, or a budget (4.6, where budgets are deprecated). */
  | 'both'
  /** Adaptive with effort only; off unless asked for, except Opus 5 and Sonnet 5 (on by default). */
  | 'adaptive'
  /** Adaptive, always on: cannot be disabled, and forced tool use is rejected (Fable, Mythos, 5.1 and later). */
  | 'always'
  /** A name this does not recognise: the caller's settings are sent as they are. */
  | 'unknown';

export interface ClaudeModel {
  thinking: ThinkingMode;
  /** Thinks unless told not to (`thinking: { type: 'disabled' }`). */
  thinksByDefault: boolean;
  /** Takes `output_config.effort`. */
  effort: boolean;
  /** Takes `output_config.effort: 'xhigh'` (else the next level up, `max`). */
  xhighEffort: boolean;
  /** `output_config.format` and strict tools. */
  structuredOutput: boolean;
}

/** `claude-sonnet-4-5-20250929`, `claude-opus-4-20250514`, `claude-3-7-sonnet-latest`, `claude-opus-5-5`. */
const VERSIONED = /(?:^|[./])claude-(?:(\d+)(?:-(\d))?-([a-z]+)|([a-z]+)-(\d+)(?:-(\d{1,2}))?)(?=$|[-@.:])/;
/** Families that think always, whatever their version (`claude-mythos-preview` has none). */
const ALWAYS_THINKING = /(?:^|[./])claude-(?:fable|mythos)\b/;

const UNKNOWN: ClaudeModel = {
  thinking: 'unknown',
  thinksByDefault: false,
  effort: true,
  xhighEffort: true,
  structuredOutput: false,
};

/** Major and minor as one number: 4.5 → 45, 5 → 50, 3.7 → 37. */
function versionOf(model: string): { family: string; version: number } | undefined {
  const match = VERSIONED.exec(model);
  if (!match) return undefined;
  const [, oldMajor, oldMinor, oldFamily, family, major, minor] = match;
  if (oldMajor !== undefined)
    return { family: oldFamily!, version: Number(oldMajor) * 10 + Number(oldMinor ?? 0) };
  return { family: family!, version: Number(major) * 10 + Number(minor ?? 0) };
}

/** What each model name was read as (a request reads it several times; a few distinct names a process). */
const readModels = new Map<string, ClaudeModel>();

export function claudeModel(model: string): ClaudeModel {
  let read = readModels.get(model);
  if (!read) {
    read = Object.freeze(readClaudeModel(model));
    if (readModels.size >= 1_000) readModels.clear();
    readModels.set(model, read);
  }
  return read;
}

function readClaudeModel(model: string): ClaudeModel {
  const name = model.toLowerCase();
  if (ALWAYS_THINKING.test(name)) {
    return {
      thinking: 'always',
      thinksByDefault: true,
      effort: true,
      xhighEffort: true,
      structuredOutput: true,
    };
  }
  const parsed = versionOf(name);
  if (!parsed) return UNKNOWN;
  const { family, version } = parsed;
  let thinking: ThinkingMode;
  if (version < 37) thinking = 'none';
  else if (version <= 45) thinking = 'budget';
  else if (version === 46) thinking = 'both';
  else if (version <= 50) thinking = 'adaptive';
  else thinking = 'always';
  return {
    thinking,
    thinksByDefault: thinking === 'always' || version === 50,
    effort: version >= 46 || (family === 'opus' && version === 45),
    xhighEffort: version >= 47,
    structuredOutput: version >= 45,
  };
}

export function anthropicCapabilities(model: string): ModelCapabilities {
  const claude = claudeModel(model);
  return {
    structuredOutput: claude.structuredOutput,
    // Models that always think reject a forced tool choice outright.
    forcedToolChoice: claude.thinking !== 'always',
    // "Thinking may not be enabled when tool_choice forces tool use."
    forcedToolChoiceWithReasoning: false,
    imageUrls: true,
    fileUrls: true,
  };
}
