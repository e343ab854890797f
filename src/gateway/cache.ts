/**
 * The gateway's response cache: an answer as the client received it (a JSON body, or a stream's SSE text),
 * keyed by a SHA-256 of the endpoint and the request body, inside a namespace per virtual key (identical
 * requests of two teams never share an answer unless `shared` says so). It lives where the state does —
 * beside the SQLite file, or in the same Redis, so that every gateway process and machine shares it — in the
 * library's cache stores. A store that fails is a miss, never a failed request.
 *
 * Clients opt out per request with `cache-control: no-cache` (do not read) or `no-store` (do not write).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { basename, dirname, extname, join } from 'node:path';
import { RedisStore } from '../middleware/cache/redis-store.ts';
import { SqliteStore } from '../middleware/cache/sqlite-store.ts';
import type { CacheStore } from '../middleware/cache/store.ts';
import type { GatewayState } from './config.ts';

export interface GatewayCacheConfig {
  /** How long an answer is kept, in ms. Default: 1 hour. */
  ttlMs?: number;
  /** Share answers across keys (by default each key has its own). Default false. */
  shared?: boolean;
  /** Largest answer stored, in bytes (a longer stream is passed on but not kept). Default 4 MiB. */
  maxEntryBytes?: number;
}

export interface CachedAnswer {
  /** `json` or `sse`. */
  kind: 'json' | 'sse';
  body: string;
}

const DEFAULT_TTL_MS = 3_600_000;
const DEFAULT_MAX_ENTRY_BYTES = 4 * 1024 * 1024;

/** The cache's SQLite file: beside the state's, `<name>.cache.sqlite`. */
export function cachePathFor(statePath: string): string {
  const extension = extname(statePath);
  return join(dirname(statePath), `${basename(statePath, extension)}.cache${extension || '.sqlite'}`);
}

export class GatewayCache {
  readonly #store: CacheStore;
  readonly #ttlMs: number;
  readonly #crossKeys: boolean;
  readonly maxEntryBytes: number;

  /** Opens the cache where the state lives: a SQLite file beside it, or the same Redis under `<prefix>cache:`. */
  static async open(state: GatewayState, config: GatewayCacheConfig): Promise<GatewayCache> {
    const store =
      state.kind === 'redis'
        ? await RedisStore.open(state.url, `${state.prefix}cache:`)
        : await SqliteStore.open(cachePathFor(state.path));
    return new GatewayCache(store, config);
  }

  constructor(store: CacheStore, config: GatewayCacheConfig) {
    this.#store = store;
    this.#ttlMs = config.ttlMs ?? DEFAULT_TTL_MS;
    this.#crossKeys = config.shared === true;
    this.maxEntryBytes = config.maxEntryBytes ?? DEFAULT_MAX_ENTRY_BYTES;
  }

  /** The entry's key: the endpoint and the body, in the key's namespace (or the shared one). */
  keyFor(keyId: string, endpoint: string, body: unknown): string {
    const scope = this.#crossKeys ? 'shared' : keyId;
    return `${scope}:${createHash('sha256').update(endpoint).update('\0').update(JSON.stringify(body)).digest('hex')}`;
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    try {
      const text = await this.#store.get(key);
      if (!text) return undefined;
      const entry = JSON.parse(text) as CachedAnswer;
      return (entry.kind === 'json' || entry.kind === 'sse') && typeof entry.body === 'string'
        ? entry
        : undefined;
    } catch {
      return undefined;
    }
  }

  async set(key: string, answer: CachedAnswer): Promise<void> {
    if (Buffer.byteLength(answer.body) > this.maxEntryBytes) return;
    try {
      await this.#store.set(key, JSON.stringify(answer), this.#ttlMs);
    } catch {
      // A cache that cannot be written is a cache that missed: the client has its answer.
    }
  }

  close(): Promise<void> {
    return this.#store.close();
  }
}

/** What the client's `cache-control` allows: reading, writing. */
export function cacheDirectives(req: IncomingMessage): { read: boolean; write: boolean } {
  const header = req.headers['cache-control'];
  const value = (Array.isArray(header) ? header.join(',') : (header ?? '')).toLowerCase();
  return {
    read: !value.includes('no-cache') && !value.includes('no-store'),
    write: !value.includes('no-store'),
  };
}
