/**
 * What a provider is: a set of pure translations between our vocabulary and one wire protocol, plus how
 * it is configured. A provider builds one HTTP request and reads one response; it never retries, sleeps,
 * caches, logs or counts — the client composes those around it, the same way for every provider.
 *
 * Every provider folder has the same files: `config.ts` (options and environment → adapter), `request.ts`,
 * `response.ts`, `stream.ts`, `errors.ts`, `index.ts` (the adapter), plus `embeddings.ts` where the
 * provider has embeddings, and a `fixtures.test.ts` fed by the recorded payloads.
 */
import type { FrameDecoder, FrameDecoderOptions, StreamFrame } from '../http/frames.ts';
import type { HeaderMap } from '../http/retry-timing.ts';
import type { PreparedRequest } from '../http/transport.ts';
import type { LLMError } from '../spec/errors.ts';
import type {
  CompletionRequest,
  CompletionResult,
  EmbeddingOptions,
  FinishEvent,
  ProviderName,
  StreamEvent,
  Usage,
  Warning,
} from '../spec/types.ts';
import type { NormalizedConversation } from './normalized.ts';

export type Env = Readonly<Record<string, string | undefined>>;

export interface CallContext {
  provider: ProviderName;
  model: string;
  /** Secrets the client holds, scrubbed from every error message and body. */
  secrets: readonly string[];
  /** From the response headers, once known. */
  requestId?: string | undefined;
  /** The response's HTTP status, once known: what an error found inside a 2xx response reports as `status`. */
  status?: number | undefined;
}

export interface ErrorResponse {
  status: number;
  headers: HeaderMap;
  bodyText: string;
}

/**
 * A request after validation: `messages` always set and in parts (see `normalized.ts`), shorthands folded
 * in, schemas converted to JSON Schema, media inline or at a URL the provider fetches itself.
 */
export interface NormalizedRequest
  extends Omit<CompletionRequest, 'prompt' | 'system' | keyof NormalizedConversation>,
    NormalizedConversation {
  model: string;
}

/** A completion request ready to send, with what the adapter could not carry over exactly. */
export interface PreparedCompletion extends PreparedRequest {
  warnings?: Warning[] | undefined;
}

/** What a model can do, as far as the adapter knows (decides structured output's strategy, downloads). */
export interface ModelCapabilities {
  /** `responseFormat: json-schema` is sent natively (constrained or instructed JSON). */
  structuredOutput: boolean;
  /** `toolChoice: 'required'` and `{ type: 'tool' }` exist. */
  forcedToolChoice: boolean;
  /** A forced tool choice may be combined with `reasoning` (Anthropic and Bedrock Claude: no). */
  forcedToolChoiceWithReasoning: boolean;
  /** The provider fetches `https:` images itself (else the client downloads and inlines them). */
  imageUrls: boolean;
  /** The provider fetches `https:` files (PDFs) itself. */
  fileUrls: boolean;
}

export interface StreamParser {
  /** Consumes one frame and appends what it means to `out`. Throws a typed error for an error frame. */
  onEvent(frame: StreamFrame, out: StreamEvent[]): void;
  /** True once the provider has signalled the end of the stream. */
  readonly done: boolean;
  /** The closing event, once the body has ended; throws when the stream was cut short. */
  finish(): FinishEvent;
}

export interface EmbeddingLimits {
  /** Most inputs in one request. */
  maxInputs: number;
  /** Most tokens summed over one request's inputs, when the provider has such a limit. */
  maxTokensPerRequest?: number;
}

export interface EmbeddingSupport {
  /** Per-request limits for this embedding model. */
  limits(model: string): EmbeddingLimits;
  request(texts: readonly string[], model: string, options: EmbeddingOptions): PreparedRequest;
  /** Vectors in input order; throws `LLMInvalidResponseError` for a body of the wrong shape. */
  parse(body: unknown, expected: number, context: CallContext): number[][];
  /** The tokens the batch was billed, when the response says. */
  usage?(body: unknown): Usage | undefined;
}

/** How many input tokens a request takes, and how that number was obtained. */
export interface RequestTokenCount {
  inputTokens: number;
  /** True when the count is the provider's own (its tokenizer or its counting endpoint). */
  exact: boolean;
  source: 'tokenizer' | 'endpoint' | 'estimate';
}

export interface TokenCountEndpoint {
  request(request: NormalizedRequest): PreparedRequest;
  parse(body: unknown, context: CallContext): number;
}

