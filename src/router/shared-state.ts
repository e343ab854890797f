/**
 * Health shared through Redis, so that every process and machine running the same router sees the same
 * cooldowns, failure counts, calls in flight, latencies and per-minute usage.
 *
 * Memory first: the hot path reads only the local records (`health.ts`). What must be right at once is
 * written and read on the failure path, atomically: a failure is counted with one `INCR` whose answer is
 * every process's count, and a cooldown is set with a script that only ever extends it. Everything else
 * (usage deltas, own calls in flight, own latency) is exchanged in one pipelined round trip every
 * `syncIntervalMs`, which also brings in other processes' cooldowns. A new process waits for its first
 * exchange before its first call (at most `connectTimeoutMs`).
 *
 * Keys (prefix `llmf:router:` by default), per deployment id:
 *   {prefix}cooldown:{id}          string: the error code; PX = the cooldown left
 *   {prefix}fails:{id}             integer: failures in the window; PX = the window left
 *   {prefix}usage:{id}:{minute}    hash { r, t }: requests and tokens in that epoch minute; PX 130 s
 *   {prefix}inflight:{id}          hash { <process>: "<count>:<epoch ms>" }; stale fields are ignored
 *   {prefix}latency:{id}           hash { <process>: "<ewma ms>:<ttft ewma ms>:<epoch ms>" }
 *
 * An outage never fails a call: a server that cannot be reached is tried again every few seconds while
 * the router runs on its local records; a command that fails or times out pauses the failure-path writes
 * for a few seconds, so calls never queue behind a dead server.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { connectRedis, type RedisConnection } from '../middleware/redis-connection.ts';
import type { Clock, DeploymentStats } from './health.ts';
import type { RouterStateConfig } from './types.ts';

const DEFAULT_PREFIX = 'llmf:router:';
const DEFAULT_SYNC_INTERVAL_MS = 100;

/** Where and how to share state, from the `state` field; undefined for state in memory. */
export function redisStateSettings(
  state: RouterStateConfig | undefined,
): Pick<RedisStateOptions, 'url' | 'prefix' | 'syncIntervalMs'> | undefined {
  if (state === undefined || state === 'memory') return undefined;
  const given =
    typeof state === 'string'
      ? { redis: state === 'redis' ? (process.env.REDIS_URL ?? 'redis://127.0.0.1:6379') : state }
      : state;
  return {
    url: given.redis,
    prefix: given.prefix ?? DEFAULT_PREFIX,
    syncIntervalMs: given.syncIntervalMs ?? DEFAULT_SYNC_INTERVAL_MS,
  };
}

export interface SharedState {
  /** Settles once the first exchange is done or has failed. */
  ready(): Promise<void>;
  /** Counts a failure for every process; resolves to the shared count, or undefined when Redis is away. */
  countFailure(id: string, windowMs: number): Promise<number | undefined>;
  /** Cools a deployment for every process; a shorter cooldown never replaces a longer one. */
  cool(id: string, cooldownMs: number, code: string): Promise<void>;
  close(): Promise<void>;
}

export interface RedisStateOptions {
  url: string;
  prefix: string;
  syncIntervalMs: number;
  clock: Clock;
  /** Longest wait for the connection, in ms. Default 1 000. */
  connectTimeoutMs?: number;
  /** Longest wait for one command, in ms. Default 500. */
  commandTimeoutMs?: number;
}

type Reply = string | number | null | Record<string, string> | string[];
interface RedisClient extends RedisConnection {
  isReady: boolean;
  ref(): void;
  unref(): void;
  sendCommand(args: string[]): Promise<Reply>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<Reply>;
  destroy(): void;
}

/** How long after a failed connection or command the router leaves Redis alone. */
const RETRY_AFTER_MS = 5_000;
/** A process's in-flight count older than this is from a process that is gone. */
const STALE_IN_FLIGHT_MS = 10_000;
const STALE_LATENCY_MS = 300_000;
const MINUTE_MS = 60_000;

const COUNT_FAILURE = `local n = redis.call('INCR', KEYS[1])
if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n`;

const EXTEND_COOLDOWN = `local left = redis.call('PTTL', KEYS[1])
if left >= tonumber(ARGV[1]) then return left end
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[1])
return tonumber(ARGV[1])`;

function fields(reply: Reply): Record<string, string> {
  if (Array.isArray(reply)) {
    const out: Record<string, string> = {};
    for (let i = 0; i + 1 < reply.length; i += 2) out[reply[i]!] = reply[i + 1]!;
    return out;
  }
  return reply !== null && typeof reply === 'object' ? reply : {};
}

