/**
 * The hand-written memory store llm-factory had before `lru-cache` (a Map in recency order, bounded by
 * entries and by UTF-16 bytes, with a TTL per entry), kept only as the baseline of bench/memory-store.ts.
 */

import type { MemoryStoreOptions } from '../../src/middleware/cache/memory-store.ts';
import type { CacheStore } from '../../src/middleware/cache/store.ts';

interface Entry {
  value: string;
  expiresAt: number;
  bytes: number;
}

export class HandwrittenMemoryStore implements CacheStore {
  readonly #entries = new Map<string, Entry>();
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  #bytes = 0;

  constructor(options: MemoryStoreOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  async get(key: string): Promise<string | undefined> {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.#remove(key, entry);
      return undefined;
    }
    // Most recently used last: re-insert.
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry.value;
  }

  async set(key: string, value: string, ttlMs: number | undefined): Promise<void> {
    const bytes = (key.length + value.length) * 2;
    // The old value goes even when the new one is too big to keep: a get must never return a stale answer.
    const previous = this.#entries.get(key);
    if (previous) this.#remove(key, previous);
    if (bytes > this.#maxBytes) return;
    this.#entries.set(key, {
      value,
      bytes,
      expiresAt: ttlMs === undefined ? Number.POSITIVE_INFINITY : Date.now() + ttlMs,
    });
    this.#bytes += bytes;
    for (const [oldest, entry] of this.#entries) {
      if (this.#entries.size <= this.#maxEntries && this.#bytes <= this.#maxBytes) break;
      this.#remove(oldest, entry);
    }
  }

  async delete(key: string): Promise<void> {
    const entry = this.#entries.get(key);
    if (entry) this.#remove(key, entry);
  }

  async close(): Promise<void> {
    this.#entries.clear();
    this.#bytes = 0;
  }

  #remove(key: string, entry: Entry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.bytes;
  }
}
