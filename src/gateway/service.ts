/**
 * What each endpoint does, between the HTTP plumbing (`server.ts`) and the router: authenticate, read and
 * check the body, reserve against the key's limits and budget, call the router (which picks a deployment,
 * falls back and cools down), answer in the client's protocol, settle the reservation with the real usage,
 * and leave a metric and an access-log line. A failure after a stream began is an in-band error event in
 * that protocol's format, never a clean end.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../middleware/logging.ts';
import type { Router } from '../router/router.ts';
import type { CompletionRequest, CompletionResult, StreamEvent, Usage } from '../spec/types.ts';
import { AnthropicEventWriter, fromAnthropicMessages, toAnthropicMessage } from './anthropic-wire.ts';
import { checkModel, type KeyAuth, type Principal } from './auth.ts';
import { type CachedAnswer, cacheDirectives, type GatewayCache } from './cache.ts';
import { anthropicErrorBody, GatewayError, openAIErrorBody, toGatewayError } from './errors.ts';
import { parseJson, presentedKey, readBody, SseResponse, sendJson } from './http.ts';
import { estimateChat, estimateEmbeddings, reserve, settle } from './limits.ts';
import { gatewayMetrics, recordRequest } from './metrics.ts';
import { fromOpenAIChat, OpenAIChunkWriter, toOpenAIChat } from './openai-wire.ts';
import { priced, SseTap, upstreamBodyError, usageOf } from './pass-through.ts';
import type { GatewayStore, LedgerEntry, Reservation } from './state/types.ts';
import { GatewayTracer } from './tracing.ts';
import { isRecord, type Json } from './validate-body.ts';

export type Protocol = 'openai' | 'anthropic';

export interface ServiceSettings {
  bodyLimitBytes: number;
  upstreamMaxBytes: number;
}

/** One request's bookkeeping, for the metric and the access-log line at its end. */
interface Exchange {
  id: string;
  endpoint: string;
  started: number;
  principal?: Principal;
  model: string;
  deployment?: string;
  usage?: Usage;
  status: number;
  stream: boolean;
  /** The client's protocol headers a pass-through keeps (`anthropic-version`, `anthropic-beta`). */
  protocolHeaders?: Record<string, string>;
  /** What the client's `cache-control` allows. */
  cacheControl?: { read: boolean; write: boolean };
  /** Served from the response cache. */
  cached?: boolean;
}

export class GatewayService {
  readonly #router: Router;
  readonly #store: GatewayStore;
  readonly #auth: KeyAuth;
  readonly #logger: Logger | undefined;
  readonly #settings: ServiceSettings;
  readonly #models: ReadonlySet<string>;
  readonly #cache: GatewayCache | undefined;
  readonly #tracer: GatewayTracer | undefined;

  constructor(
    router: Router,
    store: GatewayStore,
    auth: KeyAuth,
    settings: ServiceSettings,
    extras: { logger?: Logger | undefined; cache?: GatewayCache | undefined; tracing?: boolean } = {},
  ) {
    const { logger, cache } = extras;
    this.#cache = cache;
    this.#tracer = extras.tracing ? new GatewayTracer() : undefined;
    this.#router = router;
    this.#store = store;
    this.#auth = auth;
    this.#settings = settings;
    this.#logger = logger;
    this.#models = new Set(router.models());
  }

  get auth(): KeyAuth {
    return this.#auth;
  }

