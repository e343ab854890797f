/**
 * The gateway's state in Redis, so that any number of gateway processes and machines share keys, limits,
 * budgets and the ledger. `reserve` and `settle` are each one Lua script (redis-scripts.ts, with the key
 * layout): atomic on the server.
 *
 * When Redis cannot be reached, `reserve` refuses (`reason: 'unavailable'`, a 503: a budget is not a budget if
 * an outage lifts it) or, with `whenUnavailable: 'admit'`, lets the call through unlimited, and `findKey`
 * recognises the keys it found before the outage. A settlement that cannot be written waits in memory (up to
 * `maxPendingSettlements`) and is written when Redis answers again. Other key operations (and `findKey` of a
 * key not seen before) throw `GatewayStateUnavailableError`.
 */
import { LRUCache } from 'lru-cache';
import {
  closeRedis,
  connectRedis,
  type RedisConnection,
  type RedisConnectionOptions,
} from '../../middleware/redis-connection.ts';
import { GatewayStateUnavailableError } from './errors.ts';
import { displayPrefix, generateKey, hashesEqual, hashKey, looksLikeKey, newKeyId } from './keys.ts';
import {
  bucketOf,
  DEFAULT_RESERVATION_TTL_MS,
  keyRefusal,
  keySpend,
  type LimitReason,
  missingKeyRefusal,
  periodAt,
  refusalFor,
  toNanos,
  UNAVAILABLE_RETRY_MS,
  WINDOW_BUCKETS,
  WINDOW_MS,
} from './limits.ts';
import { PendingWrites } from './pending-writes.ts';
import {
  bucketsOf,
  ledgerEntryOf,
  ledgerFields,
  RESERVE,
  recordOf,
  type Script,
  SETTLE,
  type StoredKey,
  withoutHash,
} from './redis-scripts.ts';
import type {
  GatewayStore,
  KeyRecord,
  KeySpec,
  KeySpend,
  LedgerEntry,
  Refusal,
  Reservation,
} from './types.ts';
import {
  duplicateReservation,
  validateKeySpec,
  validateLedgerEntry,
  validateReservation,
} from './validate.ts';

interface RedisMulti {
  addCommand(args: string[]): RedisMulti;
  exec(): Promise<unknown[]>;
}

type RedisClient = RedisConnection & {
  sendCommand(args: string[]): Promise<unknown>;
  multi(): RedisMulti;
};

export interface RedisGatewayStoreOptions extends RedisConnectionOptions {
  /** Prefix of every Redis key. Default `llmf:gw:`. */
  prefix?: string;
  /**
   * What happens to requests while Redis cannot be reached: `refuse` (default: `reserve` refuses, the gateway
   * answers 503 with a clear message) or `admit` (keys found before the outage still pass `findKey`, and their
   * calls go ahead with no limit or budget checked; their charges are written once Redis is back).
   */
  whenUnavailable?: 'refuse' | 'admit';
  /** How long a reservation holds budget when its call is never settled (a crashed process), in ms. Default 15 min. */
  reservationTtlMs?: number;
  /** Ledger rows kept per key, newest first (spend totals are kept whole). Default 100 000. */
  ledgerMaxEntries?: number;
  /** Settlements kept in memory while Redis cannot be reached, written when it answers. Default 10 000. */
  maxPendingSettlements?: number;
}

export class RedisGatewayStore implements GatewayStore {
  readonly #client: RedisClient;
  readonly #prefix: string;
  readonly #whenUnavailable: 'refuse' | 'admit';
  readonly #reservationTtlMs: number;
  readonly #ledgerMaxEntries: number;
  readonly #isServerError: (error: unknown) => boolean;
  /** Settlements waiting for Redis, oldest first. */
  readonly #pending: PendingWrites;
  /** Reservations admitted while Redis was unreachable: nothing to return when they settle. */
  readonly #admittedUnheld = new Set<string>();
  /**
   * With `admit`: the keys found lately (by hash, never the key), so that they still pass while Redis cannot
   * be reached. A key nobody presented before the outage, or revoked during it, cannot be checked then.
   */
  readonly #knownKeys: LRUCache<string, KeyRecord> | undefined;

