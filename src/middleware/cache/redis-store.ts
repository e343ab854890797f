/**
 * A cache shared by many processes and machines, in Redis, through the maintained `@redis/client`.
 *
 * A cache must never make a call wait on it: a server that cannot be reached fails `open` at once (no
 * endless reconnect loop behind a pending promise), commands issued while the connection is down fail at
 * once instead of queueing until it returns, and a command the server does not answer fails after
 * `commandTimeoutMs`. The cache layer turns each of those failures into a miss.
 */
import type { CacheStore } from './store.ts';

type RedisClient = {
  connect(): Promise<unknown>;
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options?: { PX?: number }): Promise<unknown>;
  del(key: string): Promise<unknown>;
  quit?(): Promise<unknown>;
  close?(): Promise<unknown>;
  destroy?(): void;
  on(event: 'error', listener: (error: Error) => void): unknown;
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
    const { createClient } = await import('@redis/client');
    let connected = false;
    const client = createClient({
      url,
      disableOfflineQueue: true,
      commandOptions: { timeout: options.commandTimeoutMs ?? 1_000 },
      socket: {
        connectTimeout: options.connectTimeoutMs ?? 2_000,
        // The first connection is tried once: `open` fails and the cache layer tries again later. Once
        // connected, a lost connection is re-established in the background.
        reconnectStrategy: (retries: number, cause: Error) =>
          connected ? Math.min(retries * 100, 2_000) : cause,
      },
    }) as unknown as RedisClient;
    // Connection errors surface on the calls that need the server; the event must not crash the process.
    client.on('error', () => {});
    try {
      await client.connect();
    } catch (error) {
      client.destroy?.();
      throw error;
    }
    connected = true;
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
