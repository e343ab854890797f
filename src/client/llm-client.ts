/**
 * The client: a provider adapter at the core, the configured middleware layers around it (retry always,
 * with only the rate limiter inside it; the order is in `layers.ts`), and the public methods every provider
 * shares.
 */
import { createHash } from 'node:crypto';
import type { Dispatcher } from 'undici';
import { DEFAULT_MAX_EVENT_BYTES } from '../http/frames.ts';
import { DEFAULT_RETRY, type RetryOptions } from '../http/retry.ts';
import { acquirePool, DEFAULT_MAX_RESPONSE_BYTES } from '../http/transport.ts';
import { retryMiddleware } from '../middleware/retry.ts';
import { type CallInfo, type Chain, compose, type Middleware, type Operation } from '../middleware/types.ts';
import type {
  ForwardedResponse,
  ModelCapabilities,
  NativeCall,
  NormalizedRequest,
  ProviderAdapter,
  RequestTokenCount,
  ResolvedProvider,
  WireProtocol,
} from '../providers/provider.ts';
import { LLMBadRequestError, LLMError, LLMUnsupportedError } from '../spec/errors.ts';
import type {
  CompletionRequest,
  CompletionResult,
  EmbeddingOptions,
  EmbeddingsResult,
  GenerateOptions,
  ProviderName,
  StreamEvent,
  Usage,
} from '../spec/types.ts';
import { ProviderCore } from './core.ts';
import { planBatches, runSlidingWindow, validateEmbeddingOptions, validateTexts } from './embeddings.ts';
import { layersFor } from './layers.ts';
import { hasUrlMedia, inlineMedia, type MediaDownloadOptions } from './media-download.ts';
import type { ClientOptions } from './options.ts';
import { completionText, normalizeRequest } from './request.ts';
import {
  generateObject,
  type ObjectRequest,
  type ObjectResult,
  type ObjectStreamEvent,
  streamObject,
} from './structured-output.ts';
import { type RunToolsRequest, type RunToolsResult, runTools } from './tool-loop.ts';
import { sumUsage } from './usage.ts';

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_EMBEDDING_CONCURRENCY = 4;

export class LLMClient {
  readonly provider: ProviderName;
  readonly model: string;
  readonly embeddingModel: string | undefined;
  readonly #adapter: ProviderAdapter;
  readonly #core: ProviderCore;
  readonly #chain: Chain;
  readonly #layers: readonly Middleware[];
  readonly #release: () => Promise<void>;
  readonly #deadlineMs: number | undefined;
  readonly #credentialHash: string;
  readonly #mediaDownload: MediaDownloadOptions | false;
  #closed = false;

