/**
 * A cache store: three methods (as undici's CacheStore), values as strings, TTL in ms. Memory, SQLite and
 * Redis stores implement it; a store of your own can too.
 */
export interface CacheStore {
  get(key: string): Promise<string | undefined>;
  set(key: string, value: string, ttlMs: number | undefined): Promise<void>;
  delete(key: string): Promise<void>;
  /** Releases files and connections. */
  close(): Promise<void>;
}
