/**
 * The one place that talks HTTP. A keep-alive undici `Pool` per origin, shared by every client of that
 * origin and closed when the last of them closes; a per-attempt timeout; an idle timeout between body
 * chunks (undici's `bodyTimeout`); the caller's signal honoured at every step; a body read whole only up
 * to `maxResponseBytes`. Transport failures come out as typed errors (`classifyTransportError`), never as
 * raw socket errors.
 */
import { type Dispatcher, Pool } from 'undici';
import { LLMConnectionError, LLMError, LLMInvalidResponseError, LLMTimeoutError } from '../spec/errors.ts';
import { abortError } from './abort.ts';
import type { HeaderMap } from './retry-timing.ts';

export interface PoolOptions {
  /** Most sockets open to one origin at once. Default 128. */
  connections?: number;
  /** How long an idle keep-alive socket is kept, in ms. Default 30 000. */
  keepAliveTimeoutMs?: number;
}

export interface PreparedRequest {
  /** Absolute URL. */
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: string | Uint8Array;
}

export interface SendOptions {
  /** Time allowed for this attempt from the moment the request is written until the response headers arrive. */
  timeoutMs: number;
  /** Longest silence allowed between two body chunks. */
  idleTimeoutMs: number;
  signal?: AbortSignal | undefined;
  /** Epoch ms after which the whole operation (all attempts) is over. */
  deadlineAt?: number | undefined;
  /** Whether the body is a stream (kept for diagnostics; timeouts are the same). */
  stream: boolean;
  /** A dispatcher to use instead of the shared pool (proxies, tests). */
  dispatcher?: Dispatcher | undefined;
  /** Largest body `text()` reads, in bytes. Default `DEFAULT_MAX_RESPONSE_BYTES` (256 MiB). */
  maxResponseBytes?: number | undefined;
  context: { provider: string; model: string };
}

/**
 * The default `maxResponseBytes`: 256 MiB. The largest legitimate bodies are embedding batches as JSON
 * floats (an OpenAI-compatible server answering 2,048 inputs of a 4,096-dimension model sends about
 * 170 MB), and it stays under V8's longest string (about 512 MiB), past which a body could not be read
 * as text at all.
 */
export const DEFAULT_MAX_RESPONSE_BYTES = 256 * 1024 * 1024;

export interface HttpResponse {
  status: number;
  headers: HeaderMap;
  body: Dispatcher.ResponseData['body'];
  /**
   * Reads the whole body as text, up to `maxResponseBytes`: past it (or when `content-length` says so up
   * front) it stops reading, destroys the connection and throws an `LLMInvalidResponseError`. Transport
   * failures while reading become typed errors.
   */
  text(): Promise<string>;
  /** Stops the timers and releases the socket if the body was not consumed. Idempotent. */
  done(): void;
  /** Types an error thrown while reading `body` (timeouts, resets, the caller's abort). */
  classify(error: unknown): LLMError;
}

const DEFAULT_POOL: Required<PoolOptions> = { connections: 128, keepAliveTimeoutMs: 30_000 };

interface PoolEntry {
  pool: Pool;
  users: number;
}
const pools = new Map<string, PoolEntry>();

function poolKey(origin: string, options: PoolOptions): string {
  return `${origin}|${options.connections ?? DEFAULT_POOL.connections}|${options.keepAliveTimeoutMs ?? DEFAULT_POOL.keepAliveTimeoutMs}`;
}

/**
 * A handle on the shared pool for `origin`. Call `release()` when the owner closes; the pool closes when
 * its last user has released it.
 */
