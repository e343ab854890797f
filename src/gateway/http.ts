/**
 * The gateway's HTTP plumbing on `node:http`, with nothing between the socket and the handlers but a route
 * table: reading a body under a size limit, answering JSON, and streaming SSE with back-pressure and a
 * client that may go away. (A dozen fixed routes need no framework; see docs/decisions/0008-gateway.md.)
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { errorBodyFor, GatewayError } from './errors.ts';

/**
 * Reads the whole body, refusing it (413) once it passes `limitBytes` (or its content-length says it will).
 * A refused body is still read and dropped, up to `limitBytes` more, before the refusal is answered: a socket
 * closed with bytes unread sends a reset, and the client loses the 413 it was sent (its SDK then retries the
 * whole upload). Past that allowance, or declared larger still, it is refused at once and the connection cut.
 */
export function readBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > 2 * limitBytes) {
    req.resume();
    return Promise.reject(tooLarge(limitBytes));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = Number.isFinite(declared) && declared > limitBytes;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (refused || size > limitBytes) {
        refused = true;
        chunks.length = 0;
        if (size > 2 * limitBytes) reject(tooLarge(limitBytes));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (refused) reject(tooLarge(limitBytes));
      else resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
    req.on('error', reject);
  });
}

function tooLarge(limitBytes: number): GatewayError {
  return new GatewayError(
    413,
    'request_too_large',
    `The request body is larger than ${limitBytes} bytes (bodyLimitBytes)`,
  );
}

/**
 * How deep a body may nest arrays and objects: far beyond any real request (a tool's JSON Schema takes a
 * few dozen levels), and far from where `JSON.stringify` and the library's recursive walks run out of stack
 * (a few thousand levels, which `JSON.parse` reads without complaint).
 */
export const MAX_JSON_DEPTH = 256;

/** Parses a JSON body; anything that is not JSON, or nests deeper than `MAX_JSON_DEPTH`, is a 400 that says why. */
export function parseJson(body: Buffer): unknown {
  if (body.length === 0)
    throw new GatewayError(400, 'invalid_request_error', 'The request body is empty; expected JSON');
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new GatewayError(
      400,
      'invalid_request_error',
      `The request body is not valid JSON: ${(error as Error).message}`,
    );
  }
  // Each level takes two bytes at least: a shorter body cannot be too deep.
  if (body.length > 2 * MAX_JSON_DEPTH && nestsDeeperThan(value, MAX_JSON_DEPTH)) {
    throw new GatewayError(
      400,
      'invalid_request_error',
      `The request body nests arrays and objects deeper than ${MAX_JSON_DEPTH} levels`,
    );
  }
  return value;
}

/** True when `root` nests arrays and objects deeper than `limit` levels (walked without recursion). */
function nestsDeeperThan(root: unknown, limit: number): boolean {
  const pending: unknown[] = [root];
  const depths: number[] = [1];
  while (pending.length > 0) {
    const value = pending.pop();
    const depth = depths.pop()!;
    if (typeof value !== 'object' || value === null) continue;
    if (depth > limit) return true;
    for (const child of Array.isArray(value) ? value : Object.values(value)) {
      if (typeof child === 'object' && child !== null) {
        pending.push(child);
        depths.push(depth + 1);
      }
    }
  }
  return false;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendText(res: ServerResponse, status: number, body: string, contentType: string): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** An SSE response: headers sent at once, writes that wait for the client to drain, and its going away noticed. */
/** The responses that are SSE streams (what a shutdown tells, in band, that it cut them). */
export const sseResponses = new WeakSet<ServerResponse>();

export class SseResponse {
  readonly #res: ServerResponse;
  #closed = false;
  /** What was written, when recording (the response cache), up to `#recordLimit` characters. */
  #recorded: string[] | undefined;
  #recordedLength = 0;
  #recordLimit = 0;

  constructor(res: ServerResponse, headers: Record<string, string> = {}) {
    this.#res = res;
    sseResponses.add(res);
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
      ...headers,
    });
    res.flushHeaders();
    res.once('close', () => {
      this.#closed = true;
    });
  }

  /** True once the client has gone (stop producing). */
  get closed(): boolean {
    return this.#closed || this.#res.destroyed;
  }

  /** Keeps what is written from now on, up to `limit` characters (past it, nothing is kept). */
  record(limit: number): void {
    this.#recorded = [];
    this.#recordLimit = limit;
  }

  /** The text written since `record`, or undefined when it was not recording or passed its limit. */
  recorded(): string | undefined {
    return this.#recorded?.join('');
  }

  /** Writes `text`; waits while the client's socket is full. */
  async write(text: string): Promise<void> {
    if (text === '' || this.closed) return;
    if (this.#recorded) {
      this.#recordedLength += text.length;
      if (this.#recordedLength > this.#recordLimit) this.#recorded = undefined;
      else this.#recorded.push(text);
    }
    if (!this.#res.write(text)) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.#res.off('drain', done);
          this.#res.off('close', done);
          resolve();
        };
        this.#res.once('drain', done);
        this.#res.once('close', done);
      });
    }
  }

  end(): void {
    if (!this.#res.writableEnded) this.#res.end();
  }
}

