/**
 * The middleware model. Every cross-cutting concern (retry, rate limits, cache, metrics, tracing, logs)
 * is a layer of the same shape: it may wrap `complete`, `stream`, one embeddings batch and a call to a
 * provider's token-counting endpoint, and may change the request on its way down. The client composes the configured layers once, at creation; a layer
 * that is not configured is not in the chain and costs nothing.
 */
import type {
  ForwardedResponse,
  NativeCall,
  NormalizedRequest,
  RequestTokenCount,
} from '../providers/provider.ts';
import type { CompletionResult, EmbeddingOptions, ProviderName, StreamEvent, Usage } from '../spec/types.ts';

/** What a call does; `count-tokens` is a request to a provider's counting endpoint (`countRequestTokens`). */
export type Operation = 'complete' | 'stream' | 'embed' | 'count-tokens' | 'forward';

/** What a layer knows about the call it wraps. Layers pass it on (possibly changed) to `next`. */
export interface CallInfo {
  provider: ProviderName;
  model: string;
  operation: Operation;
  /** A SHA-256 fingerprint of the credential (never the credential), for per-tenant namespaces. */
  credentialHash: string;
  signal?: AbortSignal | undefined;
  /** Per-attempt timeout for this call, when the request overrides the client's. */
  timeoutMs?: number | undefined;
  /** Epoch ms after which the whole call is over. */
  deadlineAt?: number | undefined;
  /** 1 for the first attempt; set by the retry layer. */
  attempt: number;
  /** Called with each response's headers as soon as they arrive (rate-limit feedback). */
  onHeaders?: ((headers: Record<string, string | string[] | undefined>) => void) | undefined;
}

/** One embeddings request's worth of inputs. */
export interface EmbedBatch {
  texts: readonly string[];
  model: string;
  options: EmbeddingOptions;
}

export interface EmbedResult {
  vectors: number[][];
  /** Tokens billed for the batch, when the provider reports them. */
  usage?: Usage;
  /** The request id from the provider's response headers, when given. */
  requestId?: string;
}

export type CompleteNext = (request: NormalizedRequest, call: CallInfo) => Promise<CompletionResult>;
export type StreamNext = (
  request: NormalizedRequest,
  call: CallInfo,
) => AsyncGenerator<StreamEvent, void, undefined>;
export type EmbedNext = (batch: EmbedBatch, call: CallInfo) => Promise<EmbedResult>;
export type CountTokensNext = (request: NormalizedRequest, call: CallInfo) => Promise<RequestTokenCount>;
export type ForwardNext = (native: NativeCall, call: CallInfo) => Promise<ForwardedResponse>;

export interface Middleware {
  readonly name: string;
  complete?(request: NormalizedRequest, call: CallInfo, next: CompleteNext): Promise<CompletionResult>;
  stream?(
    request: NormalizedRequest,
    call: CallInfo,
    next: StreamNext,
  ): AsyncGenerator<StreamEvent, void, undefined>;
  embed?(batch: EmbedBatch, call: CallInfo, next: EmbedNext): Promise<EmbedResult>;
  countTokens?(request: NormalizedRequest, call: CallInfo, next: CountTokensNext): Promise<RequestTokenCount>;
  /** A native body passed through untranslated (operation `forward`): retry and rate limits wrap it. */
  forward?(native: NativeCall, call: CallInfo, next: ForwardNext): Promise<ForwardedResponse>;
  /** Releases what the layer holds (connections to a cache server, timers). */
  close?(): Promise<void>;
}

export interface Chain {
  complete: CompleteNext;
  stream: StreamNext;
  embed: EmbedNext;
  countTokens: CountTokensNext;
  forward: ForwardNext;
}

/** Composes `layers` (outermost first) around `core`, once. */
export function compose(layers: readonly Middleware[], core: Chain): Chain {
  let chain = core;
  for (let i = layers.length - 1; i >= 0; i--) {
    const layer = layers[i]!;
    const inner = chain;
    chain = {
      complete: layer.complete
        ? (request, call) => layer.complete!(request, call, inner.complete)
        : inner.complete,
      stream: layer.stream ? (request, call) => layer.stream!(request, call, inner.stream) : inner.stream,
      embed: layer.embed ? (batch, call) => layer.embed!(batch, call, inner.embed) : inner.embed,
      countTokens: layer.countTokens
        ? (request, call) => layer.countTokens!(request, call, inner.countTokens)
        : inner.countTokens,
      forward: layer.forward ? (native, call) => layer.forward!(native, call, inner.forward) : inner.forward,
    };
  }
  return chain;
}