export class RedisState implements SharedState {
  readonly #stats: readonly DeploymentStats[];
  readonly #options: RedisStateOptions;
  readonly #process = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  /** Usage already added to Redis, per deployment and minute. */
  readonly #pushed = new Map<string, Map<number, { requests: number; tokens: number }>>();
  readonly #ready: Promise<void>;
  readonly #timer: NodeJS.Timeout;
  #client: RedisClient | undefined;
  #openedAt = 0;
  #pausedUntil = 0;
  #syncing = false;
  #closed = false;
  /** Awaited operations in progress: while there are any, the connection keeps the process alive. */
  #holds = 0;

  constructor(stats: readonly DeploymentStats[], options: RedisStateOptions) {
    this.#stats = stats;
    this.#options = options;
    this.#ready = this.#open().then(() => this.#sync());
    this.#timer = setInterval(() => void this.#tick().catch(() => {}), options.syncIntervalMs);
    this.#timer.unref();
  }

  ready(): Promise<void> {
    return this.#ready;
  }

  #key(kind: string, id: string): string {
    return `${this.#options.prefix}${kind}:${id}`;
  }

  #usable(): RedisClient | undefined {
    const client = this.#client;
    return client?.isReady && this.#options.clock.now() >= this.#pausedUntil ? client : undefined;
  }

  async #open(): Promise<void> {
    this.#openedAt = this.#options.clock.now();
    let client: RedisClient;
    try {
      client = await connectRedis<RedisClient>(this.#options.url, {
        connectTimeoutMs: this.#options.connectTimeoutMs ?? 1_000,
        commandTimeoutMs: this.#options.commandTimeoutMs ?? 500,
      });
    } catch {
      // Tried again by the timer, every few seconds; meanwhile the router runs on its own records.
      return;
    }
    if (this.#closed) {
      client.destroy();
      return;
    }
    // Shared state must not keep a process alive that has nothing else to do (like the timer); an
    // operation a call or `close()` awaits holds it (`#held`).
    if (this.#holds === 0) client.unref();
    this.#client = client;
  }

  async #tick(): Promise<void> {
    if (this.#closed || this.#syncing) return;
    if (!this.#client && this.#options.clock.now() - this.#openedAt >= RETRY_AFTER_MS) await this.#open();
    await this.#sync();
  }

  /** Runs `operation` with the connection keeping the process alive until it settles. */
  async #held<T>(client: RedisClient, operation: () => Promise<T>): Promise<T> {
    if (this.#holds++ === 0) client.ref();
    try {
      return await operation();
    } finally {
      if (--this.#holds === 0) client.unref();
    }
  }

  async countFailure(id: string, windowMs: number): Promise<number | undefined> {
    const client = this.#usable();
    if (!client) return undefined;
    try {
      const count = await this.#held(client, () =>
        client.eval(COUNT_FAILURE, {
          keys: [this.#key('fails', id)],
          arguments: [String(Math.max(1, Math.round(windowMs)))],
        }),
      );
      return typeof count === 'number' ? count : undefined;
    } catch {
      this.#pausedUntil = this.#options.clock.now() + RETRY_AFTER_MS;
      return undefined;
    }
  }

  async cool(id: string, cooldownMs: number, code: string): Promise<void> {
    const client = this.#usable();
    if (!client) return;
    try {
      await this.#held(client, () =>
        client.eval(EXTEND_COOLDOWN, {
          keys: [this.#key('cooldown', id)],
          arguments: [String(Math.max(1, Math.round(cooldownMs))), code],
        }),
      );
    } catch {
      this.#pausedUntil = this.#options.clock.now() + RETRY_AFTER_MS;
    }
  }

  /** One round trip: push this process's numbers, pull everyone's. */
  async #sync(): Promise<void> {
    const client = this.#client;
    if (!client?.isReady || this.#syncing) return;
    await this.#syncWith(client);
  }

  async #syncWith(client: RedisClient): Promise<void> {
    this.#syncing = true;
    try {
      await Promise.all(this.#stats.map((stats) => this.#exchange(client, stats)));
    } catch {
      // Counters catch up at the next exchange; a call never waits for this one.
    } finally {
      this.#syncing = false;
    }
  }

  async #exchange(client: RedisClient, stats: DeploymentStats): Promise<void> {
    const now = this.#options.clock.now();
    const send = (...args: string[]) => client.sendCommand(args);
    const cooldownKey = this.#key('cooldown', stats.id);
    const inFlightKey = this.#key('inflight', stats.id);
    const latencyKey = this.#key('latency', stats.id);
    const usage = stats.usage;
    usage.roll(now);
    const minute = usage.minute;
    const pushes: Array<Promise<Reply>> = [];
    for (const [at, requests, tokens] of [
      [minute - 1, usage.previousRequests, usage.previousTokens],
      [minute, usage.requests, usage.tokens],
    ] as const) {
      const pushed = this.#pushedFor(stats.id, at);
      const key = this.#key('usage', `${stats.id}:${at}`);
      if (requests > pushed.requests)
        pushes.push(send('HINCRBY', key, 'r', String(requests - pushed.requests)));
      if (tokens > pushed.tokens)
        pushes.push(send('HINCRBY', key, 't', String(Math.round(tokens - pushed.tokens))));
      if (requests > pushed.requests || tokens > pushed.tokens)
        pushes.push(send('PEXPIRE', key, String(2 * MINUTE_MS + 10_000)));
      // Counted as pushed before the answer: a lost write undercounts rather than counts twice.
      pushed.requests = requests;
      pushed.tokens = tokens;
    }
    pushes.push(send('HSET', inFlightKey, this.#process, `${stats.inFlight}:${now}`));
    pushes.push(send('PEXPIRE', inFlightKey, String(STALE_IN_FLIGHT_MS * 6)));
    if (stats.latency.ewmaMs !== undefined || stats.ttft.ewmaMs !== undefined) {
      const value = `${stats.latency.ewmaMs ?? ''}:${stats.ttft.ewmaMs ?? ''}:${now}`;
      pushes.push(send('HSET', latencyKey, this.#process, value));
      pushes.push(send('PEXPIRE', latencyKey, String(STALE_LATENCY_MS)));
    }
    const [cooldownLeft, cooldownCode, current, previous, inFlight, latency] = await Promise.all([
      send('PTTL', cooldownKey),
      send('GET', cooldownKey),
      send('HGETALL', this.#key('usage', `${stats.id}:${minute}`)),
      send('HGETALL', this.#key('usage', `${stats.id}:${minute - 1}`)),
      send('HGETALL', inFlightKey),
      send('HGETALL', latencyKey),
      ...pushes,
    ]);
    if (typeof cooldownLeft === 'number' && cooldownLeft > 0)
      stats.coolUntil(now + cooldownLeft, typeof cooldownCode === 'string' ? cooldownCode : 'shared');
    if (usage.minute === minute) {
      const mine = this.#pushedFor(stats.id, minute);
      const minePrevious = this.#pushedFor(stats.id, minute - 1);
      const total = fields(current as Reply);
      const totalPrevious = fields(previous as Reply);
      usage.othersRequests = Math.max(0, Number(total.r ?? 0) - mine.requests);
      usage.othersTokens = Math.max(0, Number(total.t ?? 0) - mine.tokens);
      usage.othersPreviousRequests = Math.max(0, Number(totalPrevious.r ?? 0) - minePrevious.requests);
      usage.othersPreviousTokens = Math.max(0, Number(totalPrevious.t ?? 0) - minePrevious.tokens);
    }
    let othersInFlight = 0;
    for (const [owner, value] of Object.entries(fields(inFlight as Reply))) {
      if (owner === this.#process) continue;
      const [count, at] = value.split(':').map(Number);
      if (now - (at ?? 0) <= STALE_IN_FLIGHT_MS) othersInFlight += count ?? 0;
    }
    stats.othersInFlight = othersInFlight;
    const latencies: number[] = [];
    const ttfts: number[] = [];
    for (const [owner, value] of Object.entries(fields(latency as Reply))) {
      if (owner === this.#process) continue;
      const [whole, first, at] = value.split(':');
      if (now - Number(at) > STALE_LATENCY_MS) continue;
      if (whole) latencies.push(Number(whole));
      if (first) ttfts.push(Number(first));
    }
    stats.latency.othersMs = latencies.length
      ? latencies.reduce((a, b) => a + b) / latencies.length
      : undefined;
    stats.ttft.othersMs = ttfts.length ? ttfts.reduce((a, b) => a + b) / ttfts.length : undefined;
  }

  #pushedFor(id: string, minute: number): { requests: number; tokens: number } {
    let byMinute = this.#pushed.get(id);
    if (!byMinute) {
      byMinute = new Map();
      this.#pushed.set(id, byMinute);
    }
    let pushed = byMinute.get(minute);
    if (!pushed) {
      pushed = { requests: 0, tokens: 0 };
      byMinute.set(minute, pushed);
      for (const old of byMinute.keys()) if (old < minute - 1) byMinute.delete(old);
    }
    return pushed;
  }

  /** Pushes what is left and takes this process's in-flight entries out of Redis (its latencies stay useful). */
  async close(): Promise<void> {
    if (this.#closed) return;
    clearInterval(this.#timer);
    await this.#ready;
    const client = this.#client;
    this.#closed = true;
    this.#client = undefined;
    if (!client) return;
    try {
      await this.#held(client, async () => {
        while (this.#syncing) await new Promise((resolve) => setTimeout(resolve, 5));
        if (!client.isReady) return;
        await this.#syncWith(client);
        await Promise.all(
          this.#stats.map((stats) =>
            client.sendCommand(['HDEL', this.#key('inflight', stats.id), this.#process]),
          ),
        );
      });
      await client.close?.();
    } catch {
      client.destroy();
    }
  }
}