export function acquirePool(
  origin: string,
  options: PoolOptions = {},
): { pool: Pool; release: () => Promise<void> } {
  const key = poolKey(origin, options);
  let entry = pools.get(key);
  if (!entry || entry.pool.closed || entry.pool.destroyed) {
    const keepAlive = options.keepAliveTimeoutMs ?? DEFAULT_POOL.keepAliveTimeoutMs;
    entry = {
      pool: new Pool(origin, {
        connections: options.connections ?? DEFAULT_POOL.connections,
        keepAliveTimeout: keepAlive,
        keepAliveMaxTimeout: Math.max(keepAlive, 600_000),
        pipelining: 1,
        // Our own timers govern; undici's defaults (300 s) would only mask them.
        headersTimeout: 0,
        bodyTimeout: 0,
      }),
      users: 0,
    };
    pools.set(key, entry);
  }
  entry.users++;
  const held = entry;
  let released = false;
  return {
    pool: held.pool,
    release: async () => {
      if (released) return;
      released = true;
      held.users--;
      if (held.users <= 0 && pools.get(key) === held) {
        pools.delete(key);
        await held.pool.close().catch(() => held.pool.destroy());
      }
    },
  };
}

/** Number of live shared pools (for tests and diagnostics). */
export function openPoolCount(): number {
  return pools.size;
}

/** The abort reason of a deadline timer (made once: an Error captures a stack, too costly per request). */
const DEADLINE = Symbol('deadline');

/** Origin and path of each URL seen, so that the hot path does not parse the same URL every request. */
const splitUrls = new Map<string, { origin: string; path: string }>();
function splitUrl(url: string): { origin: string; path: string } {
  let split = splitUrls.get(url);
  if (!split) {
    const parsed = new URL(url);
    split = { origin: parsed.origin, path: parsed.pathname + parsed.search };
    if (splitUrls.size > 1024) splitUrls.clear();
    splitUrls.set(url, split);
  }
  return split;
}

/**
 * Sends one attempt. Resolves once the response headers are in. The attempt timeout is undici's
 * `headersTimeout` (until the response starts) and the idle timeout its `bodyTimeout` (between body
 * chunks); an AbortController and a timer are only made when the call has a signal or a deadline, so
 * the common call allocates neither.
 */
export async function send(
  dispatcher: Dispatcher,
  request: PreparedRequest,
  options: SendOptions,
): Promise<HttpResponse> {
  const { origin, path } = splitUrl(request.url);
  const userSignal = options.signal;
  if (userSignal?.aborted) throw abortError(userSignal, options.context);

  let controller: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let onUserAbort: (() => void) | undefined;
  let headersTimeout = options.timeoutMs;
  if (options.deadlineAt !== undefined || userSignal) {
    const attempt = new AbortController();
    controller = attempt;
    if (options.deadlineAt !== undefined) {
      const remaining = options.deadlineAt - Date.now();
      if (remaining <= 0) throw deadlineError(options);
      timer = setTimeout(() => attempt.abort(DEADLINE), remaining);
      // The deadline, not the attempt timeout, ends an attempt that would outlive it.
      if (remaining < headersTimeout) headersTimeout = remaining + 1000;
    }
    if (userSignal) {
      onUserAbort = () => attempt.abort(userSignal.reason);
      userSignal.addEventListener('abort', onUserAbort, { once: true });
    }
  }

  let finished = false;
  let body: Dispatcher.ResponseData['body'] | undefined;
  const done = () => {
    if (finished) return;
    finished = true;
    if (timer !== undefined) clearTimeout(timer);
    if (onUserAbort) userSignal?.removeEventListener('abort', onUserAbort);
    if (body && !body.readableEnded && !body.destroyed) body.destroy();
  };
  const classify = (error: unknown) => classifyTransportError(error, controller?.signal, userSignal, options);

  let response: Dispatcher.ResponseData;
  try {
    response = await dispatcher.request({
      origin,
      path,
      method: request.method,
      headers: request.headers,
      body: request.body,
      signal: controller?.signal,
      headersTimeout,
      bodyTimeout: options.idleTimeoutMs,
    });
  } catch (error) {
    done();
    throw classify(error);
  }
  body = response.body;
  return {
    status: response.statusCode,
    headers: response.headers,
    body: response.body,
    text: async () => {
      try {
        return await readText(response, options);
      } catch (error) {
        throw classify(error);
      } finally {
        done();
      }
    },
    done,
    classify,
  };
}

