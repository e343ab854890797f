/**
 * The emulator: one local HTTP server that speaks each provider's wire protocol on that provider's own
 * paths, deterministically, with configurable timing and injectable faults. Import it from
 * `llm-factory/emulator`, or run `llmf emulate --port N`.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { ClientOptions } from '../client/options.ts';
import type { ProviderName } from '../spec/types.ts';
import { handleAnthropicProtocol } from './anthropic-protocol.ts';
import { handleBedrockProtocol } from './bedrock-protocol.ts';
import { type Exchange, type RecordedRequest, sendJson, type Timing } from './exchange.ts';
import {
  FAULT_DESCRIPTIONS,
  FAULT_KINDS,
  FaultCounter,
  type FaultKind,
  type FaultSpec,
  parseFault,
} from './faults.ts';
import { handleGeminiProtocol } from './gemini-protocol.ts';
import { acceptHttp2PriorKnowledge } from './h2c.ts';
import { handleOllamaProtocol } from './ollama-protocol.ts';
import { handleOpenAIProtocol } from './openai-protocol.ts';

/** Each protocol answers the paths that are its provider's and declines the rest. */
const PROTOCOLS: ReadonlyArray<(exchange: Exchange) => Promise<boolean>> = [
  handleOpenAIProtocol,
  handleAnthropicProtocol,
  handleGeminiProtocol,
  handleBedrockProtocol,
  handleOllamaProtocol,
];

export { FAULT_DESCRIPTIONS, FAULT_KINDS, type FaultKind, type RecordedRequest };

/** The credentials the emulator's Bedrock routes accept unless told otherwise. */
export const DEFAULT_AWS_CREDENTIALS = [{ accessKeyId: 'EMULATORKEYID', secretAccessKey: 'emulator-secret' }];

export interface EmulatorOptions {
  /** Port to listen on; 0 (the default) picks a free one. */
  port?: number;
  /** Interface to bind. Default 127.0.0.1. */
  host?: string;
  /** Delay before a response starts, in ms. Default 0. */
  latencyMs?: number;
  /** Streams: extra delay before the first token, in ms. Default 0. */
  timeToFirstTokenMs?: number;
  /** Streams: pace of tokens; 0 (the default) sends them as fast as possible. */
  tokensPerSecond?: number;
  /** A fault for every request, as in the header: `'rate-limit'` or `'rate-limit:2'`. */
  fault?: string;
  /** The wait a rate-limit fault asks for (retry-after-ms; retry-after is rounded up to seconds). Default 100. */
  retryAfterMs?: number;
  /** Prompt size above which chat requests fail with context_length_exceeded. Default: no limit. */
  contextWindow?: number;
  /** Keys accepted; by default any non-empty key is. */
  apiKeys?: string[];
  /** Models served; others get the provider's not-found error. Default: any model. */
  models?: string[];
  /**
   * AWS credentials whose SigV4 signatures the Bedrock routes accept (others get 403
   * InvalidSignatureException). Default: access key id `EMULATORKEYID`, secret `emulator-secret`.
   * Bedrock API keys (bearer tokens) are always accepted.
   */
  awsCredentials?: Array<{ accessKeyId: string; secretAccessKey: string }>;
  /** Keep every request in `requests`. Default true; turn off for long benchmarks. */
  recordRequests?: boolean;
}

export interface Emulator {
  /** Base URL, e.g. `http://127.0.0.1:43123` (OpenAI clients use `${url}/v1`). */
  url: string;
  port: number;
  /** Every request received, oldest first. */
  requests: RecordedRequest[];
  /** Changes the fault applied to every request (`undefined` for none). */
  setFault(fault: string | undefined): void;
  /**
   * Client options that point `provider`'s client at this emulator (its base URL, a key it accepts, Bedrock's
   * credentials): `createClient('anthropic/claude-sonnet-4-6', emulator.clientOptions('anthropic'))`.
   */
  clientOptions(provider: ProviderName): ClientOptions;
  /** Stops listening and drops every open connection, hung ones included. */
  close(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function numberHeader(req: IncomingMessage, name: string, fallback: number): number {
  const value = req.headers[name];
  const parsed = typeof value === 'string' ? Number(value) : Number.NaN;
  return Number.isFinite(parsed) && parsed >= 0 ? parsed : fallback;
}

function checkOptions(options: EmulatorOptions): FaultSpec | undefined {
  for (const name of [
    'latencyMs',
    'timeToFirstTokenMs',
    'tokensPerSecond',
    'retryAfterMs',
    'contextWindow',
    'port',
  ] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== 'number' || !Number.isFinite(value) || value < 0)) {
      throw new TypeError(`startEmulator: \`${name}\` must be a non-negative number, got ${String(value)}`);
    }
  }
  const fault = parseFault(options.fault);
  if (fault instanceof Error) throw new TypeError(`startEmulator: \`fault\`: ${fault.message}`);
  return fault;
}