/** The client's key: `Authorization: Bearer <key>` or `x-api-key: <key>` (what each official SDK sends). */
export function presentedKey(req: IncomingMessage): string | undefined {
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string' && authorization.length > 7 && /^bearer /i.test(authorization)) {
    return authorization.slice(7).trim();
  }
  const header = req.headers['x-api-key'];
  return typeof header === 'string' && header !== '' ? header : undefined;
}

/** What node:http's parser says of a request it could not read, and the status Node itself would answer. */
const UNPARSABLE: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

/** Connections answered after a parse error: what still arrives on them is read and dropped. */
const answeredUnparsable = new WeakSet<Duplex>();

/** How long a connection answered after a parse error may linger for the client to read and close it. */
const UNPARSABLE_LINGER_MS = 2_000;

/**
 * Answers a request node:http could not parse (a request line, header, length or chunk that is not HTTP,
 * headers too large, a body that stopped coming) with a JSON error in the shape of the route it was for,
 * where Node's own answer is a bare `400 Bad Request` with no body ("400 status code (no body)" in the
 * SDKs). The connection is ended, not destroyed: closing it with bytes unread would send a reset that can
 * overtake the answer. `path` is the route of the request in flight on that socket, when one was;
 * `answering` is true when its response has begun, and then nothing more can be written.
 */
export function answerUnparsable(
  error: Error & { code?: string; reason?: string },
  socket: Duplex,
  path: string,
  answering: boolean,
): void {
  if (answeredUnparsable.has(socket)) return;
  if (error.code === 'ECONNRESET' || !socket.writable || answering) {
    socket.destroy();
    return;
  }
  answeredUnparsable.add(socket);
  const [status, reason] = UNPARSABLE[error.code ?? ''] ?? [400, 'Bad Request'];
  const message =
    status === 431
      ? 'The request headers are too large'
      : status === 408
        ? 'The request took too long to arrive (requestTimeoutMs)'
        : `The request is not valid HTTP: ${error.reason ?? error.code ?? 'malformed'}`;
  const kind = status === 413 ? 'request_too_large' : 'invalid_request_error';
  const body = JSON.stringify(errorBodyFor(path, new GatewayError(status, kind, message)));
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
  const linger = setTimeout(() => socket.destroy(), UNPARSABLE_LINGER_MS);
  linger.unref();
  socket.once('close', () => clearTimeout(linger));
}

/** The path of the request line at the start of `packet` (what the parser was reading), or '/'. */
export function requestPathOf(packet: Buffer | undefined): string {
  const line = packet?.toString('latin1', 0, Math.min(packet.length, 256)) ?? '';
  return /^[A-Z]+ (\/[^ ?\r\n]*)/.exec(line)?.[1] ?? '/';
}