  private constructor(
    client: RedisClient,
    isServerError: (error: unknown) => boolean,
    options: RedisGatewayStoreOptions,
  ) {
    this.#client = client;
    this.#isServerError = isServerError;
    this.#prefix = options.prefix ?? 'llmf:gw:';
    this.#whenUnavailable = options.whenUnavailable ?? 'refuse';
    this.#reservationTtlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
    this.#ledgerMaxEntries = options.ledgerMaxEntries ?? 100_000;
    this.#pending = new PendingWrites(options.maxPendingSettlements ?? 10_000, isServerError);
    this.#knownKeys = this.#whenUnavailable === 'admit' ? new LRUCache({ max: 10_000 }) : undefined;
  }

  /** Connects to `url` (`redis://…`); fails at once when the server cannot be reached. */
  static async open(url: string, options: RedisGatewayStoreOptions = {}): Promise<RedisGatewayStore> {
    const { ErrorReply } = await import('@redis/client');
    let client: RedisClient;
    try {
      client = await connectRedis<RedisClient>(url, options);
    } catch (error) {
      throw new GatewayStateUnavailableError('opening the store', error);
    }
    return new RedisGatewayStore(client, (error) => error instanceof ErrorReply, options);
  }

  /** Settlements waiting in memory for Redis. */
  get pendingSettlements(): number {
    return this.#pending.size;
  }

  /** Settlements lost: more than `maxPendingSettlements` waited, or the server refused one. */
  get droppedSettlements(): number {
    return this.#pending.dropped;
  }

