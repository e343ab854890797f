/**
 * What a Bedrock model can do, read from its id. Converse is one API over many model families, and what
 * each accepts differs: which `toolChoice` members exist, whether `toolResult.status` is taken, how
 * reasoning is asked for, and which models have native structured output (`outputConfig.textFormat`).
 * Ids may carry a cross-region prefix (`us.`, `eu.`, `global.`) or be inference-profile ARNs; an opaque
 * application-profile ARN is read as an unknown family.
 *
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolChoice.html (`tool`: Claude and Nova)
 * @see https://docs.aws.amazon.com/bedrock/latest/userguide/claude-messages-structured-outputs.html
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolResultBlock.html (`status`: Claude)
 */
import type { ModelCapabilities } from '../provider.ts';

export type BedrockFamily = 'claude' | 'nova' | 'gpt-oss' | 'llama' | 'titan' | 'deepseek' | 'other';

/** How a model is asked to reason on Converse, if it can be. */
export type ReasoningStyle =
  /** Claude: `thinking: { type: 'enabled', budget_tokens }`. */
  | 'claude-budget'
  /** Claude 4.6: a budget, or `thinking: { type: 'adaptive' }` with `output_config.effort`. */
  | 'claude-adaptive'
  /** Claude Opus 4.7 and later: adaptive thinking only (a budget is a 400). */
  | 'claude-adaptive-only'
  /** Nova 2: `reasoningConfig: { type: 'enabled', maxReasoningEffort }`. */
  | 'nova'
  /** gpt-oss: `reasoning_effort`. */
  | 'gpt-oss'
  /** DeepSeek R1 reasons on every call and has no setting. */
  | 'always'
  | undefined;

export interface BedrockModelTraits {
  family: BedrockFamily;
  /** `toolChoice: { any: {} }` exists (Llama and Titan answer "This model doesn't support the toolConfig.toolChoice.any field"). */
  anyToolChoice: boolean;
  /** `toolChoice: { tool: { name } }` exists (Claude and Nova); elsewhere a named tool is sent as `any` with that tool alone. */
  namedToolChoice: boolean;
  /** `outputConfig.textFormat` (constrained JSON) and `toolSpec.strict`. */
  nativeStructuredOutput: boolean;
  reasoning: ReasoningStyle;
  /** `toolResult.status` is taken (Claude only). */
  toolResultStatus: boolean;
  /** Claude's own `tool_choice` (with `disable_parallel_tool_use`) goes through `additionalModelRequestFields`. */
  anthropicToolChoice: boolean;
  /** `temperature`, `topP` are rejected (Claude Opus 4.7 and later). */
  noSampling: boolean;
}

interface ClaudeVersion {
  tier: string;
  /** 3.7, 4, 4.5, 4.6, … */
  version: number;
}

/** `claude-sonnet-4-5-20250929`, `claude-opus-4-20250514`, `claude-3-7-sonnet-…`, `claude-3-haiku-…`. */
export function claudeVersion(model: string): ClaudeVersion | undefined {
  const modern = /claude-(opus|sonnet|haiku|fable|mythos)-(\d+)(?:-(\d)(?!\d))?/.exec(model);
  if (modern) return { tier: modern[1]!, version: Number(modern[2]) + Number(modern[3] ?? 0) / 10 };
  const classic = /claude-(\d)(?:-(\d))?-(opus|sonnet|haiku)/.exec(model);
  if (classic) return { tier: classic[3]!, version: Number(classic[1]) + Number(classic[2] ?? 0) / 10 };
  if (/claude-(?:v2|instant|2)/.test(model)) return { tier: 'legacy', version: 2 };
  return undefined;
}

function familyOf(model: string): BedrockFamily {
  if (/anthropic\.|claude-/.test(model)) return 'claude';
  if (/amazon\.nova-/.test(model)) return 'nova';
  if (/amazon\.titan-/.test(model)) return 'titan';
  if (/openai\.gpt-oss/.test(model)) return 'gpt-oss';
  if (/meta\.llama/.test(model)) return 'llama';
  if (/deepseek\./.test(model)) return 'deepseek';
  return 'other';
}

/** The Claude models AWS lists for structured output on Converse. */
const CLAUDE_STRUCTURED_OUTPUT = new Set(['sonnet 4.5', 'haiku 4.5', 'opus 4.5', 'opus 4.6']);

function claudeReasoning(claude: ClaudeVersion | undefined): ReasoningStyle {
  if (!claude) return 'claude-budget';
  if (claude.version < 3.7) return undefined;
  if (claude.version >= 5 || (claude.tier === 'opus' && claude.version >= 4.7)) return 'claude-adaptive-only';
  if (claude.version >= 4.6) return 'claude-adaptive';
  return 'claude-budget';
}

export function bedrockTraits(model: string): BedrockModelTraits {
  const family = familyOf(model);
  const traits: BedrockModelTraits = {
    family,
    anyToolChoice: family !== 'llama' && family !== 'titan',
    namedToolChoice: family === 'claude' || family === 'nova',
    nativeStructuredOutput: false,
    reasoning: undefined,
    toolResultStatus: family === 'claude',
    anthropicToolChoice: family === 'claude',
    noSampling: false,
  };
  if (family === 'claude') {
    const claude = claudeVersion(model);
    traits.reasoning = claudeReasoning(claude);
    traits.nativeStructuredOutput =
      claude !== undefined && CLAUDE_STRUCTURED_OUTPUT.has(`${claude.tier} ${claude.version}`);
    traits.noSampling = traits.reasoning === 'claude-adaptive-only';
  } else if (family === 'nova') traits.reasoning = /nova-2/.test(model) ? 'nova' : undefined;
  else if (family === 'gpt-oss') traits.reasoning = 'gpt-oss';
  else if (family === 'deepseek') traits.reasoning = /deepseek\.r1/.test(model) ? 'always' : undefined;
  return traits;
}

/** What structured output and media downloads need to know (see `ModelCapabilities`). */
export function bedrockCapabilities(model: string): ModelCapabilities {
  const traits = bedrockTraits(model);
  return {
    structuredOutput: traits.nativeStructuredOutput,
    forcedToolChoice: traits.anyToolChoice,
    // "Thinking may not be enabled when tool_choice forces tool use." (Claude)
    forcedToolChoiceWithReasoning: traits.family !== 'claude',
    // Converse takes bytes or S3 locations, never https: URLs.
    imageUrls: false,
    fileUrls: false,
  };
}
