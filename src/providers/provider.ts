/**
 * What a provider is: a set of pure translations between our vocabulary and one wire protocol. A provider
 * builds one HTTP request and reads one response; it never retries, sleeps, caches, logs or counts — the
 * client composes those around it, the same way for every provider.
 */
import type { HeaderMap } from '../http/retry-timing.ts';
import type { SseEvent } from '../http/sse.ts';
import type { PreparedRequest } from '../http/transport.ts';
import type { LLMError } from '../spec/errors.ts';
import type {
  ChatMessage,
  CompletionRequest,
  CompletionResult,
  EmbeddingOptions,
  FinishEvent,
  ProviderName,
  StreamEvent,
} from '../spec/types.ts';

export interface CallContext {
  provider: ProviderName;
  model: string;
  /** Secrets the client holds, scrubbed from every error message and body. */
  secrets: readonly string[];
  /** From the response headers, once known. */
  requestId?: string | undefined;
}

export interface ErrorResponse {
  status: number;
  headers: HeaderMap;
  bodyText: string;
}

/** A request after validation: `messages` always set, shorthands folded in. */
export interface NormalizedRequest extends Omit<CompletionRequest, 'prompt' | 'system' | 'messages'> {
  messages: ChatMessage[];
  model: string;
}

export interface StreamParser {
  /** Consumes one SSE event and appends what it means to `out`. Throws a typed error for an error event. */
  onEvent(event: SseEvent, out: StreamEvent[]): void;
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

export interface ProviderAdapter {
  readonly name: ProviderName;
  /** The origin every request of this adapter goes to (one shared pool per origin). */
  readonly origin: string;
  readonly embeddingLimits: EmbeddingLimits;
  /** Header names the requests carry (for the request id). */
  readonly requestIdHeaders: readonly string[];

  completionRequest(request: NormalizedRequest, stream: boolean): PreparedRequest;
  parseCompletion(body: unknown, context: CallContext): CompletionResult;
  createStreamParser(context: CallContext): StreamParser;

  embeddingRequest(texts: readonly string[], model: string, options: EmbeddingOptions): PreparedRequest;
  parseEmbeddings(body: unknown, expected: number, context: CallContext): number[][];

  /** Maps a non-2xx response to a typed error; never throws. */
  mapError(response: ErrorResponse, context: CallContext): LLMError;

  countTokens(text: string, model: string): number;
}
