/**
 * What each endpoint does, between the HTTP plumbing (`server.ts`) and the router: authenticate, read and
 * check the body, reserve against the key's limits and budget, call the router (which picks a deployment,
 * falls back and cools down), answer in the client's protocol, settle the reservation with the real usage,
 * and leave a metric and an access-log line. A failure after a stream began is an in-band error event in
 * that protocol's format, never a clean end.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { type Logger, levelEnabled } from '../middleware/logging.ts';
import type { Router } from '../router/router.ts';
import type { CompletionRequest, CompletionResult } from '../spec/types.ts';
import { type AnswerContext, passThroughAnswer, streamAnswer } from './answers.ts';
import { toAnthropicMessage } from './anthropic-answer.ts';
import { fromAnthropicMessages } from './anthropic-wire.ts';
import { checkModel, type KeyAuth } from './auth.ts';
import { type CachedAnswer, cacheDirectives, type GatewayCache } from './cache.ts';
import { anthropicErrorBody, GatewayError, openAIErrorBody, toGatewayError } from './errors.ts';
import { answered, chargeCutShort, type Exchange, ledgerEntry, type Protocol } from './exchange.ts';
import { parseJson, presentedKey, readBody, SseResponse, sendJson } from './http.ts';
import { estimateChat, estimateEmbeddings, promptTokens, reserve, settle } from './limits.ts';
import { gatewayMetrics, recordRequest } from './metrics.ts';
import { fromOpenAIChat, toOpenAIChat } from './openai-wire.ts';
import type { GatewayStore, LedgerEntry, Reservation } from './state/types.ts';
import { GatewayTracer } from './tracing.ts';
import {
  embeddingsRequest,
  isRecord,
  type Json,
  passThroughCall,
  refuseUntranslatable,
} from './validate-body.ts';

export interface ServiceSettings {
  bodyLimitBytes: number;
  upstreamMaxBytes: number;
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
  readonly #answering: AnswerContext;

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
    this.#answering = {
      router,
      upstreamMaxBytes: settings.upstreamMaxBytes,
      cacheMaxEntryBytes: cache?.maxEntryBytes ?? 0,
      logger,
    };
  }

  get auth(): KeyAuth {
    return this.#auth;
  }

  /** `POST /v1/chat/completions`. */
  chatCompletions(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, 'openai', 'chat.completions', async (exchange, body) => {
      const passThrough = this.#passesThrough(body, 'openai-chat');
      const call = passThrough
        ? orPassThrough(() => fromOpenAIChat(body), 'openai', body)
        : fromOpenAIChat(body);
      return this.#chat(exchange, res, 'openai', call, body as Json, passThrough);
    });
  }

  /** `POST /v1/messages`. */
  messages(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, 'anthropic', 'messages', async (exchange, body) => {
      const passThrough = this.#passesThrough(body, 'anthropic-messages');
      const call = passThrough
        ? orPassThrough(() => fromAnthropicMessages(body), 'anthropic', body)
        : { ...fromAnthropicMessages(body), includeUsage: false };
      return this.#chat(exchange, res, 'anthropic', call, body as Json, passThrough);
    });
  }

  /** `POST /v1/messages/count_tokens`. */
  countTokens(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, 'anthropic', 'messages.count_tokens', async (exchange, body) => {
      const withMax = isRecord(body) ? { max_tokens: 1, ...body } : body;
      const { request } = fromAnthropicMessages(withMax);
      this.#checkModel(exchange, request.model);
      // Free at the provider, but a request to it all the same: it counts against the key's rpm.
      const reservation = await this.#reserve(exchange, {
        keyId: this.#keyId(exchange),
        requestId: exchange.id,
        at: Date.now(),
        tokens: 0,
        costUsd: 0,
      });
      try {
        await this.#countTokens(exchange, res, request, body as Json);
      } finally {
        await settle(this.#store, exchange.principal!, reservation, undefined);
      }
    });
  }

  /** Anthropic's own count when the deployment speaks its protocol, else the router's. */
  async #countTokens(exchange: Exchange, res: ServerResponse, request: CompletionRequest, body: Json) {
    if (this.#router.speaks(request.model, 'anthropic-count-tokens')) {
      const { response } = await this.#router.forward({
        model: request.model,
        protocol: 'anthropic-count-tokens',
        body,
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
  }

  /** `POST /v1/embeddings`. */
  embeddings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, 'openai', 'embeddings', async (exchange, body) => {
      const { texts, model, dimensions, base64 } = embeddingsRequest(body);
      this.#checkModel(exchange, model);
      const reservation = await this.#reserve(
        exchange,
        estimateEmbeddings(this.#keyId(exchange), exchange.id, texts),
      );
      let entry: LedgerEntry | undefined;
      try {
        const options: Parameters<Router['generateEmbeddings']>[1] = { model };
        if (dimensions !== undefined) options.dimensions = dimensions;
        const result = await this.#router.embed(texts, options);
        // The provider's own count and price when it reports them (OpenAI, Azure, Cohere on Bedrock); the
        // reservation's estimate, unpriced, when it reports none (Gemini, Titan, Ollama).
        let usage = result.usage;
        if (!usage) {
          const tokens = reservation?.tokens ?? estimateEmbeddings('', '', texts).tokens;
          usage = { inputTokens: tokens, outputTokens: 0, totalTokens: tokens };
        }
        answered(exchange, usage, result.route?.deployment);
        entry = ledgerEntry(exchange);
        const vectors = result.embeddings;
        sendJson(res, 200, {
          object: 'list',
          data: vectors.map((vector, index) => ({
            object: 'embedding',
            index,
            embedding: base64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
          })),
          model,
          usage: { prompt_tokens: usage.inputTokens, total_tokens: usage.inputTokens },
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

  /** The body names a model whose every deployment speaks `protocol`: it will pass through untranslated. */
  #passesThrough(body: unknown, protocol: 'openai-chat' | 'anthropic-messages'): boolean {
    const model = isRecord(body) ? body.model : undefined;
    return typeof model === 'string' && this.#models.has(model) && this.#router.speaks(model, protocol);
  }

  #reserve(exchange: Exchange, reservation: Reservation): Promise<Reservation | undefined> {
    return reserve(this.#store, exchange.principal!, reservation);
  }

  async #chat(
    exchange: Exchange,
    res: ServerResponse,
    protocol: Protocol,
    call: { request: CompletionRequest; stream: boolean; includeUsage: boolean },
    native: Json,
    passThrough: boolean,
  ): Promise<void> {
    const { request, stream, includeUsage } = call;
    this.#checkModel(exchange, request.model);
    exchange.stream = stream;
    const cacheKey = this.#cache
      ? this.#cache.keyFor(this.#keyId(exchange), exchange.endpoint, native)
      : undefined;
    if (cacheKey && exchange.cacheControl?.read && (await this.#fromCache(exchange, res, cacheKey))) return;
    exchange.pricedAs = this.#router.pricedAs(request.model!);
    exchange.promptTokens = promptTokens(request);
    const reservation = await this.#reserve(
      exchange,
      estimateChat(this.#keyId(exchange), exchange.id, request, exchange.pricedAs, exchange.promptTokens),
    );
    const store =
      cacheKey && exchange.cacheControl?.write
        ? (answer: CachedAnswer) => this.#cache!.set(cacheKey, answer)
        : undefined;
    try {
      if (passThrough) {
        await passThroughAnswer(
          this.#answering,
          exchange,
          res,
          protocol,
          native,
          stream,
          includeUsage,
          store,
        );
        return;
      }
      refuseUntranslatable(protocol, native, request.model!);
      if (!stream) {
        const result = await this.#router.complete(request);
        answered(exchange, result.usage, result.route?.deployment);
        exchange.complete = true;
        const text = JSON.stringify(
          protocol === 'openai'
            ? toOpenAIChat(result, request.model!)
            : toAnthropicMessage(result, request.model!),
        );
        sendJson(res, 200, text, { 'x-request-id': exchange.id });
        await store?.({ kind: 'json', body: text });
        return;
      }
      await streamAnswer(this.#answering, exchange, res, protocol, request, includeUsage, store);
    } finally {
      chargeCutShort(exchange);
      await settle(this.#store, exchange.principal!, reservation, ledgerEntry(exchange));
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
      // The access line's fields are built only when the logger writes info.
      if (levelEnabled(this.#logger, 'info')) {
        this.#logger.info(
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
}

/** The Anthropic protocol headers a client sent (the API version it speaks, the betas it asks for). */
/**
 * The body read as the translation reads it, whose estimate of the prompt is the closer one; if translation
 * could not carry it, read only as far as a pass-through needs (`passThroughCall`), for the provider to judge.
 */
function orPassThrough(
  translated: () => { request: CompletionRequest; stream: boolean; includeUsage?: boolean },
  protocol: Protocol,
  body: unknown,
): { request: CompletionRequest; stream: boolean; includeUsage: boolean } {
  try {
    const call = translated();
    return { ...call, includeUsage: call.includeUsage ?? false };
  } catch (error) {
    if (!(error instanceof GatewayError) || error.status !== 400) throw error;
    return passThroughCall(protocol, body);
  }
}

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