  #key(id: string, part = ''): string {
    return `${this.#prefix}k:{${id}}${part}`;
  }

  /** The keys both scripts take, in their order: the key, its window, leases, lease costs, a period's spend. */
  #keysOf(id: string, periodStart: number): string[] {
    return [
      this.#key(id),
      this.#key(id, ':w'),
      this.#key(id, ':res'),
      this.#key(id, ':rc'),
      this.#key(id, `:p:${periodStart}`),
    ];
  }

  /** Runs a command; a failure to reach Redis becomes `GatewayStateUnavailableError` (a server error stays). */
  async #command<T>(operation: string, run: () => Promise<unknown>): Promise<T> {
    try {
      return (await run()) as T;
    } catch (error) {
      if (this.#isServerError(error)) throw error;
      throw new GatewayStateUnavailableError(operation, error);
    }
  }

  async #script(script: Script, keys: string[], args: string[]): Promise<unknown> {
    const tail = [String(keys.length), ...keys, ...args];
    try {
      return await this.#client.sendCommand(['EVALSHA', script.sha1, ...tail]);
    } catch (error) {
      if (!(error as Error)?.message?.startsWith('NOSCRIPT')) throw error;
      return this.#client.sendCommand(['EVAL', script.source, ...tail]);
    }
  }

  async createKey(spec: KeySpec): Promise<{ record: KeyRecord; key: string }> {
    const clean = validateKeySpec(spec);
    const key = generateKey();
    const hash = hashKey(key).toString('hex');
    const record: KeyRecord = { ...clean, id: newKeyId(), prefix: displayPrefix(key), createdAt: Date.now() };
    const json = JSON.stringify(record);
    const stored = JSON.stringify({ ...record, hash } satisfies StoredKey);
    await this.#command('creating a key', () =>
      this.#client
        .multi()
        .addCommand(['SET', `${this.#prefix}h:${hash}`, stored])
        .addCommand(['HSET', this.#key(record.id), 'record', json, 'hash', hash])
        .addCommand(['ZADD', `${this.#prefix}ids`, String(record.createdAt), record.id])
        .exec(),
    );
    return { record, key };
  }

  async findKey(key: string): Promise<KeyRecord | undefined> {
    if (!looksLikeKey(key)) return undefined;
    const hash = hashKey(key);
    const hex = hash.toString('hex');
    let stored: string | null;
    try {
      stored = await this.#command<string | null>('checking a key', () =>
        this.#client.sendCommand(['GET', `${this.#prefix}h:${hex}`]),
      );
    } catch (error) {
      const known = this.#knownKeys?.get(hex);
      if (known && error instanceof GatewayStateUnavailableError) return known;
      throw error;
    }
    const found = stored === null ? undefined : (JSON.parse(stored) as StoredKey);
    if (!found || !hashesEqual(Buffer.from(found.hash, 'hex'), hash)) {
      this.#knownKeys?.delete(hex);
      return undefined;
    }
    const record = withoutHash(found);
    this.#knownKeys?.set(hex, record);
    return record;
  }

  async listKeys(): Promise<KeyRecord[]> {
    const ids = await this.#command<string[]>('listing keys', () =>
      this.#client.sendCommand(['ZRANGE', `${this.#prefix}ids`, '0', '-1']),
    );
    const records = await Promise.all(ids.map((id) => this.getKey(id)));
    return records.filter((record) => record !== undefined);
  }

  async getKey(id: string): Promise<KeyRecord | undefined> {
    const json = await this.#command<string | null>('reading a key', () =>
      this.#client.sendCommand(['HGET', this.#key(id), 'record']),
    );
    return json === null ? undefined : recordOf(json);
  }

  async revokeKey(id: string): Promise<boolean> {
    const key = this.#key(id);
    const [json, hash] = await this.#command<Array<string | null>>('revoking a key', () =>
      this.#client.sendCommand(['HMGET', key, 'record', 'hash']),
    );
    if (json == null || hash == null) return false;
    const [, revokedAt] = await this.#command<[number, string]>('revoking a key', () =>
      this.#client
        .multi()
        .addCommand(['HSETNX', key, 'revokedAt', String(Date.now())])
        .addCommand(['HGET', key, 'revokedAt'])
        .exec(),
    );
    // Concurrent revocations all read the first `revokedAt`, so they all write the same record.
    const record: KeyRecord = { ...(JSON.parse(json) as KeyRecord), revokedAt: Number(revokedAt) };
    await this.#command('revoking a key', () =>
      this.#client
        .multi()
        .addCommand(['HSET', key, 'record', JSON.stringify(record)])
        .addCommand(['SET', `${this.#prefix}h:${hash}`, JSON.stringify({ ...record, hash })])
        .exec(),
    );
    return true;
  }

  async reserve(record: KeyRecord, reservation: Reservation): Promise<Refusal | undefined> {
    validateReservation(record, reservation);
    const ended = keyRefusal(record, reservation.at);
    if (ended) return ended;
    const { at } = reservation;
    const period = periodAt(record.budgetPeriod, at);
    let reply: unknown[];
    try {
      reply = (await this.#script(RESERVE, this.#keysOf(record.id, period.start), [
        String(bucketOf(at)),
        String(WINDOW_BUCKETS),
        record.rpm === undefined ? '' : String(record.rpm),
        record.tpm === undefined ? '' : String(record.tpm),
        String(reservation.tokens),
        record.budgetUsd === undefined ? '' : String(toNanos(record.budgetUsd)),
        String(toNanos(reservation.costUsd)),
        reservation.requestId,
        String(at + this.#reservationTtlMs),
        String(at),
        String(2 * WINDOW_MS),
      ])) as unknown[];
    } catch (error) {
      if (this.#isServerError(error)) throw error;
      if (this.#whenUnavailable === 'admit') {
        this.#admittedUnheld.add(reservation.requestId);
        return undefined;
      }
      return {
        reason: 'unavailable',
        message: `The gateway's state store (Redis) cannot be reached (${(error as Error).message}), so the limits and budget of key "${record.name}" cannot be checked; the request is refused (state setting whenUnavailable: 'refuse').`,
        retryAfterMs: UNAVAILABLE_RETRY_MS,
      };
    }
    this.#pending.flushSoon();
    const [status] = reply;
    if (status === 'ok') return undefined;
    if (status === 'missing') {
      return missingKeyRefusal(record);
    }
    if (status === 'revoked') return keyRefusal(record, at, Number(reply[1]));
    if (status === 'duplicate') {
      throw duplicateReservation(reservation);
    }
    const [, reasons, requests, tokens, spentNanos, reservedNanos, window] = reply as [
      string,
      string,
      number,
      number,
      number,
      number,
      string[],
    ];
    return refusalFor(
      reasons.split(',') as LimitReason[],
      record,
      reservation,
      { requests, tokens, spentNanos, reservedNanos },
      bucketsOf(window),
    );
  }

  async settle(record: KeyRecord, reservation: Reservation, entry: LedgerEntry | undefined): Promise<void> {
    validateReservation(record, reservation);
    if (entry) validateLedgerEntry(record, entry);
    const unheld = this.#admittedUnheld.delete(reservation.requestId);
    const windowed = !unheld && (record.rpm !== undefined || record.tpm !== undefined);
    const used = entry ? entry.inputTokens + entry.outputTokens : 0;
    const costNanos = entry?.costUsd === undefined ? '' : String(toNanos(entry.costUsd));
    const period = periodAt(record.budgetPeriod, entry?.at ?? reservation.at);
    const write = async () => {
      await this.#script(
        SETTLE,
        [...this.#keysOf(record.id, period.start), this.#key(record.id, ':ledger')],
        [
          unheld ? '' : reservation.requestId,
          String(bucketOf(reservation.at)),
          String(windowed ? used - reservation.tokens : 0),
          entry ? '1' : '0',
          costNanos,
          String(entry?.inputTokens ?? 0),
          String(entry?.outputTokens ?? 0),
          String(this.#ledgerMaxEntries),
          ...(entry ? ledgerFields(entry, costNanos) : []),
        ],
      );
    };
    try {
      await write();
    } catch (error) {
      if (this.#isServerError(error)) throw error;
      this.#pending.add(write);
      return;
    }
    this.#pending.flushSoon();
  }

  /** Writes the settlements that waited for Redis, in order; stops at the first that still cannot be written. */
  flush(): Promise<void> {
    return this.#pending.flush();
  }

  async spend(record: KeyRecord, now: number): Promise<KeySpend> {
    const period = periodAt(record.budgetPeriod, now);
    const [totals, leases] = await this.#command<[string[], string[]]>('reading spend', () =>
      this.#client
        .multi()
        .addCommand([
          'HMGET',
          this.#key(record.id, `:p:${period.start}`),
          'spentNanos',
          'inputTokens',
          'outputTokens',
          'requests',
          'unpricedRequests',
        ])
        .addCommand(['ZRANGEBYSCORE', this.#key(record.id, ':res'), `(${now}`, '+inf'])
        .exec(),
    );
    let reservedNanos = 0;
    if (leases.length > 0) {
      const costs = await this.#command<Array<string | null>>('reading spend', () =>
        this.#client.sendCommand(['HMGET', this.#key(record.id, ':rc'), ...leases]),
      );
      for (const cost of costs) reservedNanos += Number(cost ?? 0);
    }
    const [spentNanos, inputTokens, outputTokens, requests, unpricedRequests] = totals.map((value) =>
      Number(value ?? 0),
    ) as [number, number, number, number, number];
    return keySpend(
      record,
      period,
      { spentNanos, inputTokens, outputTokens, requests, unpricedRequests },
      reservedNanos,
    );
  }

  async ledger(keyId: string, options: { limit?: number | undefined } = {}): Promise<LedgerEntry[]> {
    const rows = await this.#command<Array<[string, string[]]>>('reading the ledger', () =>
      this.#client.sendCommand([
        'XREVRANGE',
        this.#key(keyId, ':ledger'),
        '+',
        '-',
        'COUNT',
        String(options.limit ?? 100),
      ]),
    );
    return rows.map(([, fields]) => ledgerEntryOf(keyId, fields));
  }

  async ping(): Promise<void> {
    await this.#client.sendCommand(['PING']);
  }

  /** Tries once to write what waits for Redis, then closes the connection. */
  async close(): Promise<void> {
    await this.flush().catch(() => {});
    await closeRedis(this.#client);
  }
}
