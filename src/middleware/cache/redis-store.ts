/**
 * A cache shared by many processes and machines, in Redis, through the maintained `@redis/client`.
 *
 * A cache must never make a call wait on it: the connection is opened as `connectRedis` says (a server
 * that cannot be reached fails `open` at once, commands fail at once while it is down, an unanswered one
 * after `commandTimeoutMs`), and the cache layer turns each of those failures into a miss.
 */
import { connectRedis } from '../redis-connection.ts';
import type { CacheStore } from './store.ts';

type RedisClient = {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: { PX?: number }): Promise<unknown>;
  del(key: string): Promise<unknown>;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  destroy?(): void;
};

export interface RedisStoreOptions {
  /** Longest wait for the connection, in ms. Default 2 000. */
  connectTimeoutMs?: number;
  /** Longest wait for one command's answer, in ms. Default 1 000. */
  commandTimeoutMs?: number;
}

export class RedisStore implements CacheStore {
  readonly #client: RedisClient;
  readonly #prefix: string;

  private constructor(client: RedisClient, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  /** Connects to `url` (e.g. `redis://127.0.0.1:6379`). Keys are prefixed with `prefix`. */
  static async open(url: string, prefix = 'llmf:', options: RedisStoreOptions = {}): Promise<RedisStore> {
    const client = await connectRedis<RedisClient>(url, {
      connectTimeoutMs: options.connectTimeoutMs ?? 2_000,
      commandTimeoutMs: options.commandTimeoutMs ?? 1_000,
    });
    return new RedisStore(client, prefix);
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
    try {
      if (this.#client.close) await this.#client.close();
      else if (this.#client.quit) await this.#client.quit();
      else this.#client.destroy?.();
    } catch {
      // Already closed, or the server went away: nothing is left to release.
      this.#client.destroy?.();
    }
  }
}
