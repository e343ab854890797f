/**
 * Stores are opened lazily (SQLite and Redis need I/O; client creation does not wait) and shared by every
 * client with the same store settings in this process, so identical requests from different clients
 * coalesce and hit the same entries. The last client to close closes the store.
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

export interface SharedStore {
  store: Promise<CacheStore>;
  /** Identical requests in flight, by key. */
  inFlight: Map<string, Promise<unknown>>;
  users: number;
}

const shared = new Map<string, SharedStore>();

function keyOf(settings: CacheSettings): string | undefined {
  const kind = settings.store ?? 'memory';
  if (typeof kind !== 'string') return undefined;
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

export function acquireStore(settings: CacheSettings): { shared: SharedStore; release: () => Promise<void> } {
  const key = keyOf(settings);
  let entry = key === undefined ? undefined : shared.get(key);
  if (!entry) {
    entry = { store: open(settings), inFlight: new Map(), users: 0 };
    // A store that fails to open fails the calls that use it, not the process.
    entry.store.catch(() => {});
    if (key !== undefined) shared.set(key, entry);
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
      if (key !== undefined && shared.get(key) === held) shared.delete(key);
      // A store passed in by the caller is the caller's to close.
      if (typeof settings.store === 'object') return;
      await held.store.then((store) => store.close()).catch(() => {});
    },
  };
}
