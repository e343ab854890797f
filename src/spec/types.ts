/**
 * The provider-neutral vocabulary of llm-factory: requests, results, stream events, usage (messages and
 * their parts are in `messages.ts`, tools and response formats in `tools.ts`). Nothing here knows about HTTP
 * or any one provider.
 */
import type { ChatMessage, ResultMessage, ToolCall } from './messages.ts';
import type { ReasoningOptions, ResponseFormat, ToolChoice, ToolDefinition, Warning } from './tools.ts';

export type * from './messages.ts';
export type * from './tools.ts';

import type { LLMErrorCode } from './errors.ts';

/** The providers the factory knows. */
export const PROVIDERS = [
  'openai',
  'anthropic',
  'gemini',
  'azure',
  'bedrock',
  'ollama',
  'openai-compatible',
] as const;
export type ProviderName = (typeof PROVIDERS)[number];

export interface CompletionRequest {
  /** The conversation. Either `messages` or `prompt` is required. */
  messages?: ChatMessage[];
  /** Shorthand for a single user message. */
  prompt?: string;
  /** Shorthand for a leading system message. */
  system?: string;
  temperature?: number;
  maxTokens?: number;
  topP?: number;
  stop?: string | string[];
  seed?: number;
  /** Overrides the client's model for this request. */
  model?: string;
  /** Cancels the request, including any backoff wait between attempts. */
  signal?: AbortSignal;
  /** Per-attempt timeout for this request; overrides the client's `timeoutMs`. */
  timeoutMs?: number;
  /** Extra HTTP headers for this request. */
  headers?: Record<string, string>;
  /** Per-request cache control, when the client has a cache. */
  cache?: CacheControl;
  /** Tools the model may call. */
  tools?: ToolDefinition[];
  /** Whether and which tool the model must call. Default `auto` when `tools` are given. */
  toolChoice?: ToolChoice;
  /** `false` asks for at most one tool call per turn (OpenAI, Azure, Anthropic; a warning elsewhere). */
  parallelToolCalls?: boolean;
  /** The shape of the answer: text (default), any JSON, or JSON that validates against a schema. */
  responseFormat?: ResponseFormat;
  /** Ask the model to reason (think) before answering, and how much. */
  reasoning?: ReasoningOptions;
  /**
   * Provider-native fields, keyed by provider name: `{ anthropic: { top_k: 5 }, openai: { user: 'u1' } }`.
   * Each adapter merges only its own entry into the body, so one request can carry options for several
   * providers (and survive a fallback from one to another). An entry never overwrites a field this request
   * defines (`messages`, `tools`, `temperature`, …): a conflicting key is an `LLMBadRequestError`.
   */
  providerOptions?: ProviderOptions;
}

/** Provider-native request fields, keyed by provider name. */
export type ProviderOptions = { [provider in ProviderName]?: Record<string, unknown> };

/** Options that `generateCompletion(prompt, options)` accepts: the request without the conversation. */
export type GenerateOptions = Omit<CompletionRequest, 'messages' | 'prompt'>;

export type FinishReason = 'stop' | 'length' | 'content-filter' | 'tool-calls' | 'error' | 'other';

export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
  /** Input tokens served from the provider's prompt cache, when it reports them. */
  cachedInputTokens?: number;
  /** Output tokens spent on hidden reasoning, when the provider reports them. */
  reasoningTokens?: number;
  /** Input tokens written to the provider's prompt cache (Anthropic, Bedrock), when reported. */
  cacheWriteInputTokens?: number;
  /**
   * What the call cost in US dollars, from the bundled price table (input, cached input, cache writes and
   * output priced separately). Undefined when the model's price is unknown: never a guessed number.
   */
  costUsd?: number;
}

export interface CompletionResult {
  /** The answer's text: its text parts joined. */
  text: string;
  /**
   * The assistant message, every part in order (reasoning, text, tool calls) with the provider's opaque
   * state: append it to `messages` unchanged for the next turn.
   */
  message: ResultMessage;
  /** The tool calls the model made, in order (empty when none). */
  toolCalls: ToolCall[];
  /** The model's reasoning text, when the provider returns it. */
  reasoning?: string;
  /** The model's refusal, when it refused (OpenAI `message.refusal`, Anthropic `stop_reason: refusal`). */
  refusal?: string;
  /** What the adapter could not carry over exactly (a dropped schema keyword, an ignored setting). */
  warnings?: Warning[];
  finishReason: FinishReason;
  /** The provider's own finish reason, unmapped (e.g. `end_turn`, `content_filter`). */
  rawFinishReason?: string;
  usage: Usage;
  /** The model that answered, as the provider reports it (often a dated snapshot). */
  model: string;
  /** The provider's id for this completion. */
  id: string;
  provider: ProviderName;
  /** The request id from the provider's response headers, when given. */
  requestId?: string;
  /** True when the result was served from the response cache (no provider call was made). */
  cached?: boolean;
  /** Which deployment answered and what was tried before it, when a router made the call. */
  route?: RouteInfo;
  /** The decoded response body, untouched. */
  raw: unknown;
}