/**
 * A provider's own wire protocol, for a body passed through untranslated (the gateway, when a client speaks
 * the same protocol as the deployment that answers).
 */
export type WireProtocol =
  | 'openai-chat'
  | 'openai-embeddings'
  | 'anthropic-messages'
  | 'anthropic-count-tokens';

/** A native body to send as it is, but for the model (the deployment's) and the credentials (the adapter's). */
export interface NativeCall {
  protocol: WireProtocol;
  body: Record<string, unknown>;
  model: string;
  stream: boolean;
  /** Protocol headers of the caller's to keep (`anthropic-version`, `anthropic-beta`); never credentials. */
  headers?: Record<string, string> | undefined;
}

/** A provider's raw response to a native call: 2xx only (other statuses are thrown as typed errors). */
export interface ForwardedResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  /** The body as it arrives, untouched; read it to its end or call `release()`. */
  body: AsyncIterable<Uint8Array>;
  /** The request id from the response headers, when given. */
  requestId?: string | undefined;
  /**
   * A whole (not streamed) answer, read and checked to be JSON inside the attempt, so that an answer that
   * breaks, stalls or is not JSON after its headers is retried and falls back like any failed call: its text
   * (also what `body` yields) and its parsed value.
   */
  whole?: { text: string; json: unknown } | undefined;
  /** Releases the connection (destroying an unread body). Idempotent. */
  release(): void;
}

export interface ProviderAdapter {
  readonly name: ProviderName;
  /** The origin every request of this adapter goes to (one shared pool per origin). */
  readonly origin: string;
  /** Response header names that carry the request id, in order of preference. */
  readonly requestIdHeaders: readonly string[];

  /**
   * The wire request. Throws `LLMUnsupportedError` (naming provider, model and feature) for what the
   * provider or model cannot do, before anything is sent.
   */
  completionRequest(request: NormalizedRequest, stream: boolean): PreparedCompletion;
  /** What `model` can do. */
  capabilities(model: string): ModelCapabilities;
  parseCompletion(body: unknown, context: CallContext): CompletionResult;
  /** A new decoder for one streamed body (SSE, NDJSON or AWS eventstream), with its limit and context. */
  createStreamDecoder(options?: FrameDecoderOptions): FrameDecoder;
  createStreamParser(context: CallContext): StreamParser;

  /**
   * The request for a native body of one of this provider's own protocols (model and credentials set, the
   * body otherwise untouched), or undefined for a protocol it does not speak.
   */
  nativeRequest?(call: NativeCall): PreparedRequest | undefined;

  /** Runs before every attempt (SigV4 signs with the attempt's own time). */
  authorize?(request: PreparedRequest): Promise<PreparedRequest>;

  /** Absent when the provider has no embeddings; `embeddingsUnsupported` then says where to go. */
  readonly embeddings?: EmbeddingSupport;
  readonly embeddingsUnsupported?: string;

  /** Maps a non-2xx response to a typed error; never throws. */
  mapError(response: ErrorResponse, context: CallContext): LLMError;

  /** Tokens in `text`: exact where the tokenizer is public, an estimate elsewhere (`tokenCountExact`). */
  countTokens(text: string, model: string): number;
  /** True when `countTokens` is exact for the client's model (false: an estimate). */
  readonly tokenCountExact: boolean;
  /** The provider's counting endpoint, when it has one. */
  readonly tokenCountEndpoint?: TokenCountEndpoint;
  /** A local count of a whole request (used when there is no endpoint). */
  countRequestTokensLocally(request: NormalizedRequest): RequestTokenCount;
}

/** What a provider's `config.ts` reads: the client options that concern providers. */
export interface ProviderInput {
  model?: string | undefined;
  apiKey?: string | undefined;
  baseURL?: string | undefined;
  embeddingModel?: string | undefined;
  headers: Record<string, string>;
  organization?: string | undefined;
  project?: string | undefined;
  endpoint?: string | undefined;
  apiVersion?: string | undefined;
  azureADToken?: string | undefined;
  region?: string | undefined;
  credentials?: AwsCredentials | undefined;
}

/** The AWS SDK's names for a credential set. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

export interface ResolvedProvider {
  adapter: ProviderAdapter;
  model: string;
  embeddingModel: string | undefined;
  /** Credentials this client holds, scrubbed from every error. */
  secrets: string[];
}

/** A provider's `config.ts` export: options and environment → a configured adapter, or a helpful error. */
export type ProviderFactory = (input: ProviderInput, env: Env) => ResolvedProvider;
