/**
 * Helpers shared by the middleware tests: stores that record or fail, a logger that keeps its lines, the
 * Redis reachability rule (skip with a reason locally, fail under CI), temporary folders and child processes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createClient } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import type { ClientOptions } from '../../client/options.ts';
import type { Emulator } from '../../emulator/index.ts';
import type { StreamEvent } from '../../spec/types.ts';
import type { CacheStore } from '../cache/store.ts';
import type { Logger } from '../logging.ts';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A run-unique token for Redis prefixes, namespaces and prompts. */
export const RUN_ID = `${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;

/** An OpenAI client against the emulator. */
export function openai(emulator: Emulator, options: ClientOptions = {}): LLMClient {
  return createClient('openai/gpt-4o-mini', {
    apiKey: 'sk-test-middleware-0000000000',
    baseURL: `${emulator.url}/v1`,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...options,
  });
}

/** Requests the emulator received on `path` (a substring: `/chat/completions`, `/embeddings`). */
export function received(emulator: Emulator, path: string): number {
  return emulator.requests.filter((request) => request.path.includes(path)).length;
}

export async function drain(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

export function textOf(events: readonly StreamEvent[]): string {
  return events.map((event) => (event.type === 'text-delta' ? event.text : '')).join('');
}

/** Wraps a store and keeps every key and value written through it. */
export class RecordingStore implements CacheStore {
  readonly inner: CacheStore;
  readonly writes: Array<{ key: string; value: string; ttlMs: number | undefined }> = [];
  readonly reads: string[] = [];
  constructor(inner: CacheStore) {
    this.inner = inner;
  }
  get(key: string): Promise<string | undefined> {
    this.reads.push(key);
    return this.inner.get(key);
  }
  set(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    this.writes.push({ key, value, ttlMs });
    return this.inner.set(key, value, ttlMs);
  }
  delete(key: string): Promise<void> {
    return this.inner.delete(key);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  keys(): string[] {
    return [...new Set(this.writes.map((write) => write.key))];
  }
}

/** A store whose every operation fails: synchronously (`throw`) or as a rejected promise. */
export function failingStore(how: 'throw' | 'reject'): CacheStore & { calls: number } {
  const fail = (operation: string) => {
    store.calls++;
    const error = new Error(`store ${operation} failed`);
    if (how === 'throw') throw error;
    return Promise.reject(error);
  };
  const store = {
    calls: 0,
    get: () => fail('get'),
    set: () => fail('set'),
    delete: () => fail('delete'),
    close: async () => {},
  } as CacheStore & { calls: number };
  return store;
}

export interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  object: Record<string, unknown>;
  message: string | undefined;
}

/** A pino-compatible logger that keeps its lines; `enabled` lists the levels it reports as on. */
export function collectingLogger(
  enabled: ReadonlyArray<LogLine['level']> = ['debug', 'info', 'warn', 'error'],
): Logger & { lines: LogLine[]; levelChecks: string[] } {
  const lines: LogLine[] = [];
  const levelChecks: string[] = [];
  const method = (level: LogLine['level']) => (object: Record<string, unknown>, message?: string) => {
    lines.push({ level, object, message });
  };
  return {
    lines,
    levelChecks,
    debug: method('debug'),
    info: method('info'),
    warn: method('warn'),
    error: method('error'),
    isLevelEnabled(level: string) {
      levelChecks.push(level);
      return (enabled as readonly string[]).includes(level);
    },
  };
}

/** True when Redis answers; otherwise skips the test with the reason, or fails it when `CI` is set. */
export async function requireRedis(t: TestContext): Promise<boolean> {
  const { createClient: createRedis } = await import('@redis/client');
  const client = createRedis({ url: REDIS_URL, socket: { connectTimeout: 1_000, reconnectStrategy: false } });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch (error) {
    const reason = `Redis not reachable at ${REDIS_URL} (${(error as Error).message})`;
    if (process.env.CI) assert.fail(`${reason}; CI is set, so the Redis tests must run`);
    t.skip(reason);
    return false;
  } finally {
    client.destroy();
  }
}

/** A plain Redis connection for looking at what the stores wrote. */
export async function redisInspector() {
  const { createClient: createRedis } = await import('@redis/client');
  const client = createRedis({ url: REDIS_URL, socket: { reconnectStrategy: false } });
  client.on('error', () => {});
  await client.connect();
  return {
    keys: (prefix: string) => client.keys(`${prefix}*`),
    get: (key: string) => client.get(key),
    pttl: (key: string) => client.pTTL(key),
    /** Deletes every key under `prefix`. */
    async clean(prefix: string) {
      const keys = await client.keys(`${prefix}*`);
      if (keys.length > 0) await client.del(keys);
    },
    close: () => client.close(),
  };
}

/**
 * A TCP relay in front of Redis that a test can cut (the server seems gone: connections drop, new ones are
 * refused) and restore on the same port, to show what a store does through a real outage.
 */
export async function redisRelay(): Promise<{
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
}> {
  const target = new URL(REDIS_URL);
  const sockets = new Set<Socket>();
  const relay = createServer((inbound) => {
    const outbound = connect(Number(target.port || 6379), target.hostname);
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('error', () => {});
      socket.on('close', () => {
        sockets.delete(socket);
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
  const port = (relay.address() as { port: number }).port;
  const url = new URL(REDIS_URL);
  url.hostname = '127.0.0.1';
  url.port = String(port);
  return {
    url: url.toString(),
    async cut() {
      const closed = new Promise((resolve) => relay.close(resolve));
      for (const socket of sockets) socket.destroy();
      await closed;
    },
    async restore() {
      await new Promise<void>((resolve) => relay.listen(port, '127.0.0.1', resolve));
    },
  };
}

/**
 * A folder removed after the test. Its removal is registered first, so it runs before the hooks that close
 * what the test opened in it (node:test runs `after` hooks in the order given): a store still open may add a
 * file while the folder is being emptied (its checkpoint thread opening the database), so `rm` tries again.
 */
export async function tempDir(t: TestContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llmf-middleware-'));
  t.after(() => rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 50 }));
  return dir;
}

export const CHILD_SCRIPT = new URL('./cache-child.ts', import.meta.url).pathname;

/** Runs the cache child script with `job` and resolves with its exit code and output. */
export function runChild(job: object): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runScript(CHILD_SCRIPT, job);
}

/**
 * Runs a TypeScript script in its own process with `job` (as JSON) and resolves with its exit code, the signal
 * that ended it if one did, and its output. With `killAfterMs`, a process still running then is killed with
 * SIGKILL (for a test whose point is that the process ends by itself).
 */
export function runScript(
  script: string,
  job: object,
  options: { killAfterMs?: number } = {},
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, JSON.stringify(job)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const killer =
      options.killAfterMs === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGKILL'), options.killAfterMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/**
 * Runs a child script that prints one line per committed write, kills it with SIGKILL once it has printed
 * `lines` (well into its loop, and surely inside another write), and resolves with every line it printed.
 */
export async function killMidWrite(script: string, job: object, lines = 300): Promise<string[]> {
  const child = spawn(process.execPath, [script, JSON.stringify(job)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_, signal) => resolve(signal)),
  );
  const committed: string[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    const complete = buffered.split('\n');
    buffered = complete.pop() ?? '';
    committed.push(...complete);
    if (committed.length >= lines && !child.killed) child.kill('SIGKILL');
  });
  assert.equal(await exited, 'SIGKILL', 'the child was killed mid-write, not ended otherwise');
  return committed;
}

/** `PRAGMA integrity_check` of a SQLite file: 'ok' when it is sound. */
export async function sqliteIntegrity(path: string): Promise<string> {
  const { DatabaseSync } = await import('node:sqlite');
  const db = new DatabaseSync(path);
  try {
    return (db.prepare('PRAGMA integrity_check').get() as { integrity_check: string }).integrity_check;
  } finally {
    db.close();
  }
}

/** The value the child's write loop stores under `loop-<i>`: recognisable, and long enough to span pages. */
export function loopValue(i: number, bytes: number): string {
  return JSON.stringify({ i, fill: String(i % 10).repeat(bytes) });
}

/** The last JSON line a child printed. */
export function childResult<T>(run: { code: number | null; stdout: string; stderr: string }): T {
  assert.equal(run.code, 0, `child failed: ${run.stderr || run.stdout}`);
  const last = run.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(last) as T;
}
