/** One request/response pair inside the emulator, with the helpers every protocol uses to answer. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultKind } from './faults.ts';

export interface RecordedRequest {
  method: string;
  /** Path with query string. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** The parsed JSON body, or the raw text when it was not JSON. */
  body: unknown;
  receivedAt: number;
}

export interface Timing {
  latencyMs: number;
  timeToFirstTokenMs: number;
  /** 0 = as fast as possible. */
  tokensPerSecond: number;
}

export interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  request: RecordedRequest;
  rawBody: string;
  /** The fault this attempt must suffer, if any. */
  fault: FaultKind | undefined;
  timing: Timing;
  /** Delay used in rate-limit faults' retry hints. */
  retryAfterMs: number;
  /** Context window used for `context_length_exceeded` checks, when set. */
  contextWindow: number | undefined;
  /** Keys accepted; undefined = any non-empty key. */
  apiKeys: readonly string[] | undefined;
  /** Models served; undefined = any. Others get the provider's not-found error. */
  models: readonly string[] | undefined;
  /** AWS credential pairs whose SigV4 signatures Bedrock routes accept. */
  awsCredentials: ReadonlyArray<{ accessKeyId: string; secretAccessKey: string }>;
}

export function wait(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/**
 * Between two deltas of a stream: the configured pace (`gapMs` after the first), and never faster than the
 * client's socket takes them. A long answer sent as fast as possible would otherwise queue every frame in
 * memory at once, and the kernel refuses to write that many pieces in one go (EINVAL), cutting the stream.
 */
export async function pace(exchange: Exchange, sent: number, gapMs: number): Promise<void> {
  if (sent > 0 && gapMs > 0) await wait(gapMs);
  const { res } = exchange;
  if (!res.writableNeedDrain || res.destroyed) return;
  await new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

export function sendJson(
  exchange: Exchange,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const { res } = exchange;
  if (res.destroyed || res.headersSent) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function startSse(exchange: Exchange, headers: Record<string, string> = {}): void {
  exchange.res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
    connection: 'keep-alive',
    ...headers,
  });
  exchange.res.flushHeaders();
}

/** Writes raw SSE text; false once the client has gone. */
export function writeRaw(exchange: Exchange, text: string): boolean {
  const { res } = exchange;
  if (res.destroyed || res.writableEnded) return false;
  res.write(text);
  return true;
}

/**
 * Applies the faults that corrupt a complete JSON body (`malformed`: half of it; `stall`: half of it, then
 * silence). Returns false when the body should be sent as it is.
 */
export function corruptBody(exchange: Exchange, json: string, headers: Record<string, string>): boolean {
  if (exchange.fault === 'malformed') {
    sendJson(exchange, 200, json.slice(0, Math.floor(json.length / 2)), headers);
    return true;
  }
  if (exchange.fault === 'stall') {
    exchange.res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(json),
      ...headers,
    });
    exchange.res.write(json.slice(0, Math.floor(json.length / 2)));
    return true;
  }
  return false;
}

/** Leaves the response open and silent until the client gives up or the emulator closes. */
export function stallForever(_exchange: Exchange): Promise<void> {
  return new Promise(() => {});
}

export function headerOf(exchange: Exchange, name: string): string | undefined {
  const value = exchange.req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** A request id in the provider's style, derived from a counter so runs are reproducible. */
let counter = 0;
export function nextRequestId(prefix: string): string {
  counter = (counter + 1) % 0xffffffff;
  return `${prefix}${counter.toString(16).padStart(8, '0')}${Date.now().toString(16)}`;
}
