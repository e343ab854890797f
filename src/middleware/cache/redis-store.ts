/** A cache shared by many processes and machines, in Redis, through the maintained `@redis/client`. */
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

export class RedisStore implements CacheStore {
  readonly #client: RedisClient;
  readonly #prefix: string;

  private constructor(client: RedisClient, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  /** Connects to `url` (e.g. `redis://127.0.0.1:6379`). Keys are prefixed with `prefix`. */
  static async open(url: string, prefix = 'llmf:'): Promise<RedisStore> {
    const { createClient } = await import('@redis/client');
    const client = createClient({
      url,
      socket: { reconnectStrategy: (retries: number) => Math.min(retries * 100, 2000) },
    }) as unknown as RedisClient;
    // Connection errors surface on the calls that need the server; the event must not crash the process.
    client.on('error', () => {});
    await client.connect();
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
    if (this.#client.close) await this.#client.close();
    else if (this.#client.quit) await this.#client.quit();
    else this.#client.destroy?.();
  }
}