/** What a router did for one call: the deployment that answered and every attempt, in start order. */
export interface RouteInfo {
  /** The id of the deployment whose answer this is (for an error: the last one tried). */
  deployment: string;
  attempts: RouteAttempt[];
}

/** One deployment a router sent the call to. */
export interface RouteAttempt {
  deployment: string;
  /** Milliseconds from this attempt's start to its answer (a stream's first event), failure or cancellation. */
  ms: number;
  /** Why the attempt failed; absent when it answered or was cancelled. */
  error?: { code: LLMErrorCode; message: string; status?: number };
  /** Sent as a hedge: the earlier attempt had not answered in time. */
  hedge?: boolean;
  /**
   * Cancelled because another attempt answered first. The provider may still bill it: `costUsd` is its
   * estimated prompt cost (a lower bound), when the model's price is known.
   */
  cancelled?: boolean;
  costUsd?: number;
}

export interface TextDeltaEvent {
  type: 'text-delta';
  text: string;
}

export interface ReasoningDeltaEvent {
  type: 'reasoning-delta';
  text: string;
  /**
   * The reasoning block's signature (Anthropic's, and Claude's on Bedrock), when the provider has sent it:
   * once per block, at its end, with empty `text`. The finished message carries it too; a stream re-written
   * for another client (the gateway's Anthropic stream) needs it before the block closes.
   */
  signature?: string;
}

export interface ToolCallDeltaEvent {
  type: 'tool-call-delta';
  /** Position of the call in this response; deltas of one call share it. */
  index: number;
  id?: string;
  name?: string;
  argumentsDelta: string;
}

/** One complete tool call, emitted when the provider signals that the call ended. */
export interface ToolCallEvent extends ToolCall {
  type: 'tool-call';
  /** The same position as the call's `tool-call-delta` events. */
  index: number;
}

export interface FinishEvent {
  type: 'finish';
  finishReason: FinishReason;
  rawFinishReason?: string;
  usage: Usage;
  model?: string;
  id?: string;
  requestId?: string;
  /** True when the stream was replayed from the response cache. */
  cached?: boolean;
  /** The whole assistant message, as `result.message` of a completion. */
  message: ResultMessage;
  /** The model's refusal, when it refused. */
  refusal?: string;
  warnings?: Warning[];
  /** Which deployment answered and what was tried before it, when a router made the call. */
  route?: RouteInfo;
}

export type StreamEvent =
  | TextDeltaEvent
  | ReasoningDeltaEvent
  | ToolCallDeltaEvent
  | ToolCallEvent
  | FinishEvent;

/** What embedded texts are: search queries, or the documents they search. */
export type EmbeddingInputType = 'query' | 'document';
export const EMBEDDING_INPUT_TYPES: readonly EmbeddingInputType[] = ['query', 'document'];

export interface EmbeddingOptions {
  /** Overrides the client's embedding model. */
  model?: string;
  /** Output dimensions, for models that can shorten their vectors. */
  dimensions?: number;
  /**
   * What the texts are, where the provider embeds search queries and the documents searched differently:
   * Cohere on Bedrock `input_type` (`search_query` / `search_document`; `search_document` when unset),
   * Gemini `taskType` (`RETRIEVAL_QUERY` / `RETRIEVAL_DOCUMENT`; none when unset). OpenAI, Azure,
   * OpenAI-compatible servers, Ollama and Titan have no such field and ignore it.
   */
  inputType?: EmbeddingInputType;
  /** Inputs per request; defaults to the provider's per-request limit. */
  batchSize?: number;
  /** Requests in flight at once. Default 4. */
  concurrency?: number;
  signal?: AbortSignal;
  /** Called after each batch with the number of inputs done so far and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Per-call cache control, when the client has a cache. */
  cache?: CacheControl;
}

/** Per-request cache control. */
export interface CacheControl {
  /** Look in the cache first. Default true. */
  read?: boolean;
  /** Store the answer. Default true. */
  write?: boolean;
  /** Time to live for what this request stores, overriding the cache's `ttlMs`. */
  ttlMs?: number;
}

export const EMPTY_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });
