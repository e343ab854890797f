/**
 * The innermost link of every chain: one HTTP attempt against the provider, typed and scrubbed. Layers
 * (retry first) wrap these functions; nothing here retries, waits or records.
 */
import type { Dispatcher } from 'undici';
import type { StreamFrame } from '../http/frames.ts';
import { headerValue } from '../http/retry-timing.ts';
import { generationTimeoutMs, RESPONSE_START_TIMEOUT_MS } from '../http/timeouts.ts';
import { type HttpResponse, type PreparedRequest, send } from '../http/transport.ts';
import type { CallInfo, Chain, EmbedBatch, EmbedResult } from '../middleware/types.ts';
import { costOf } from '../pricing/pricing.ts';
import { invalidResponse } from '../providers/error-helpers.ts';
import type {
  CallContext,
  ForwardedResponse,
  NativeCall,
  NormalizedRequest,
  ProviderAdapter,
  RequestTokenCount,
} from '../providers/provider.ts';
import { isLLMError, LLMError, LLMUnsupportedError } from '../spec/errors.ts';
import { redact } from '../spec/redact.ts';
import type { CompletionResult, StreamEvent, Usage, Warning } from '../spec/types.ts';

export interface CoreSettings {
  adapter: ProviderAdapter;
  dispatcher: Dispatcher;
  secrets: readonly string[];
  /** The client's `timeoutMs`; undefined: each operation's default (`http/timeouts.ts`). */
  timeoutMs: number | undefined;
  idleTimeoutMs: number;
  /** Largest stream event (SSE event, NDJSON line, eventstream message), in bytes. */
  maxEventBytes: number;
  /** Largest non-streamed body, in bytes. */
  maxResponseBytes: number;
}

export class ProviderCore {
  readonly #adapter: ProviderAdapter;
  readonly #dispatcher: Dispatcher;
  readonly #secrets: readonly string[];
  readonly #timeoutMs: number | undefined;
  readonly #idleTimeoutMs: number;
  readonly #maxEventBytes: number;
  readonly #maxResponseBytes: number;

  constructor(settings: CoreSettings) {
    this.#adapter = settings.adapter;
    this.#dispatcher = settings.dispatcher;
    this.#secrets = settings.secrets;
    this.#timeoutMs = settings.timeoutMs;
    this.#idleTimeoutMs = settings.idleTimeoutMs;
    this.#maxEventBytes = settings.maxEventBytes;
    this.#maxResponseBytes = settings.maxResponseBytes;
  }

  /** The chain's innermost functions. */
  chain(): Chain {
    return {
      complete: (request, call) => this.complete(request, call),
      stream: (request, call) => this.stream(request, call),
      embed: (batch, call) => this.embed(batch, call),
      countTokens: (request, call) => this.countTokens(request, call),
      forward: (native, call) => this.forward(native, call),
    };
  }