  constructor(resolved: ResolvedProvider, options: ClientOptions = {}) {
    this.#adapter = resolved.adapter;
    this.provider = resolved.adapter.name;
    this.model = resolved.model;
    this.embeddingModel = resolved.embeddingModel;
    this.#deadlineMs = options.deadlineMs;
    this.#mediaDownload = options.mediaDownload ?? {};
    // The origin too: keyless clients of two different servers must not share a cache namespace.
    this.#credentialHash = createHash('sha256')
      .update(resolved.adapter.origin)
      .update('\0')
      .update(resolved.secrets.join('\0'))
      .digest('hex')
      .slice(0, 16);
    let dispatcher: Dispatcher;
    if (options.dispatcher) {
      dispatcher = options.dispatcher;
      this.#release = async () => {};
    } else {
      const pool = acquirePool(resolved.adapter.origin, options.pool);
      dispatcher = pool.pool;
      this.#release = pool.release;
    }
    this.#core = new ProviderCore({
      adapter: resolved.adapter,
      dispatcher,
      secrets: resolved.secrets,
      timeoutMs: options.timeoutMs,
      idleTimeoutMs: options.streamIdleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      maxEventBytes: options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    });
    const retry: RetryOptions = {
      ...DEFAULT_RETRY,
      ...options.retry,
      maxRetries: options.maxRetries ?? DEFAULT_RETRY.maxRetries,
    };
    const { layers, inner, retryObserver } = layersFor(options, resolved.adapter);
    this.#layers = [...layers, retryMiddleware(retry, retryObserver), ...inner];
    this.#chain = compose(this.#layers, this.#core.chain());
  }

  /** One completion. Transient failures are retried under the client's policy. */
  complete(request: CompletionRequest): Promise<CompletionResult> {
    try {
      this.#checkOpen();
      const normalized = normalizeRequest(request, this.model);
      const call = this.#call('complete', normalized.model, request);
      if (!hasUrlMedia(normalized)) return this.#chain.complete(normalized, call);
      const capabilities = this.#adapter.capabilities(normalized.model);
      return this.#inline(normalized, capabilities, request.signal).then((inlined) =>
        this.#chain.complete(inlined, call),
      );
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Sends a body of one of this provider's own wire protocols as it is (the model and the credentials are the
   * client's) and returns the provider's response unread: what a gateway does when its client speaks the
   * provider's protocol. Retried like any call until the response starts; a non-2xx status is a typed error.
   */
  forward(
    native: Omit<NativeCall, 'model'> & { model?: string; signal?: AbortSignal; timeoutMs?: number },
  ): Promise<ForwardedResponse> {
    try {
      this.#checkOpen();
      const { signal, timeoutMs, ...call } = native;
      const model =
        call.model ??
        (call.protocol === 'openai-embeddings' ? (this.embeddingModel ?? this.model) : this.model);
      return this.#chain.forward({ ...call, model }, this.#call('forward', model, { signal, timeoutMs }));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /** True when this client's provider speaks `protocol` natively (`forward` accepts it). */
  speaks(protocol: WireProtocol): boolean {
    return (
      this.#adapter.nativeRequest?.({ protocol, body: {}, model: this.model, stream: false }) !== undefined
    );
  }

  /** What `model` (default: this client's) can do, as far as the adapter knows. */
  capabilities(model: string = this.model): ModelCapabilities {
    return this.#adapter.capabilities(model);
  }

  /**
   * An answer that validates against `schema` (JSON Schema or a Standard Schema such as zod): native
   * structured output where the model has it, else a forced tool call. Throws `LLMOutputValidationError`
   * (with the text and the issues), `LLMRefusalError` or `LLMOutputTruncatedError`.
   */
  generateObject<T = unknown>(request: ObjectRequest<T>): Promise<ObjectResult<T>> {
    return generateObject(this, request);
  }

  /** `generateObject` as a stream: partial objects as they grow, then the validated object. */
  streamObject<T = unknown>(
    request: ObjectRequest<T>,
  ): AsyncGenerator<ObjectStreamEvent<T>, void, undefined> {
    return streamObject(this, request);
  }

  /**
   * The tool loop: calls the model, runs the tools it asks for (parallel calls concurrently), sends the
   * results back, until it answers or `maxSteps` (default 8) calls were made.
   */
  runTools(request: RunToolsRequest): Promise<RunToolsResult> {
    return runTools(this, request);
  }

  #inline(
    request: NormalizedRequest,
    capabilities: ModelCapabilities,
    signal: AbortSignal | undefined,
  ): Promise<NormalizedRequest> {
    return inlineMedia(request, capabilities, this.#mediaDownload, {
      provider: this.provider,
      model: request.model,
      signal,
    });
  }

  /** The text of one completion for a single prompt (the seed's `generate_completion`). */
  generateCompletion(prompt: string, options: GenerateOptions = {}): Promise<string> {
    return completionText((request) => this.complete(request), prompt, options);
  }

  /**
   * Streams a completion as events: `text-delta`s (and `tool-call-delta`s), then one `finish` with the usage.
   * Failures before the first event are retried like `complete` (not a response that began and went silent:
   * the provider is generating); once output has been produced, a failure is thrown as a typed error and
   * never retried. Breaking out of the loop releases the connection.
   * An invalid request throws at once, before anything is sent.
   */
  stream(request: CompletionRequest): AsyncGenerator<StreamEvent, void, undefined> {
    this.#checkOpen();
    const normalized = normalizeRequest(request, this.model);
    const call = this.#call('stream', normalized.model, request);
    if (!hasUrlMedia(normalized)) return this.#chain.stream(normalized, call);
    const capabilities = this.#adapter.capabilities(normalized.model);
    const chain = this.#chain;
    const inlined = this.#inline(normalized, capabilities, request.signal);
    inlined.catch(() => {}); // observed below; never an unhandled rejection if the stream is not read
    return (async function* () {
      yield* chain.stream(await inlined, call);
    })();
  }

  /**
   * Embeddings for `texts`, in input order. Inputs are batched by the provider's per-request limits and
   * sent through a sliding window of `concurrency` requests; a failed batch is retried on its own.
   */
  async generateEmbeddings(texts: readonly string[], options: EmbeddingOptions = {}): Promise<number[][]> {
    return (await this.embed(texts, options)).embeddings;
  }

  /** `generateEmbeddings` with the tokens billed and their cost, summed over the batches. */
  async embed(texts: readonly string[], options: EmbeddingOptions = {}): Promise<EmbeddingsResult> {
    this.#checkOpen();
    const support = this.#adapter.embeddings;
    if (!support) {
      throw new LLMUnsupportedError(
        `${this.provider} has no embeddings API. ${this.#adapter.embeddingsUnsupported ?? ''}`.trim(),
        { provider: this.provider, model: this.model },
      );
    }
    validateTexts(texts);
    validateEmbeddingOptions(options);
    const model = options.model ?? this.embeddingModel;
    if (!model) {
      throw new LLMUnsupportedError(
        `${this.provider}: no embedding model configured; pass \`embeddingModel\` when creating the client`,
        { provider: this.provider },
      );
    }
    if (texts.length === 0) return { embeddings: [], usage: sumUsage([]), model };
    const vectors = new Array<number[]>(texts.length);
    // A batch whose response reported no count makes the whole call's usage unknown, not under-counted.
    const usages: Usage[] = [];
    let unreported = false;
    const batches = planBatches(texts, support.limits(model), options.batchSize, (text) =>
      this.#adapter.countTokens(text, model),
    );
    const call = this.#call('embed', model, options);
    let done = 0;
    await runSlidingWindow(
      batches,
      options.concurrency ?? DEFAULT_EMBEDDING_CONCURRENCY,
      async ({ start, end }) => {
        const result = await this.#chain.embed({ texts: texts.slice(start, end), model, options }, call);
        for (let i = 0; i < result.vectors.length; i++) vectors[start + i] = result.vectors[i]!;
        if (result.usage) usages.push(result.usage);
        else unreported = true;
        done += end - start;
        options.onProgress?.(done, texts.length);
      },
      options.signal,
    );
    return unreported
      ? { embeddings: vectors, model }
      : { embeddings: vectors, usage: sumUsage(usages), model };
  }

  /** Tokens in `text` for this client's model: exact for OpenAI encodings, an estimate elsewhere. */
  countTokens(text: string): number {
    if (typeof text !== 'string') throw new LLMBadRequestError('countTokens: `text` must be a string');
    return this.#adapter.countTokens(text, this.model);
  }

  /**
   * Input tokens of a whole request: through the provider's counting endpoint where it has one (exact; a
   * call like any other, through every layer as operation `count-tokens`), with its public tokenizer
   * (exact), or a labelled estimate (both local: no request, no layer).
   */
  async countRequestTokens(request: CompletionRequest): Promise<RequestTokenCount> {
    this.#checkOpen();
    const normalized = normalizeRequest(request, this.model);
    if (!this.#adapter.tokenCountEndpoint) return this.#adapter.countRequestTokensLocally(normalized);
    return this.#chain.countTokens(normalized, this.#call('count-tokens', normalized.model, request));
  }

  /** True when `text`'s token count is exact for this provider (false: an estimate). */
  get tokenCountExact(): boolean {
    return this.#adapter.tokenCountExact;
  }

  /** Releases this client's share of the connection pool and its layers' resources. Further calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#layers.map((layer) => layer.close?.()));
    await this.#release();
  }

  #checkOpen(): void {
    if (this.#closed)
      throw new LLMError(`This ${this.provider} client is closed`, { provider: this.provider });
  }

  #call(
    operation: Operation,
    model: string,
    request: { signal?: AbortSignal; timeoutMs?: number },
  ): CallInfo {
    return {
      provider: this.provider,
      model,
      operation,
      credentialHash: this.#credentialHash,
      signal: request.signal,
      timeoutMs: request.timeoutMs,
      deadlineAt: this.#deadlineMs === undefined ? undefined : Date.now() + this.#deadlineMs,
      attempt: 1,
    };
  }
}
