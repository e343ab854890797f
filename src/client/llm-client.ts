/**
 * The client: one provider adapter composed with the shared transport and the retry policy. Every
 * provider gets the same timeouts, retries, error typing and secret scrubbing from here.
 */
import type { Dispatcher } from 'undici';
import { sleep } from '../http/abort.ts';
import type { StreamFrame } from '../http/frames.ts';
import { DEFAULT_RETRY, finalizeError, type RetryOptions, retryDelayMs, withRetry } from '../http/retry.ts';
import { headerValue } from '../http/retry-timing.ts';
import { acquirePool, type HttpResponse, type PreparedRequest, send } from '../http/transport.ts';
import type {
  CallContext,
  ProviderAdapter,
  RequestTokenCount,
  ResolvedProvider,
} from '../providers/provider.ts';
import { isLLMError, LLMError, LLMInvalidResponseError, LLMUnsupportedError } from '../spec/errors.ts';
import { redact } from '../spec/redact.ts';
import type {
  CompletionRequest,
  CompletionResult,
  EmbeddingOptions,
  GenerateOptions,
  ProviderName,
  StreamEvent,
} from '../spec/types.ts';
import { planBatches, runSlidingWindow, validateTexts } from './embeddings.ts';
import type { ClientOptions } from './options.ts';
import { normalizeRequest } from './request.ts';

const DEFAULT_TIMEOUT_MS = 60_000;
const DEFAULT_IDLE_TIMEOUT_MS = 30_000;
const DEFAULT_EMBEDDING_CONCURRENCY = 4;

interface CallOptions {
  signal?: AbortSignal | undefined;
  timeoutMs?: number | undefined;
}

export class LLMClient {
  readonly provider: ProviderName;
  readonly model: string;
  readonly embeddingModel: string | undefined;
  readonly #adapter: ProviderAdapter;
  readonly #secrets: readonly string[];
  readonly #dispatcher: Dispatcher;
  readonly #release: () => Promise<void>;
  readonly #retry: RetryOptions;
  readonly #timeoutMs: number;
  readonly #idleTimeoutMs: number;
  readonly #deadlineMs: number | undefined;
  #closed = false;

