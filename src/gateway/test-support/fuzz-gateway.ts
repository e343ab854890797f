/**
 * The fuzzed gateway: `llmf serve` (emulator mode, exactly what a user starts) in a CHILD process, so that a
 * crash is seen as one, with the memory probe loaded and GC exposed. Requests reach it over real HTTP, through
 * undici for well-formed HTTP and through a raw socket for framing no client library would send.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { TestContext } from 'node:test';
import { Client } from 'undici';
import type { MemoryAnswer } from './fuzz-probe.ts';

const LLMF = new URL('../../cli/llmf.ts', import.meta.url).pathname;
const PROBE = new URL('./fuzz-probe.ts', import.meta.url).pathname;

export const MASTER_KEY = 'master-key-for-the-fuzz-tests-not-real';

/** Longest any one answer may take before the case counts as a hang. */
export const ANSWER_TIMEOUT_MS = 20_000;

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

export interface Outgoing {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: Buffer | undefined;
  /** Sends the body as these chunks (transfer-encoding: chunked) instead of whole with a content-length. */
  chunks?: Buffer[];
}

export interface FuzzGateway {
  url: string;
  /** Everything the child wrote on stderr (its error log lines): shown when a case fails. */
  stderr(): string;
  /** True while the child process runs. */
  alive(): boolean;
  /** Memory after a full GC, and any polluted prototype. */
  memory(): Promise<MemoryAnswer>;
  send(request: Outgoing): Promise<Answer>;
  /**
   * Writes `pieces` to a fresh connection (each as its own write) and returns what came back by the time the
   * gateway closed it; `halfClose` ends our side once everything is written, `abort` drops the connection
   * then. Never longer than the timeout.
   */
  sendRaw(pieces: ReadonlyArray<string | Buffer>, options?: RawOptions): Promise<RawAnswer>;
  /** Creates a virtual key through the admin API. */
  createKey(spec: Record<string, unknown>): Promise<string>;
}

export interface RawOptions {
  halfClose?: boolean | undefined;
  abort?: boolean | undefined;
}

export interface RawAnswer {
  /** The bytes the gateway sent before it closed the connection (latin1 text). */
  text: string;
  /** Parsed when `text` holds one whole HTTP response. */
  answer?: Answer;
  /** The socket error our side saw, if any (a reset after the answer is not a failure). */
  error?: string;
}

/** Splits one HTTP/1.1 response (content-length or chunked) out of the raw bytes. */
export function parseRawResponse(raw: Buffer): Answer | undefined {
  const end = raw.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine = '', ...lines] = raw.subarray(0, end).toString('latin1').split('\r\n');
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!Number.isInteger(status)) return undefined;
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  let body = raw.subarray(end + 4);
  if (headers['transfer-encoding'] === 'chunked') {
    const chunks: Buffer[] = [];
    for (let at = 0; ; ) {
      const lineEnd = body.indexOf('\r\n', at);
      const size = Number.parseInt(body.subarray(at, lineEnd).toString('latin1'), 16);
      if (lineEnd < 0 || !Number.isFinite(size) || size === 0) break;
      chunks.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
      at = lineEnd + 2 + size + 2;
    }
    body = Buffer.concat(chunks);
  } else if (headers['content-length'] !== undefined) {
    body = body.subarray(0, Number(headers['content-length']));
  }
  return { status, headers, text: body.toString('utf8') };
}

/** A body undici sends with transfer-encoding: chunked, one chunk per piece. */
function chunksOf(chunks: Buffer[]): Readable {
  return Readable.from(chunks, { objectMode: false });
}

function waitForUrl(child: ChildProcess, output: () => string): Promise<string> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const match = /listening on (http:\/\/\S+)/.exec(output());
      if (match) resolve(match[1]!);
    };
    child.stdout!.on('data', check);
    child.once('exit', (code, signal) =>
      reject(new Error(`llmf serve exited (${code ?? signal}) before listening:\n${output()}`)),
    );
  });
}