  /** `POST /v1/chat/completions`. */
  chatCompletions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, 'openai', 'chat.completions', async (exchange, body) => {
      const call = fromOpenAIChat(body);
      return this.#chat(exchange, res, 'openai', call.request, call.stream, call.includeUsage, body as Json);
    });
  }

  /** `POST /v1/messages`. */
  messages(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, 'anthropic', 'messages', async (exchange, body) => {
      const call = fromAnthropicMessages(body);
      return this.#chat(exchange, res, 'anthropic', call.request, call.stream, false, body as Json);
    });
  }

  /** `POST /v1/messages/count_tokens`. */
  countTokens(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, 'anthropic', 'messages.count_tokens', async (exchange, body) => {
      const withMax = isRecord(body) ? { max_tokens: 1, ...body } : body;
      const { request } = fromAnthropicMessages(withMax);
      this.#checkModel(exchange, request.model);
      if (this.#router.speaks(request.model, 'anthropic-count-tokens')) {
        const { response } = await this.#router.forward({
          model: request.model,
          protocol: 'anthropic-count-tokens',
          body: body as Json,
          stream: false,
          headers: exchange.protocolHeaders,
        });
        const bytes = Buffer.from(response.whole!.text);
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': bytes.length,
          'x-request-id': exchange.id,
        });
        res.end(bytes);
        return;
      }
      const count = await this.#router.countRequestTokens(request);
      sendJson(res, 200, { input_tokens: count.inputTokens });
    });
  }

  /** `POST /v1/embeddings`. */
  embeddings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, 'openai', 'embeddings', async (exchange, body) => {
      if (!isRecord(body))
        throw new GatewayError(
          400,
          'invalid_request_error',
          'Invalid request: the body must be a JSON object',
        );
      const input = body.input;
      const texts =
        typeof input === 'string'
          ? [input]
          : Array.isArray(input) && input.every((t) => typeof t === 'string')
            ? (input as string[])
            : undefined;
      if (!texts || texts.length === 0) {
        throw new GatewayError(
          400,
          'invalid_request_error',
          'Invalid request: input: must be a string or a non-empty array of strings',
        );
      }
      if (typeof body.model !== 'string' || body.model === '') {
        throw new GatewayError(
          400,
          'invalid_request_error',
          'Invalid request: model: must be a non-empty string',
        );
      }
      const { dimensions } = body;
      if (
        dimensions !== undefined &&
        dimensions !== null &&
        !(Number.isSafeInteger(dimensions) && (dimensions as number) > 0)
      ) {
        throw new GatewayError(
          400,
          'invalid_request_error',
          'Invalid request: dimensions: must be a positive integer',
        );
      }
      const model = body.model;
      this.#checkModel(exchange, model);
      const reservation = await this.#reserve(
        exchange,
        estimateEmbeddings(this.#keyId(exchange), exchange.id, texts),
      );
      let entry: LedgerEntry | undefined;
      try {
        const options: Parameters<Router['generateEmbeddings']>[1] = { model };
        if (typeof body.dimensions === 'number') options.dimensions = body.dimensions;
        const vectors = await this.#router.generateEmbeddings(texts, options);
        const tokens = reservation?.tokens ?? estimateEmbeddings('', '', texts).tokens;
        exchange.usage = { inputTokens: tokens, outputTokens: 0, totalTokens: tokens };
        entry = this.#ledger(exchange);
        const base64 = body.encoding_format === 'base64';
        sendJson(res, 200, {
          object: 'list',
          data: vectors.map((vector, index) => ({
            object: 'embedding',
            index,
            embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
          })),
          model,
          usage: { prompt_tokens: tokens, total_tokens: tokens },
        });
      } finally {
        await settle(this.#store, exchange.principal!, reservation, entry);
      }
    });
  }

  /** `GET /v1/models`: every group alias and deployment id this key may use. */
  listModels(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(
      req,
      res,
      'openai',
      'models',
      async (exchange) => {
        const principal = exchange.principal!;
        const allowed = principal.kind === 'key' ? principal.record.models : undefined;
        const created = Math.floor(Date.now() / 1000);
        const data = [...this.#models]
          .filter((model) => !allowed || allowed.includes(model))
          .map((id) => ({ id, object: 'model', created, owned_by: 'llm-factory' }));
        sendJson(res, 200, { object: 'list', data });
      },
      false,
    );
  }

  #keyId(exchange: Exchange): string {
    const principal = exchange.principal!;
    return principal.kind === 'key' ? principal.record.id : 'master';
  }

  #checkModel(exchange: Exchange, model: string | undefined): void {
    if (!model)
      throw new GatewayError(
        400,
        'invalid_request_error',
        'Invalid request: model: must be a non-empty string',
      );
    // Only a model this gateway serves names the request's metric series: any other string a client sends
    // would be a new series, kept for the life of the process.
    if (!this.#models.has(model)) {
      throw new GatewayError(
        404,
        'not_found_error',
        `The model '${model}' does not exist on this gateway (GET /v1/models lists them)`,
        {
          code: 'model_not_found',
        },
      );
    }
    exchange.model = model;
    checkModel(exchange.principal!, model);
  }

  #reserve(exchange: Exchange, reservation: Reservation): Promise<Reservation | undefined> {
    return reserve(this.#store, exchange.principal!, reservation);
  }

  #ledger(exchange: Exchange): LedgerEntry | undefined {
    const principal = exchange.principal;
    if (principal?.kind !== 'key' || !exchange.usage) return undefined;
    return {
      keyId: principal.record.id,
      at: Date.now(),
      model: exchange.model,
      deployment: exchange.deployment,
      inputTokens: exchange.usage.inputTokens,
      outputTokens: exchange.usage.outputTokens,
      costUsd: exchange.usage.costUsd,
      requestId: exchange.id,
    };
  }

  async #chat(
    exchange: Exchange,
    res: ServerResponse,
    protocol: Protocol,
    request: CompletionRequest,
    stream: boolean,
    includeUsage: boolean,
    native: Json,
  ): Promise<void> {
    this.#checkModel(exchange, request.model);
    exchange.stream = stream;
    const cacheKey = this.#cache
      ? this.#cache.keyFor(this.#keyId(exchange), exchange.endpoint, native)
      : undefined;
    if (cacheKey && exchange.cacheControl?.read && (await this.#fromCache(exchange, res, cacheKey))) return;
    const reservation = await this.#reserve(
      exchange,
      estimateChat(this.#keyId(exchange), exchange.id, request, this.#router.pricedAs(request.model!)),
    );
    let entry: LedgerEntry | undefined;
    const store =
      cacheKey && exchange.cacheControl?.write
        ? (answer: CachedAnswer) => this.#cache!.set(cacheKey, answer)
        : undefined;
    try {
      if (this.#router.speaks(request.model, protocol === 'openai' ? 'openai-chat' : 'anthropic-messages')) {
        entry = await this.#passThrough(exchange, res, protocol, native, stream, includeUsage, store);
        return;
      }
      if (!stream) {
        const result = await this.#router.complete(request);
        this.#answered(exchange, result.usage, result.route?.deployment);
        entry = this.#ledger(exchange);
        const text = JSON.stringify(
          protocol === 'openai'
            ? toOpenAIChat(result, request.model!)
            : toAnthropicMessage(result, request.model!),
        );
        sendJson(res, 200, text, { 'x-request-id': exchange.id });
        await store?.({ kind: 'json', body: text });
        return;
      }
      entry = await this.#stream(exchange, res, protocol, request, includeUsage, store);
    } finally {
      await settle(this.#store, exchange.principal!, reservation, entry);
    }
  }

  /** Answers from the response cache; false on a miss. Nothing is reserved or charged for a hit. */
  async #fromCache(exchange: Exchange, res: ServerResponse, key: string): Promise<boolean> {
    const hit = await this.#cache!.get(key);
    if (!hit) return false;
    exchange.cached = true;
    const headers = { 'x-request-id': exchange.id, 'x-llmf-cache': 'hit' };
    if (hit.kind === 'json') {
      sendJson(res, 200, hit.body, headers);
      return true;
    }
    const sse = new SseResponse(res, headers);
    await sse.write(hit.body);
    sse.end();
    return true;
  }

  /** The body as it came, to a deployment of the same protocol; the answer as the provider sent it. */
  async #passThrough(
    exchange: Exchange,
    res: ServerResponse,
    protocol: Protocol,
    body: Json,
    stream: boolean,
    includeUsage: boolean,
    store?: (answer: CachedAnswer) => Promise<void>,
  ): Promise<LedgerEntry | undefined> {
    const controller = new AbortController();
    const onClose = () => controller.abort();
    res.once('close', onClose);
    try {
      const { response, deployment } = await this.#router.forward({
        model: exchange.model,
        protocol: protocol === 'openai' ? 'openai-chat' : 'anthropic-messages',
        body,
        stream,
        headers: exchange.protocolHeaders,
        signal: controller.signal,
      });
      exchange.deployment = deployment.id;
      const headers: Record<string, string> = { 'x-request-id': exchange.id };
      if (response.requestId) headers['x-upstream-request-id'] = response.requestId;
      if (!stream) {
        // The library read the whole answer inside the attempt (a broken or non-JSON one fell back).
        const whole = response.whole!;
        const bytes = Buffer.from(whole.text);
        if (bytes.length > this.#settings.upstreamMaxBytes) {
          throw new GatewayError(
            502,
            'upstream_error',
            `The provider's response is larger than ${this.#settings.upstreamMaxBytes} bytes (upstreamMaxBytes)`,
          );
        }
        const parsed = whole.json;
        const usage = usageOf(protocol, parsed);
        if (usage)
          this.#answered(
            exchange,
            priced(usage, deployment.provider, deployment.model, isRecord(parsed) ? parsed.model : undefined),
            deployment.id,
          );
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': bytes.length,
          ...headers,
        });
        res.end(bytes);
        if (store && usage) await store({ kind: 'json', body: whole.text });
        return this.#ledger(exchange);
      }
      const sse = new SseResponse(res, headers);
      exchange.status = 200;
      if (store) sse.record(this.#cache!.maxEntryBytes);
      const tap = new SseTap(protocol, includeUsage, this.#settings.upstreamMaxBytes);
      let complete = false;
      try {
        for await (const chunk of response.body) {
          if (sse.closed) break;
          await sse.write(tap.push(chunk as Uint8Array));
        }
        await sse.write(tap.end());
        // A stream that stops before its end marker, unless with an error of its own, is not a whole answer.
        if (!sse.closed && !tap.finished && !tap.failed) {
          throw new GatewayError(
            502,
            'upstream_error',
            `${deployment.provider}'s stream ended before its answer did (no ${protocol === 'openai' ? '[DONE]' : 'message_stop'})`,
          );
        }
        complete = !sse.closed && tap.finished;
      } catch (error) {
        // The provider's stream broke after it began: an in-band error, never a clean end.
        const failure = upstreamBodyError(error, deployment.provider);
        exchange.status = failure.status;
        await sse.write(
          protocol === 'openai'
            ? `data: ${JSON.stringify(openAIErrorBody(failure))}\n\n`
            : `event: error\ndata: ${JSON.stringify(anthropicErrorBody(failure))}\n\n`,
        );
      } finally {
        response.release();
        sse.end();
      }
      if (tap.usage)
        this.#answered(
          exchange,
          priced(tap.usage, deployment.provider, deployment.model, tap.model),
          deployment.id,
        );
      // Only a whole answer is kept: one that ended with its usage, neither cut short nor broken.
      const recorded = sse.recorded();
      if (store && complete && tap.usage && recorded) await store({ kind: 'sse', body: recorded });
      return this.#ledger(exchange);
    } finally {
      res.off('close', onClose);
    }
  }

  /** Streams the answer; an error before the first event is an ordinary error response, after it an in-band event. */
  async #stream(
    exchange: Exchange,
    res: ServerResponse,
    protocol: Protocol,
    request: CompletionRequest,
    includeUsage: boolean,
    store?: (answer: CachedAnswer) => Promise<void>,
  ): Promise<LedgerEntry | undefined> {
    const controller = new AbortController();
    const events = this.#router.stream({ ...request, signal: controller.signal });
    // The first event decides between an error response and a 200 stream.
    const first = await events.next();
    const id = protocol === 'openai' ? `chatcmpl-${exchange.id}` : `msg_${exchange.id}`;
    const writer =
      protocol === 'openai'
        ? new OpenAIChunkWriter(id, request.model!, includeUsage)
        : new AnthropicEventWriter(id, request.model!);
    const sse = new SseResponse(res, { 'x-request-id': exchange.id });
    exchange.status = 200;
    if (store) sse.record(this.#cache!.maxEntryBytes);
    const onClose = () => controller.abort();
    res.once('close', onClose);
    try {
      let finished = false;
      for (let step = first; !step.done; step = await events.next()) {
        const event: StreamEvent = step.value;
        if (sse.closed) break;
        if (event.type === 'finish') {
          finished = true;
          this.#answered(exchange, event.usage, event.route?.deployment);
        }
        await sse.write(writer.write(event));
      }
      const recorded = sse.recorded();
      if (store && finished && recorded && !sse.closed) await store({ kind: 'sse', body: recorded });
      return this.#ledger(exchange);
    } catch (error) {
      const failure = toGatewayError(error);
      exchange.status = failure.status;
      this.#logger?.warn({ requestId: exchange.id, error: failure.message }, 'stream failed after it began');
      await sse.write(
        writer.error(protocol === 'openai' ? openAIErrorBody(failure) : anthropicErrorBody(failure)),
      );
      return this.#ledger(exchange);
    } finally {
      res.off('close', onClose);
      await events.return(undefined).catch(() => {});
      sse.end();
    }
  }

  #answered(exchange: Exchange, usage: Usage, deployment: string | undefined): void {
    exchange.usage = usage;
    if (deployment !== undefined) exchange.deployment = deployment;
  }

  /** Authenticates, reads the body, runs `handler`, and answers any error in `protocol`'s shape. */
  async #handle(
    req: IncomingMessage,
    res: ServerResponse,
    protocol: Protocol,
    endpoint: string,
    handler: (exchange: Exchange, body: unknown) => Promise<void>,
    withBody = true,
  ): Promise<void> {
    const exchange: Exchange = {
      id: randomUUID().replace(/-/g, '').slice(0, 24),
      endpoint,
      started: performance.now(),
      model: '',
      status: 200,
      stream: false,
    };
    const inFlight = gatewayMetrics().inFlight;
    inFlight.inc({ endpoint });
    const span = this.#tracer?.start(req, endpoint);
    try {
      exchange.principal = await this.#auth.authenticate(presentedKey(req), Date.now());
      if (protocol === 'anthropic') exchange.protocolHeaders = anthropicHeaders(req);
      if (this.#cache) exchange.cacheControl = cacheDirectives(req);
      const body = withBody ? parseJson(await readBody(req, this.#settings.bodyLimitBytes)) : undefined;
      await (span ? span.within(() => handler(exchange, body)) : handler(exchange, body));
    } catch (error) {
      const failure = toGatewayError(error);
      exchange.status = protocol === 'anthropic' ? failure.anthropicStatus : failure.status;
      if (failure.status >= 500)
        this.#logger?.error({ requestId: exchange.id, error: failure.message }, 'request failed');
      if (!res.headersSent) {
        sendJson(
          res,
          exchange.status,
          protocol === 'openai' ? openAIErrorBody(failure) : anthropicErrorBody(failure),
          {
            ...failure.headers(),
            'x-request-id': exchange.id,
          },
        );
      } else if (!res.writableEnded) res.end();
      if (failure.status === 413 && !req.complete) req.destroy();
    } finally {
      inFlight.dec({ endpoint });
      const seconds = (performance.now() - exchange.started) / 1000;
      const key = exchange.principal?.name ?? 'anonymous';
      span?.end({
        status: exchange.status,
        model: exchange.model || undefined,
        deployment: exchange.deployment,
        key,
        cached: exchange.cached,
        inputTokens: exchange.usage?.inputTokens,
        outputTokens: exchange.usage?.outputTokens,
      });
      recordRequest(endpoint, exchange.model || 'none', key, exchange.status, seconds, exchange.usage);
      this.#logger?.info(
        {
          requestId: exchange.id,
          endpoint,
          status: exchange.status,
          ms: Math.round(seconds * 1000),
          key,
          model: exchange.model || undefined,
          deployment: exchange.deployment,
          stream: exchange.stream,
          cached: exchange.cached,
          inputTokens: exchange.usage?.inputTokens,
          outputTokens: exchange.usage?.outputTokens,
          costUsd: exchange.usage?.costUsd,
        },
        'request',
      );
    }
  }
}

/** The Anthropic protocol headers a client sent (the API version it speaks, the betas it asks for). */
function anthropicHeaders(req: IncomingMessage): Record<string, string> | undefined {
  const version = req.headers['anthropic-version'];
  const beta = req.headers['anthropic-beta'];
  if (typeof version !== 'string' && beta === undefined) return undefined;
  const headers: Record<string, string> = {};
  if (typeof version === 'string') headers['anthropic-version'] = version;
  if (beta !== undefined) headers['anthropic-beta'] = Array.isArray(beta) ? beta.join(',') : beta;
  return headers;
}

export type { CompletionResult };