/**
 * Client options that point `provider`'s client at an emulator at `url` (its base URL, a key it accepts,
 * Bedrock's credentials): what `emulator.clientOptions(provider)` returns, for an emulator of another process.
 */
export function emulatorClientOptions(
  url: string,
  provider: ProviderName,
  settings: {
    apiKey?: string | undefined;
    awsCredentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  } = {},
): ClientOptions {
  const key = settings.apiKey ?? 'emulator-key';
  switch (provider) {
    case 'azure':
      return { apiKey: key, endpoint: url };
    case 'bedrock':
      return {
        baseURL: url,
        region: 'us-east-1',
        credentials: settings.awsCredentials ?? DEFAULT_AWS_CREDENTIALS[0]!,
      };
    case 'anthropic':
    case 'gemini':
    case 'ollama':
      return { apiKey: key, baseURL: url };
    default:
      return { apiKey: key, baseURL: `${url}/v1` };
  }
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  let defaultFault = checkOptions(options);
  const counter = new FaultCounter();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const record = options.recordRequests !== false;

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const rawBody = await readBody(req);
    const url = new URL(req.url ?? '/', 'http://emulator');
    let body: unknown = rawBody;
    if (rawBody) {
      try {
        body = JSON.parse(rawBody);
      } catch {
        // Kept as text: the protocol handler answers with the provider's own parse error.
      }
    }
    const request: RecordedRequest = {
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      headers: { ...req.headers },
      body,
      receivedAt: Date.now(),
    };
    if (record) requests.push(request);

    const header = req.headers['x-emulator-fault'];
    const parsed = typeof header === 'string' ? parseFault(header) : defaultFault;
    if (parsed instanceof Error) {
      sendJson({ res } as Exchange, 400, {
        error: { message: `x-emulator-fault: ${parsed.message}`, type: 'emulator_error' },
      });
      return;
    }
    const identity = `${request.method} ${url.pathname}${url.search}\n${rawBody}`;
    const fault = parsed && counter.shouldFail(parsed, identity) ? parsed.kind : undefined;
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'hang') return;

    const timing: Timing = {
      latencyMs: numberHeader(req, 'x-emulator-latency-ms', options.latencyMs ?? 0),
      timeToFirstTokenMs: numberHeader(req, 'x-emulator-ttft-ms', options.timeToFirstTokenMs ?? 0),
      tokensPerSecond: numberHeader(req, 'x-emulator-tokens-per-second', options.tokensPerSecond ?? 0),
    };
    const exchange: Exchange = {
      req,
      res,
      url,
      request,
      rawBody,
      fault,
      timing,
      retryAfterMs: options.retryAfterMs ?? 100,
      contextWindow: options.contextWindow,
      apiKeys: options.apiKeys,
      models: options.models,
      awsCredentials: options.awsCredentials ?? DEFAULT_AWS_CREDENTIALS,
    };
    for (const protocol of PROTOCOLS) if (await protocol(exchange)) return;
    sendJson(exchange, 404, {
      error: {
        message: `The emulator does not serve ${request.method} ${url.pathname}`,
        type: 'invalid_request_error',
        code: null,
        param: null,
      },
    });
  };

  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    handle(req, res).catch((error: unknown) => {
      if (!res.headersSent) {
        sendJson({ res } as Exchange, 500, {
          error: { message: `emulator failure: ${(error as Error).message}`, type: 'server_error' },
        });
      } else res.destroy();
    });
  };
  const server = createServer(onRequest);
  // The AWS SDK's Bedrock client speaks HTTP/2 with prior knowledge (h2c) to an http:// endpoint.
  acceptHttp2PriorKnowledge(server, onRequest);
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    requests,
    setFault(fault) {
      const parsed = parseFault(fault);
      if (parsed instanceof Error) throw new TypeError(`setFault: ${parsed.message}`);
      defaultFault = parsed;
    },
    clientOptions: (provider) =>
      emulatorClientOptions(`http://${host}:${address.port}`, provider, {
        apiKey: options.apiKeys?.[0],
        awsCredentials: options.awsCredentials?.[0],
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
        server.closeAllConnections();
      }),
  };
}