/** Starts `llmf serve` in a child process and stops it (SIGTERM, as a user would) when the test ends. */
export async function startFuzzGateway(t: TestContext): Promise<FuzzGateway> {
  // serve keeps its SQLite state in a fresh folder under TMPDIR: this one goes when the test ends.
  const tmp = mkdtempSync(join(tmpdir(), 'llmf-gw-fuzz-'));
  const child = spawn(
    process.execPath,
    ['--expose-gc', '--import', PROBE, LLMF, 'serve', '--port', '0', '--log-level', 'error'],
    {
      env: {
        PATH: process.env.PATH,
        TMPDIR: tmp,
        LLMF_MASTER_KEY: MASTER_KEY,
        // glibc hands large blocks back to the system when freed (its threshold otherwise rises to 32 MB
        // after the first 10 MB body, and the resident set keeps what it freed): RSS then measures what
        // is held.
        MALLOC_MMAP_THRESHOLD_: '131072',
      },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => {
    // The error log of a long run: the last 64 kB are enough to explain a failure.
    stderr = (stderr + chunk.toString()).slice(-65_536);
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const url = await waitForUrl(child, () => stdout + stderr);
  const target = new URL(url);
  const client = new Client(url, {
    pipelining: 1,
    bodyTimeout: ANSWER_TIMEOUT_MS,
    headersTimeout: ANSWER_TIMEOUT_MS,
  });

  t.after(async () => {
    await client.close().catch(() => {});
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise((resolve) => {
        timer = setTimeout(resolve, 15_000);
      });
      const stopped = await Promise.race([exited, late]);
      clearTimeout(timer);
      if (!stopped) child.kill('SIGKILL');
    }
    rmSync(tmp, { recursive: true, force: true });
  });

  const alive = () => child.exitCode === null && child.signalCode === null;

  const memory = () =>
    new Promise<MemoryAnswer>((resolve, reject) => {
      const onMessage = (message: MemoryAnswer) => {
        if (message?.type !== 'memory') return;
        child.off('message', onMessage);
        resolve(message);
      };
      child.on('message', onMessage);
      child.send({ type: 'memory' }, (error) => (error ? reject(error) : undefined));
    });

  const send = async (request: Outgoing): Promise<Answer> => {
    const response = await client.request({
      method: request.method as 'POST',
      path: request.path,
      headers: request.headers,
      body: request.chunks ? chunksOf(request.chunks) : request.body,
      signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
    });
    return { status: response.statusCode, headers: response.headers, text: await response.body.text() };
  };

  const sendRaw = (pieces: ReadonlyArray<string | Buffer>, options: RawOptions = {}) =>
    new Promise<RawAnswer>((resolve) => {
      const socket = connect(Number(target.port), target.hostname);
      const received: Buffer[] = [];
      let error: string | undefined;
      const timer = setTimeout(() => {
        error = `no answer within ${ANSWER_TIMEOUT_MS} ms`;
        socket.destroy();
      }, ANSWER_TIMEOUT_MS);
      socket.on('data', (chunk: Buffer) => received.push(chunk));
      socket.on('error', (failure) => {
        error ??= failure.message;
      });
      socket.on('close', () => {
        clearTimeout(timer);
        const raw = Buffer.concat(received);
        const answer = parseRawResponse(raw);
        resolve({ text: raw.toString('latin1'), ...(answer ? { answer } : {}), ...(error ? { error } : {}) });
      });
      socket.on('connect', async () => {
        for (const piece of pieces) {
          if (socket.destroyed) return;
          // Each piece its own write (and TCP segment): a body that arrives in parts.
          await new Promise<void>((written) => socket.write(piece, () => written()));
        }
        if (options.abort) socket.destroy();
        else if (options.halfClose && !socket.destroyed) socket.end();
      });
    });

  const createKey = async (spec: Record<string, unknown>) => {
    const answer = await send({
      method: 'POST',
      path: '/admin/keys',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: Buffer.from(JSON.stringify(spec)),
    });
    assert.equal(answer.status, 201, answer.text);
    return (JSON.parse(answer.text) as { key: string }).key;
  };

  return { url, stderr: () => stderr, alive, memory, send, sendRaw, createKey };
}