  constructor(resolved: ResolvedProvider, options: ClientOptions = {}) {
    this.#adapter = resolved.adapter;
    this.provider = resolved.adapter.name;
    this.model = resolved.model;
    this.embeddingModel = resolved.embeddingModel;
    this.#secrets = resolved.secrets;
    this.#retry = {
      ...DEFAULT_RETRY,
      ...options.retry,
      maxRetries: options.maxRetries ?? DEFAULT_RETRY.maxRetries,
    };
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#idleTimeoutMs = options.streamIdleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#deadlineMs = options.deadlineMs;
    if (options.dispatcher) {
      this.#dispatcher = options.dispatcher;
      this.#release = async () => {};
    } else {
      const { pool, release } = acquirePool(resolved.adapter.origin, options.pool);
      this.#dispatcher = pool;
      this.#release = release;
    }
  }

  /** One completion. Retries transient failures under the client's policy. */
  async complete(request: CompletionRequest): Promise<CompletionResult> {
    this.#checkOpen();
    const normalized = normalizeRequest(request, this.model);
    const prepared = this.#adapter.completionRequest(normalized, false);
    const context = this.#context(normalized.model);
    return this.#withRetry(request, (call) =>
      this.#json(prepared, context, call, (body, ctx) => this.#adapter.parseCompletion(body, ctx)),
    );
  }

  /** The text of one completion for a single prompt (the seed's `generate_completion`). */
  async generateCompletion(prompt: string, options: GenerateOptions = {}): Promise<string> {
    if (typeof prompt !== 'string')
      throw new LLMInvalidResponseError('generateCompletion: `prompt` must be a string');
    const result = await this.complete({ ...options, prompt });
    return result.text;
  }

  /**
   * Streams a completion as events: `text-delta`s (and `tool-call-delta`s), then one `finish` with the usage.
   * Failures before the first event are retried like `complete`; once output has been produced, a failure
   * is thrown as a typed error and never retried (the caller has already seen part of the answer).
   * Breaking out of the loop releases the connection.
   */
  async *stream(request: CompletionRequest): AsyncGenerator<StreamEvent, void, undefined> {
    this.#checkOpen();
    const normalized = normalizeRequest(request, this.model);
    const prepared = this.#adapter.completionRequest(normalized, true);
    const context = this.#context(normalized.model);
    const deadlineAt = this.#deadlineAt();
    const history: LLMError[] = [];
    for (let attempt = 1; ; attempt++) {
      let produced = false;
      let response: HttpResponse | undefined;
      try {
        response = await this.#send(prepared, context, request, deadlineAt, true);
        const callContext = this.#withRequestId(context, response);
        if (response.status >= 300) throw await this.#errorFrom(response, callContext);
        const parser = this.#adapter.createStreamParser(callContext);
        const decoder = this.#adapter.createStreamDecoder();
        const out: StreamEvent[] = [];
        // An error event is held until the events decoded before it in the same chunk are delivered.
        let failure: unknown;
        const onEvent = (event: StreamFrame) => {
          if (failure !== undefined) return;
          try {
            parser.onEvent(event, out);
          } catch (error) {
            failure = error;
          }
        };
        for await (const chunk of response.body) {
          decoder.push(chunk as Uint8Array, onEvent);
          if (out.length > 0) {
            produced = true;
            for (let i = 0; i < out.length; i++) yield out[i]!;
            out.length = 0;
          }
          if (failure !== undefined) throw failure;
          if (parser.done) break;
        }
        if (!parser.done) decoder.end(onEvent);
        if (out.length > 0) produced = true;
        for (const event of out) yield event;
        if (failure !== undefined) throw failure;
        yield parser.finish();
        return;
      } catch (caught) {
        const error = this.#scrub(
          isLLMError(caught)
            ? caught
            : response
              ? response.classify(caught)
              : this.#toLLMError(caught, context),
        );
        history.push(error);
        const delay = produced ? undefined : retryDelayMs(error, attempt, this.#retry, deadlineAt);
        if (delay === undefined) throw finalizeError(error, attempt, history);
        await sleep(delay, request.signal);
      } finally {
        response?.done();
      }
    }
  }

  /**
   * Embeddings for `texts`, in input order. Inputs are batched by the provider's per-request limits and
   * sent with bounded concurrency; a failed batch is retried on its own.
   */
  async generateEmbeddings(texts: readonly string[], options: EmbeddingOptions = {}): Promise<number[][]> {
    this.#checkOpen();
    const support = this.#adapter.embeddings;
    if (!support) {
      throw new LLMUnsupportedError(
        `${this.provider} has no embeddings API. ${this.#adapter.embeddingsUnsupported ?? ''}`.trim(),
        { provider: this.provider, model: this.model },
      );
    }
    validateTexts(texts);
    const model = options.model ?? this.embeddingModel;
    if (!model) {
      throw new LLMUnsupportedError(
        `${this.provider}: no embedding model configured; pass \`embeddingModel\` when creating the client`,
        { provider: this.provider },
      );
    }
    if (texts.length === 0) return [];
    const context = this.#context(model);
    const vectors = new Array<number[]>(texts.length);
    const batches = planBatches(texts, support.limits(model), options.batchSize, (text) =>
      this.#adapter.countTokens(text, model),
    );
    await runSlidingWindow(
      batches,
      options.concurrency ?? DEFAULT_EMBEDDING_CONCURRENCY,
      async ({ start, end }) => {
        const slice = texts.slice(start, end);
        const prepared = support.request(slice, model, options);
        const result = await this.#withRetry(options, (call) =>
          this.#json(prepared, context, call, (body, ctx) => support.parse(body, slice.length, ctx)),
        );
        for (let i = 0; i < result.length; i++) vectors[start + i] = result[i]!;
      },
      options.signal,
    );
    return vectors;
  }

  /**
   * Input tokens of a whole request: through the provider's counting endpoint where it has one (exact),
   * with its public tokenizer (exact), or a labelled estimate.
   */
  async countRequestTokens(request: CompletionRequest): Promise<RequestTokenCount> {
    this.#checkOpen();
    const normalized = normalizeRequest(request, this.model);
    const endpoint = this.#adapter.tokenCountEndpoint;
    if (!endpoint) return this.#adapter.countRequestTokensLocally(normalized);
    const prepared = endpoint.request(normalized);
    const context = this.#context(normalized.model);
    const inputTokens = await this.#withRetry(request, (call) =>
      this.#json(prepared, context, call, (body, ctx) => endpoint.parse(body, ctx)),
    );
    return { inputTokens, exact: true, source: 'endpoint' };
  }

  /** Tokens in `text` for this client's model (exact for OpenAI encodings). */
  countTokens(text: string): number {
    if (typeof text !== 'string') throw new LLMInvalidResponseError('countTokens: `text` must be a string');
    return this.#adapter.countTokens(text, this.model);
  }

  /** Releases this client's share of the connection pool. Further calls fail. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#release();
  }

  // ——— internals ———

  #checkOpen(): void {
    if (this.#closed)
      throw new LLMError(`This ${this.provider} client is closed`, { provider: this.provider });
  }

  #context(model: string): CallContext {
    return { provider: this.provider, model, secrets: this.#secrets };
  }

  #deadlineAt(): number | undefined {
    return this.#deadlineMs === undefined ? undefined : Date.now() + this.#deadlineMs;
  }

  #withRetry<T>(
    call: CallOptions,
    operation: (call: CallOptions & { deadlineAt?: number }) => Promise<T>,
  ): Promise<T> {
    const deadlineAt = this.#deadlineAt();
    const attemptCall = { ...call, deadlineAt };
    return withRetry(
      async () => {
        try {
          return await operation(attemptCall as CallOptions & { deadlineAt?: number });
        } catch (error) {
          throw isLLMError(error) ? this.#scrub(error) : error;
        }
      },
      this.#retry,
      { signal: call.signal, deadlineAt },
    );
  }

  async #send(
    prepared: PreparedRequest,
    context: CallContext,
    call: CallOptions,
    deadlineAt: number | undefined,
    stream: boolean,
  ): Promise<HttpResponse> {
    const request = this.#adapter.authorize ? await this.#adapter.authorize(prepared) : prepared;
    return send(this.#dispatcher, request, {
      timeoutMs: call.timeoutMs ?? this.#timeoutMs,
      idleTimeoutMs: this.#idleTimeoutMs,
      signal: call.signal,
      deadlineAt,
      stream,
      context: { provider: context.provider, model: context.model },
    });
  }

  async #json<T>(
    prepared: PreparedRequest,
    context: CallContext,
    call: CallOptions & { deadlineAt?: number },
    parse: (body: unknown, context: CallContext) => T,
  ): Promise<T> {
    const response = await this.#send(prepared, context, call, call.deadlineAt, false);
    const callContext = this.#withRequestId(context, response);
    try {
      if (response.status >= 300) throw await this.#errorFrom(response, callContext);
      const text = await response.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch (cause) {
        throw new LLMInvalidResponseError(
          `${context.provider} returned a ${response.status} response that is not JSON (${text.length} bytes)`,
          { ...callContext, status: response.status, body: text.slice(0, 4096), retryable: true, cause },
        );
      }
      return parse(body, callContext);
    } finally {
      response.done();
    }
  }

  async #errorFrom(response: HttpResponse, context: CallContext): Promise<LLMError> {
    let bodyText = '';
    try {
      bodyText = await response.text();
    } catch {
      // The status says enough; a body we could not read stays empty.
    }
    return this.#adapter.mapError({ status: response.status, headers: response.headers, bodyText }, context);
  }

  #withRequestId(context: CallContext, response: HttpResponse): CallContext {
    for (const name of this.#adapter.requestIdHeaders) {
      const id = headerValue(response.headers, name);
      if (id) return { ...context, requestId: redact(id, this.#secrets) };
    }
    return context;
  }

  #toLLMError(error: unknown, context: CallContext): LLMError {
    if (isLLMError(error)) return error;
    return new LLMError(`${context.provider} request failed: ${(error as Error)?.message ?? String(error)}`, {
      provider: context.provider,
      model: context.model,
      cause: error,
    });
  }

  /** Errors leave with no secret in message, body or stack. */
  #scrub(error: LLMError): LLMError {
    if (this.#secrets.length === 0) return error;
    const message = redact(error.message, this.#secrets);
    if (message !== error.message) {
      error.message = message;
      if (error.stack) error.stack = redact(error.stack, this.#secrets);
    }
    return error;
  }
}
