/**
 * An in-memory LRU bounded by entries and by bytes (UTF-16 length × 2 of key and value), with a TTL per
 * entry: `lru-cache`, which measured as fast as the hand-written store it replaced (bench/RESULTS.md,
 * "Memory cache store").
 */
import { LRUCache } from 'lru-cache';
import type { CacheStore } from './store.ts';

export interface MemoryStoreOptions {
  /** Most entries kept. Default 10 000. */
  maxEntries?: number;
  /** Most bytes kept. Default 64 MiB. */
  maxBytes?: number;
}

/** Wall-clock time, as the SQLite and Redis stores use: a TTL is the same span in every store. */
const wallClock = { now: () => Date.now() };

export class MemoryStore implements CacheStore {
  readonly #entries: LRUCache<string, string>;

  constructor(options: MemoryStoreOptions = {}) {
    this.#entries = new LRUCache<string, string>({
      max: options.maxEntries ?? 10_000,
      maxSize: options.maxBytes ?? 64 * 1024 * 1024,
      // A value larger than maxSize is not kept, and the old value of its key goes too: never a stale answer.
      sizeCalculation: (value, key) => Math.max(1, (key.length + value.length) * 2),
      perf: wallClock,
      // Read the clock on every check rather than arm a timer to cache it (lru-cache's default).
      ttlResolution: 0,
    });
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#entries.calculatedSize;
  }

  async get(key: string): Promise<string | undefined> {
    return this.#entries.get(key);
  }

  async set(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    if (ttlMs === undefined) {
      this.#entries.set(key, value);
      return;
    }
    // lru-cache reads a TTL of 0 as "none": such an entry is expired at once, so it is not kept at all.
    if (ttlMs <= 0) {
      this.#entries.delete(key);
      return;
    }
    // An entry is gone at set time + TTL, as in the SQLite store; lru-cache keeps it while its whole-ms age
    // is at most its TTL, so the TTL it is given is half a millisecond short of the next whole one.
    this.#entries.set(key, value, { ttl: Math.ceil(ttlMs) - 0.5 });
  }

  async delete(key: string): Promise<void> {
    this.#entries.delete(key);
  }

  async close(): Promise<void> {
    this.#entries.clear();
  }
}
