/**
 * A cache shared by many processes and machines, in Redis, through the maintained `@redis/client`.
 *
 * A cache must never make a call wait on it: `connectRedis` fails at once when the server cannot be reached,
 * commands issued while the connection is down fail at once instead of queueing until it returns, and a
 * command the server does not answer fails after `commandTimeoutMs`. The cache layer turns each of those
 * failures into a miss.
 */
import {
  closeRedis,
  connectRedis,
  type RedisConnection,
  type RedisConnectionOptions,
} from '../redis-connection.ts';
import type { CacheStore } from './store.ts';

type RedisClient = RedisConnection & {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: { PX?: number }): Promise<unknown>;
  del(key: string): Promise<unknown>;
};

export type RedisStoreOptions = RedisConnectionOptions;

export class RedisStore implements CacheStore {
  readonly #client: RedisClient;
  readonly #prefix: string;

  private constructor(client: RedisClient, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  /** Connects to `url` (e.g. `redis://127.0.0.1:6379`). Keys are prefixed with `prefix`. */
  static async open(url: string, prefix = 'llmf:', options: RedisStoreOptions = {}): Promise<RedisStore> {
    return new RedisStore(await connectRedis<RedisClient>(url, options), prefix);
  }

  async get(key: string): Promise<string | undefined> {
    return (await this.#client.get(this.#prefix + key)) ?? undefined;
  }

  async set(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    await this.#client.set(
      this.#prefix + key,
      value,
      ttlMs === undefined ? undefined : { PX: Math.max(1, Math.round(ttlMs)) },
    );
  }

  async delete(key: string): Promise<void> {
    await this.#client.del(this.#prefix + key);
  }

  async close(): Promise<void> {
    await closeRedis(this.#client);
  }
}
