/**
 * Who is calling: the master key (administration, and every model) or a virtual key from the store. Keys
 * are compared by their SHA-256 in constant time; a found key is kept in a small cache for `cacheMs` so the
 * hot path does not read the store on every request (a key revoked through this process is dropped from its
 * cache at once; other processes see it within `cacheMs`).
 */
import { LRUCache } from 'lru-cache';
import { GatewayError } from './errors.ts';
import { hashesEqual, keyDigest } from './state/keys.ts';
import type { GatewayStore, KeyRecord } from './state/types.ts';

export type Principal = { kind: 'master'; name: 'master' } | { kind: 'key'; name: string; record: KeyRecord };

export class KeyAuth {
  readonly #store: GatewayStore;
  readonly #master: Buffer | undefined;
  readonly #cache: LRUCache<string, { record: KeyRecord }>;

  constructor(store: GatewayStore, masterKey: string | undefined, cacheMs = 2_000) {
    this.#store = store;
    this.#master = masterKey ? Buffer.from(keyDigest(masterKey), 'base64') : undefined;
    this.#cache = new LRUCache({ max: 10_000, ttl: cacheMs });
  }

  /** True when `key` is the master key (constant time). */
  isMaster(key: string): boolean {
    return this.#isMasterDigest(keyDigest(key));
  }

  #isMasterDigest(hashed: string): boolean {
    return this.#master !== undefined && hashesEqual(Buffer.from(hashed, 'base64'), this.#master);
  }

  /** The caller, or a 401 that says what is wrong without saying whether a key exists. */
  async authenticate(key: string | undefined, now: number): Promise<Principal> {
    if (!key) {
      throw new GatewayError(
        401,
        'authentication_error',
        'No API key: send `Authorization: Bearer <key>` or `x-api-key: <key>`',
      );
    }
    // One hash a request: it is compared with the master key's and names the key in the cache.
    const hashed = keyDigest(key);
    if (this.#isMasterDigest(hashed)) return { kind: 'master', name: 'master' };
    let record = this.#cache.get(hashed)?.record;
    if (!record) {
      record = await this.#store.findKey(key);
      if (!record)
        throw new GatewayError(401, 'authentication_error', 'Invalid API key', { code: 'invalid_api_key' });
      this.#cache.set(hashed, { record });
    }
    if (record.revokedAt !== undefined) {
      throw new GatewayError(401, 'authentication_error', 'This API key has been revoked', {
        code: 'key_revoked',
      });
    }
    if (record.expiresAt !== undefined && record.expiresAt <= now) {
      throw new GatewayError(401, 'authentication_error', 'This API key has expired', {
        code: 'key_expired',
      });
    }
    return { kind: 'key', name: record.name, record };
  }

  /** Forgets what this process cached about a key (after it is revoked here). */
  forget(id: string): void {
    for (const [cacheKey, entry] of this.#cache.entries())
      if (entry.record.id === id) this.#cache.delete(cacheKey);
  }
}

/** A 403 unless the key may use `model`. */
export function checkModel(principal: Principal, model: string): void {
  if (principal.kind === 'master') return;
  const allowed = principal.record.models;
  if (allowed && !allowed.includes(model)) {
    throw new GatewayError(
      403,
      'permission_error',
      `This key may not use model '${model}' (allowed: ${allowed.join(', ')})`,
      {
        code: 'model_not_allowed',
      },
    );
  }
}