const utf8 = new TextDecoder('utf-8');

/**
 * The body as text, refused as soon as it passes `maxResponseBytes`: chunks are counted as they arrive
 * and the stream destroyed at the first one too many, so memory stays bounded whatever the server sends.
 * A body without a `content-length` is read through `data` events (undici's `text()` has no limit); one
 * with a length within the limit through `text()`, which costs less.
 */
function readText(response: Dispatcher.ResponseData, options: SendOptions): Promise<string> {
  const limitBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
  const body = response.body;
  const tooLarge = () =>
    new LLMInvalidResponseError(
      `${options.context.provider} sent a response body of more than ${limitBytes} bytes (the \`maxResponseBytes\` limit); it was not read further. Raise the client option \`maxResponseBytes\` to accept larger bodies.`,
      { ...options.context, status: response.statusCode, retryable: false },
    );
  const declared = Number(response.headers['content-length']);
  if (declared > limitBytes) {
    // Destroyed unread, undici's body emits an abort error: with no listener it would be an uncaught exception.
    body.once('error', () => {});
    body.destroy();
    return Promise.reject(tooLarge());
  }
  // A declared length within the limit bounds the body already (HTTP/1.1 reads exactly that many bytes):
  // undici's own reader is the cheaper one there (measured: ~3 µs a response less than `data` events).
  if (declared >= 0) return body.text();
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let total = 0;
    let ended = false;
    body.on('data', (chunk: Buffer) => {
      total += chunk.byteLength;
      if (total > limitBytes) {
        chunks = [];
        body.destroy();
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    body.once('error', reject);
    body.once('end', () => {
      ended = true;
      // TextDecoder drops a UTF-8 byte-order mark, as undici's text() does.
      resolve(utf8.decode(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total)));
    });
    // 'close' follows every 'end': only one that comes first is a failure (an Error, with its stack, is
    // built only then — not on every response).
    body.once('close', () => {
      if (!ended) reject(new Error('the response body closed before its end'));
    });
  });
}

function deadlineError(options: Pick<SendOptions, 'context'>): LLMTimeoutError {
  return new LLMTimeoutError('Deadline exceeded', {
    ...options.context,
    retryable: false,
    phase: 'deadline',
  });
}

const CONNECTION_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CLOSED',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** Turns whatever undici or the runtime threw into one of our typed errors. */
export function classifyTransportError(
  error: unknown,
  attemptSignal: AbortSignal | undefined,
  userSignal: AbortSignal | undefined,
  options: Pick<SendOptions, 'context' | 'timeoutMs' | 'idleTimeoutMs'>,
): LLMError {
  if (error instanceof LLMError) return error;
  if (userSignal?.aborted) return abortError(userSignal, options.context);
  if (attemptSignal?.aborted && attemptSignal.reason === DEADLINE) return deadlineError(options);
  const code = (error as { code?: string } | null)?.code;
  if (code === 'UND_ERR_HEADERS_TIMEOUT') {
    // undici starts this timer once the request is written: the server had it and may be working on it.
    return new LLMTimeoutError(`Request timed out after ${options.timeoutMs} ms without a response`, {
      ...options.context,
      retryable: true,
      phase: 'headers',
      cause: error,
    });
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new LLMTimeoutError(`No data from the server for ${options.idleTimeoutMs} ms`, {
      ...options.context,
      retryable: true,
      phase: 'body',
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  if (code !== undefined && CONNECTION_CODES.has(code)) {
    return new LLMConnectionError(`Connection failed (${code}): ${message}`, {
      ...options.context,
      retryable: true,
      cause: error,
    });
  }
  return new LLMConnectionError(`Request failed: ${message}`, {
    ...options.context,
    retryable: true,
    cause: error,
  });
}
