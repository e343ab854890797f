/**
 * `startGateway({ config, port?, host? })`: the gateway's HTTP server. A fixed route table on `node:http`,
 * the service behind it, `/health`, `/ready` and `/metrics`, and a graceful shutdown: stop accepting,
 * let in-flight requests and streams finish within `drainTimeoutMs`, then close what is left.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from '../middleware/logging.ts';
import { metricsText } from '../middleware/metrics.ts';
import { createRouter, type Router } from '../router/router.ts';
import { AdminApi } from './admin.ts';
import { KeyAuth } from './auth.ts';
import { GatewayCache } from './cache.ts';
import type { GatewayConfig } from './config.ts';
import { errorBodyFor, GatewayError, inBandError, openAIErrorBody } from './errors.ts';
import { answerUnparsable, requestPathOf, sendJson, sendText, sseResponses } from './http.ts';
import { InFlight } from './in-flight.ts';
import { GatewayService } from './service.ts';
import { openGatewayStore } from './state/index.ts';
import type { GatewayStore } from './state/types.ts';

export interface GatewayOptions {
  config: GatewayConfig;
  /** Default 4000; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** A pino-compatible logger for JSON access logs. Default: silent. */
  logger?: Logger;
}

export interface Gateway {
  url: string;
  port: number;
  router: Router;
  store: GatewayStore;
  /** Stops accepting, drains in-flight requests within `drainTimeoutMs`, then closes. */
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, parameter?: string) => Promise<void> | void;

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const { config } = options;
  const store =
    config.state.kind === 'redis'
      ? await openGatewayStore(config.state.url, { prefix: `${config.state.prefix}gw:` })
      : await openGatewayStore(config.state.path);
  const router = createRouter({
    ...config.router,
    // Answers read by the deployments' clients (translated, not passed through) obey the same limit. And the
    // gateway fetches no URL a client names (an image for a provider that cannot fetch it): from inside the
    // network it would reach what the client cannot (cloud metadata, internal services). A config may opt in.
    defaults: {
      maxResponseBytes: config.server.upstreamMaxBytes,
      mediaDownload: false,
      ...config.router.defaults,
    },
    metrics: true,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const auth = new KeyAuth(store, config.masterKey, config.server.keyCacheMs);
  const cache = config.cache ? await GatewayCache.open(config.state, config.cache) : undefined;
  const service = new GatewayService(router, store, auth, config.server, {
    logger: options.logger,
    cache,
    tracing: Boolean(config.router.tracing),
  });
  const admin = new AdminApi(store, auth, config.server.bodyLimitBytes, options.logger);

  const routes = new Map<string, Handler>([
    ['POST /v1/chat/completions', (req, res) => service.chatCompletions(req, res)],
    ['POST /v1/embeddings', (req, res) => service.embeddings(req, res)],
    ['GET /v1/models', (req, res) => service.listModels(req, res)],
    ['POST /v1/messages', (req, res) => service.messages(req, res)],
    ['POST /v1/messages/count_tokens', (req, res) => service.countTokens(req, res)],
    ['GET /health', (_req, res) => sendJson(res, 200, { status: 'ok' })],
    [
      'GET /ready',
      async (_req, res) => {
        const ready = await store.ping().then(
          () => true,
          () => false,
        );
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'state store unreachable' });
      },
    ],
    [
      'GET /metrics',
      async (_req, res) => sendText(res, 200, await metricsText(), 'text/plain; version=0.0.4'),
    ],
    ['POST /admin/keys', (req, res) => admin.create(req, res)],
    ['GET /admin/keys', (req, res) => admin.list(req, res)],
  ]);
  const withId = new Map<string, Handler>([
    ['DELETE /admin/keys/', (req, res, id) => admin.revoke(req, res, id!)],
    ['GET /admin/keys/', (req, res, id) => admin.spend(req, res, id!)],
  ]);

  const inFlight = new InFlight<ServerResponse>();
  // Node enforces the request and header timeouts only when it checks its connections (every 30 s by
  // default): a shorter `requestTimeoutMs` would otherwise wait for that check.
  const checking = {
    connectionsCheckingInterval: Math.min(30_000, Math.ceil(config.server.requestTimeoutMs / 4)),
  };
  /** The response in flight on each connection: what a parse error of its body belongs to. */
  const answering = new WeakMap<Duplex, ServerResponse>();
  const server: Server = createServer(checking, (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    answering.set(req.socket, res);
    let handler = routes.get(`${req.method} ${path}`);
    let parameter: string | undefined;
    if (!handler) {
      const match = /^\/admin\/keys\/([^/]+)(\/spend)?$/.exec(path);
      if (match && (req.method === 'DELETE') === !match[2]) {
        handler = withId.get(`${req.method} /admin/keys/`);
        try {
          parameter = decodeURIComponent(match[1]!);
        } catch {
          // A broken escape (`%E0%A4%A`) throws here, outside every handler: it must not end the process.
          req.resume();
          const error = new GatewayError(
            400,
            'invalid_request_error',
            'The key id in the path is not valid percent-encoding',
          );
          sendJson(res, error.status, openAIErrorBody(error));
          return;
        }
      }
    }
    if (!handler) {
      req.resume();
      const known = [...routes.keys()].some((route) => route.endsWith(` ${path}`));
      const error = known
        ? new GatewayError(405, 'invalid_request_error', `${req.method} is not allowed on ${path}`)
        : new GatewayError(404, 'not_found_error', `No route ${req.method} ${path} on this gateway`);
      sendJson(res, error.status, errorBodyFor(path, error));
      return;
    }
    res.once('close', inFlight.add(res));
    Promise.resolve(handler(req, res, parameter)).catch(() => {
      if (!res.headersSent)
        sendJson(res, 500, openAIErrorBody(new GatewayError(500, 'api_error', 'Internal error')));
      else res.destroy();
    });
  });
  server.on('clientError', (error: Error & { rawPacket?: Buffer }, socket) => {
    const res = answering.get(socket);
    const current = res && !res.writableFinished ? res : undefined;
    const path = current ? (current.req.url ?? '/').split('?', 1)[0]! : requestPathOf(error.rawPacket);
    answerUnparsable(error, socket, path, current?.headersSent === true);
  });
  server.requestTimeout = config.server.requestTimeoutMs;
  server.headersTimeout = Math.min(config.server.requestTimeoutMs, 60_000);
  server.keepAliveTimeout = config.server.keepAliveTimeoutMs;
  const sockets = new InFlight<Socket>();
  server.on('connection', (socket) => {
    socket.once('close', sockets.add(socket));
  });

  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 4000, options.host ?? '127.0.0.1', () => resolve());
    });
  } catch (error) {
    await router.close();
    await store.close();
    await cache?.close();
    throw error;
  }
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= (async () => {
      server.close();
      // Idle keep-alive connections go now; busy ones when their response ends.
      server.closeIdleConnections();
      const deadline = Date.now() + config.server.drainTimeoutMs;
      while (inFlight.size > 0 && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 25));
      if (endStreamsInBand(inFlight) > 0) await new Promise((resolve) => setTimeout(resolve, 50));
      for (const socket of sockets) socket.destroy();
      await router.close();
      await store.close();
      await cache?.close();
    })();
    return closing;
  };

  return { url: `http://${host}:${address.port}`, port: address.port, router, store, close };
}

/**
 * Streams still open at the drain deadline get an in-band error in their protocol before their connection
 * is cut, so that a client hears why its answer stopped (a bare reset reads as a network failure). Returns
 * how many were told.
 */
function endStreamsInBand(inFlight: Iterable<ServerResponse>): number {
  const failure = new GatewayError(
    503,
    'overloaded_error',
    'The gateway is shutting down: this answer was cut at its drain deadline (drainTimeoutMs); ask again',
    { code: 'shutting_down' },
  );
  let told = 0;
  for (const res of inFlight) {
    if (!sseResponses.has(res) || res.writableEnded || res.destroyed) continue;
    const anthropic = (res.req?.url ?? '').startsWith('/v1/messages');
    res.write(inBandError(anthropic ? 'anthropic' : 'openai', failure));
    told++;
  }
  return told;
}