  context(model: string): CallContext {
    return { provider: this.#adapter.name, model, secrets: this.#secrets };
  }

  async complete(request: NormalizedRequest, call: CallInfo): Promise<CompletionResult> {
    const prepared = this.#adapter.completionRequest(request, false);
    const result = await this.json(
      prepared,
      this.context(request.model),
      call,
      (body, context) => this.#adapter.parseCompletion(body, context),
      generationTimeoutMs(request.maxTokens),
    );
    this.#price(result.usage, result.model, request.model);
    if (prepared.warnings) result.warnings = withWarnings(prepared.warnings, result.warnings);
    return result;
  }

  /** Adds `costUsd`: priced by the model that answered, else the one asked for (an Azure deployment). */
  #price(usage: Usage, answered: string | undefined, requested: string): void {
    // No usage reported (old streams without include_usage): no cost either, rather than a false $0.
    if (usage.inputTokens === 0 && usage.outputTokens === 0) return;
    const cost =
      (answered ? costOf(this.#adapter.name, answered, usage) : undefined) ??
      (answered === requested ? undefined : costOf(this.#adapter.name, requested, usage));
    if (cost !== undefined) usage.costUsd = cost;
  }

  async embed(batch: EmbedBatch, call: CallInfo): Promise<EmbedResult> {
    const support = this.#adapter.embeddings!;
    const prepared = support.request(batch.texts, batch.model, batch.options);
    const result: EmbedResult = { vectors: [] };
    result.vectors = await this.json(prepared, this.context(batch.model), call, (body, context) => {
      if (context.requestId !== undefined) result.requestId = context.requestId;
      const usage = support.usage?.(body);
      if (usage) {
        this.#price(usage, batch.model, batch.model);
        result.usage = usage;
      }
      return support.parse(body, batch.texts.length, context);
    });
    return result;
  }

  /**
   * One native call: the body goes out as it is (the adapter sets the model and the credentials) and the
   * 2xx response comes back unread, for the caller to pass on. Another status is a typed error, as for any
   * call, so retries and a router's fallbacks work the same.
   */
  async forward(native: NativeCall, call: CallInfo): Promise<ForwardedResponse> {
    const prepared = this.#adapter.nativeRequest?.(native);
    if (!prepared) {
      throw new LLMUnsupportedError(`${this.#adapter.name} does not speak the ${native.protocol} protocol`, {
        provider: this.#adapter.name,
        model: native.model,
      });
    }
    const context = this.context(native.model);
    const generation = native.protocol === 'openai-chat' || native.protocol === 'anthropic-messages';
    const maxTokens = native.body.max_completion_tokens ?? native.body.max_tokens;
    const defaultTimeout =
      generation && !native.stream
        ? generationTimeoutMs(typeof maxTokens === 'number' ? maxTokens : undefined)
        : RESPONSE_START_TIMEOUT_MS;
    let response: HttpResponse | undefined;
    try {
      response = await this.#send(prepared, context, call, native.stream, defaultTimeout);
      const callContext = this.#responseContext(context, response);
      if (response.status >= 300) throw await this.#errorFrom(response, callContext);
      if (!native.stream) {
        const text = await response.text();
        const json = parseJson(text, callContext, response.status);
        return {
          status: response.status,
          headers: response.headers,
          body: once(Buffer.from(text)),
          requestId: callContext.requestId,
          whole: { text, json },
          release: () => {},
        };
      }
      const open = response;
      response = undefined;
      return {
        status: open.status,
        headers: open.headers,
        body: open.body,
        requestId: callContext.requestId,
        release: open.done,
      };
    } catch (caught) {
      throw this.scrub(isLLMError(caught) ? caught : this.#wrap(caught, context));
    } finally {
      response?.done();
    }
  }

  /** One call to the provider's token-counting endpoint (the client sends none where there is no endpoint). */
  async countTokens(request: NormalizedRequest, call: CallInfo): Promise<RequestTokenCount> {
    const endpoint = this.#adapter.tokenCountEndpoint;
    if (!endpoint) {
      throw new LLMUnsupportedError(`${this.#adapter.name} has no token-counting endpoint`, {
        provider: this.#adapter.name,
      });
    }
    const inputTokens = await this.json(
      endpoint.request(request),
      this.context(request.model),
      call,
      (body, context) => endpoint.parse(body, context),
    );
    return { inputTokens, exact: true, source: 'endpoint' };
  }

  /**
   * One streamed attempt. Events decoded before an error frame in the same network chunk are delivered
   * before the error is thrown, so nothing the server sent is lost.
   */
  async *stream(request: NormalizedRequest, call: CallInfo): AsyncGenerator<StreamEvent, void, undefined> {
    const prepared = this.#adapter.completionRequest(request, true);
    const context = this.context(request.model);
    let response: HttpResponse | undefined;
    try {
      response = await this.#send(prepared, context, call, true, RESPONSE_START_TIMEOUT_MS);
      const callContext = this.#responseContext(context, response);
      if (response.status >= 300) throw await this.#errorFrom(response, callContext);
      const parser = this.#adapter.createStreamParser(callContext);
      const decoder = this.#adapter.createStreamDecoder({
        maxEventBytes: this.#maxEventBytes,
        provider: callContext.provider,
        model: callContext.model,
        requestId: callContext.requestId,
      });
      const out: StreamEvent[] = [];
      let failure: unknown;
      const onFrame = (frame: StreamFrame) => {
        if (failure !== undefined) return;
        try {
          parser.onEvent(frame, out);
        } catch (error) {
          failure = error;
        }
      };
      let drainedBytes = 0;
      for await (const chunk of response.body) {
        // After the end marker, drain rather than break: breaking destroys the body, and Node builds an
        // AbortError with a stack for it on every stream (measured: a third of a short stream's cost).
        // But only up to one event's worth: a server that keeps sending would never let the stream end.
        if (parser.done) {
          drainedBytes += (chunk as Uint8Array).byteLength;
          if (drainedBytes > this.#maxEventBytes) break;
          continue;
        }
        try {
          decoder.push(chunk as Uint8Array, onFrame);
        } catch (error) {
          // Corruption (retryable) is thrown at once, so that an attempt with no output yet is retried
          // cleanly; a final error (a frame over the limit) lets through what the chunk completed first.
          if (!isLLMError(error) || error.retryable) throw error;
          failure ??= error;
        }
        if (out.length > 0) {
          for (let i = 0; i < out.length; i++) yield out[i]!;
          out.length = 0;
        }
        if (failure !== undefined) throw failure;
      }
      if (!parser.done) {
        try {
          decoder.end(onFrame);
        } catch (error) {
          failure ??= error;
        }
      }
      for (const event of out) yield event;
      if (failure !== undefined) throw failure;
      const finish = parser.finish();
      this.#price(finish.usage, finish.model, request.model);
      if (prepared.warnings) finish.warnings = withWarnings(prepared.warnings, finish.warnings);
      yield finish;
    } catch (caught) {
      throw this.scrub(
        isLLMError(caught) ? caught : response ? response.classify(caught) : this.#wrap(caught, context),
      );
    } finally {
      response?.done();
    }
  }

  /**
   * One non-streaming attempt whose 2xx body is JSON. `defaultTimeoutMs` applies when neither the call
   * nor the client sets a timeout.
   */
  async json<T>(
    prepared: PreparedRequest,
    context: CallContext,
    call: CallInfo,
    parse: (body: unknown, context: CallContext) => T,
    defaultTimeoutMs = RESPONSE_START_TIMEOUT_MS,
  ): Promise<T> {
    let response: HttpResponse | undefined;
    try {
      response = await this.#send(prepared, context, call, false, defaultTimeoutMs);
      const callContext = this.#responseContext(context, response);
      if (response.status >= 300) throw await this.#errorFrom(response, callContext);
      return parse(parseJson(await response.text(), callContext, response.status), callContext);
    } catch (caught) {
      throw this.scrub(isLLMError(caught) ? caught : this.#wrap(caught, context));
    } finally {
      response?.done();
    }
  }

  /** Errors leave with no secret in message, body or stack. */
  scrub(error: LLMError): LLMError {
    if (this.#secrets.length === 0) return error;
    const message = redact(error.message, this.#secrets);
    if (message !== error.message) {
      error.message = message;
      if (error.stack) error.stack = redact(error.stack, this.#secrets);
    }
    return error;
  }

  async #send(
    prepared: PreparedRequest,
    context: CallContext,
    call: CallInfo,
    stream: boolean,
    defaultTimeoutMs: number,
  ): Promise<HttpResponse> {
    const request = this.#adapter.authorize ? await this.#adapter.authorize(prepared) : prepared;
    const response = await send(this.#dispatcher, request, {
      timeoutMs: call.timeoutMs ?? this.#timeoutMs ?? defaultTimeoutMs,
      idleTimeoutMs: this.#idleTimeoutMs,
      maxResponseBytes: this.#maxResponseBytes,
      signal: call.signal,
      deadlineAt: call.deadlineAt,
      stream,
      context: { provider: context.provider, model: context.model },
    });
    call.onHeaders?.(response.headers);
    return response;
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

  /** The context once the response has started: its status, and its request id when a header carries one. */
  #responseContext(context: CallContext, response: HttpResponse): CallContext {
    const known: CallContext = { ...context, status: response.status };
    for (const name of this.#adapter.requestIdHeaders) {
      const id = headerValue(response.headers, name);
      if (id) {
        known.requestId = redact(id, this.#secrets);
        break;
      }
    }
    return known;
  }

  #wrap(error: unknown, context: CallContext): LLMError {
    return new LLMError(`${context.provider} request failed: ${(error as Error)?.message ?? String(error)}`, {
      provider: context.provider,
      model: context.model,
      cause: error,
    });
  }
}

/** The request's warnings first, then the response's. */
function withWarnings(request: readonly Warning[], response: readonly Warning[] | undefined): Warning[] {
  return response ? [...request, ...response] : [...request];
}

/** A 2xx body as JSON, or an invalid-response error (retryable: another attempt may answer properly). */
function parseJson(text: string, context: CallContext, status: number): unknown {
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw invalidResponse(context, `returned a ${status} response that is not JSON (${text.length} bytes)`, {
      body: text,
      cause,
    });
  }
}

async function* once(bytes: Uint8Array): AsyncGenerator<Uint8Array> {
  yield bytes;
}
