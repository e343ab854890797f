/**
 * Stores are opened lazily (SQLite and Redis need I/O; client creation does not wait) and shared by every
 * client with the same store settings in this process — the same kind and place, or the same store object
 * — so identical requests from different clients coalesce and hit the same entries. The last client to
 * close closes the store (a store object passed in stays open: it is the caller's).
 *
 * A store that fails to open (Redis down, a locked or unwritable file) is tried again on a later call, at
 * most every few seconds; meanwhile the calls go upstream as if there were no cache.
 */
import { MemoryStore } from './memory-store.ts';
import { RedisStore } from './redis-store.ts';
import { SqliteStore } from './sqlite-store.ts';
import type { CacheStore } from './store.ts';

export interface CacheSettings {
  /** `memory` (default), `sqlite` (persistent, one file), `redis` (shared), or a store of your own. */
  store?: 'memory' | 'sqlite' | 'redis' | CacheStore;
  /** SQLite file. Default `.llmf-cache/cache.sqlite`. */
  path?: string;
  /** Redis URL. Default `REDIS_URL`, then `redis://127.0.0.1:6379`. */
  url?: string;
  /** Time to live of entries, in ms. Default: none. */
  ttlMs?: number;
  /** Share entries across credentials under this name. Default: one namespace per credential. */
  namespace?: string;
  /** Memory store bounds. Defaults 10 000 entries, 64 MiB. */
  maxEntries?: number;
  maxBytes?: number;
}

/** How long a store that failed to open is left alone before the next attempt. */
export const REOPEN_AFTER_MS = 5_000;

export interface SharedStore {
  /** The open store; rejects while it cannot be opened. */
  store(): Promise<CacheStore>;
  /** Identical requests in flight, by key. */
  inFlight: Map<string, Promise<unknown>>;
  users: number;
  /** Closes the store if it opened (without opening it again). */
  closeStore(): Promise<void>;
}

const shared = new Map<unknown, SharedStore>();

function keyOf(settings: CacheSettings): unknown {
  const kind = settings.store ?? 'memory';
  if (typeof kind !== 'string') return kind;
  if (kind === 'memory') return `memory|${settings.maxEntries ?? ''}|${settings.maxBytes ?? ''}`;
  if (kind === 'sqlite') return `sqlite|${settings.path ?? ''}`;
  return `redis|${settings.url ?? ''}`;
}

async function open(settings: CacheSettings): Promise<CacheStore> {
  const kind = settings.store ?? 'memory';
  if (typeof kind !== 'string') return kind;
  if (kind === 'memory') {
    const options: { maxEntries?: number; maxBytes?: number } = {};
    if (settings.maxEntries !== undefined) options.maxEntries = settings.maxEntries;
    if (settings.maxBytes !== undefined) options.maxBytes = settings.maxBytes;
    return new MemoryStore(options);
  }
  if (kind === 'sqlite') return SqliteStore.open(settings.path ?? '.llmf-cache/cache.sqlite');
  return RedisStore.open(settings.url ?? process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
}

function sharedStore(settings: CacheSettings): SharedStore {
  let current: Promise<CacheStore> | undefined;
  let failedAt: number | undefined;
  const attempt = () => {
    failedAt = undefined;
    const opening = open(settings);
    current = opening;
    // A store that fails to open fails no call and does not crash the process: it is retried later.
    opening.catch(() => {
      if (current === opening) failedAt = Date.now();
    });
    return opening;
  };
  attempt();
  return {
    store: () =>
      current === undefined || (failedAt !== undefined && Date.now() - failedAt >= REOPEN_AFTER_MS)
        ? attempt()
        : current,
    inFlight: new Map(),
    users: 0,
    closeStore: async () => {
      await current?.then((store) => store.close()).catch(() => {});
    },
  };
}

export function acquireStore(settings: CacheSettings): { shared: SharedStore; release: () => Promise<void> } {
  const key = keyOf(settings);
  let entry = shared.get(key);
  if (!entry) {
    entry = sharedStore(settings);
    shared.set(key, entry);
  }
  entry.users++;
  const held = entry;
  let released = false;
  return {
    shared: held,
    release: async () => {
      if (released) return;
      released = true;
      if (--held.users > 0) return;
      if (shared.get(key) === held) shared.delete(key);
      // A store passed in by the caller is the caller's to close.
      if (typeof settings.store === 'object') return;
      await held.closeStore();
    },
  };
}
