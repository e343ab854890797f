/**
 * The gateway's state in one SQLite file through Node's built-in `node:sqlite` (no native addon): keys, the
 * spend ledger, spend per period, reservations and the rate-limit window, so that the worker processes of
 * one machine (`llmf serve --workers N`) share limits and budgets.
 *
 * `reserve` and `settle` are each one write transaction (`BEGIN IMMEDIATE`: the write lock is taken before
 * anything is read, so two processes never decide on the same counts); those asked for in one turn of the
 * event loop share one commit (a busy gateway writes the log once per turn, not twice per request), and each
 * caller hears back once that commit is done; should one of them throw, it alone is undone. WAL journaling lets readers go on
 * while one process writes; with `synchronous = NORMAL` a process killed at any point (even `kill -9`)
 * leaves every committed transaction in the file, while an OS crash or power cut may lose the last few
 * (never corrupt the file). A writer waits for another's lock up to `busy_timeout`, blocking its event loop
 * meanwhile: the transactions are a few statements each, so the waits are microseconds.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { LLMConfigurationError } from '../../spec/errors.ts';
import { displayPrefix, generateKey, hashesEqual, hashKey, looksLikeKey, newKeyId } from './keys.ts';
import {
  type BucketCount,
  brokenLimits,
  bucketOf,
  DEFAULT_RESERVATION_TTL_MS,
  EMPTY_TOTALS,
  firstLiveBucket,
  keyRefusal,
  keySpend,
  missingKeyRefusal,
  type PeriodTotals,
  periodAt,
  refusalFor,
  toNanos,
  type Usage,
} from './limits.ts';
import {
  entryOf,
  HAS_RESERVED_TOTALS,
  RESERVED_TOTALS,
  type Row,
  recordOf,
  SCHEMA,
  SCHEMA_VERSION,
  STATEMENTS,
} from './sqlite-schema.ts';
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
import { WalCheckpointer } from './wal-checkpointer.ts';

type Sqlite = typeof import('node:sqlite');
type Database = import('node:sqlite').DatabaseSync;
type Statement = import('node:sqlite').StatementSync;

/** A write transaction's body, waiting for its turn's commit, and how its caller hears the outcome. */
interface QueuedWrite {
  body: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

type Outcome = { value?: unknown; error?: unknown; failed: boolean };

/** What the store knows of a key's ledger between looks (`#trimLedger`). */
interface LedgerBookkeeping {
  written: number;
  looks: number;
  full: boolean;
}

/** The row `keyUsage` reads (only `revoked_at` when read by `revokedAt`). */
interface KeyUsageRow {
  revoked_at: number | null;
  requests?: number;
  tokens?: number;
  reserved?: number;
  spent_nanos?: number | null;
}

export interface SqliteGatewayStoreOptions {
  /** How long a reservation holds budget when its call is never settled (a crashed process), in ms. Default 15 min. */
  reservationTtlMs?: number;
  /**
   * How large the write-ahead log may grow before writers are held back for a checkpoint that rewinds it, in
   * bytes (the file is truncated back to this). Default 64 MiB. Checkpoints run on a worker thread.
   */
  walMaxBytes?: number;
  /**
   * Ledger rows kept per key; past it the oldest are deleted (approximately: checked every tenth of it, at
   * most every 1,000 rows). Totals are kept whole. Default 100,000, as in Redis.
   */
  ledgerMaxEntries?: number;
}

const DEFAULT_WAL_MAX_BYTES = 64 * 2 ** 20;
const DEFAULT_LEDGER_MAX_ENTRIES = 100_000;

/** `node:sqlite`, or a configuration error that says which Node has it. */
async function loadSqlite(): Promise<Sqlite> {
  try {
    return await import('node:sqlite');
  } catch (error) {
    throw new LLMConfigurationError(
      `The gateway's SQLite state needs node:sqlite, which Node ${process.versions.node} does not provide ` +
        '(it needs 22.13 or later); run on Node 24, or use `state: redis://…`.',
      { cause: error },
    );
  }
}

export class SqliteGatewayStore implements GatewayStore {
  readonly #db: Database;
  readonly #statements: Record<keyof typeof STATEMENTS, Statement>;
  readonly #reservationTtlMs: number;
  readonly #ledgerMaxEntries: number;
  /** Per key: ledger rows this process wrote since its last look, its looks, and whether the ledger was full. */
  readonly #ledgerRows = new Map<string, LedgerBookkeeping>();
  /**
   * The bookkeeping changed by the transaction running now, and by its body's savepoint inside it: kept when
   * they commit or are released, dropped when they are rolled back.
   */
  readonly #ledgerLayers: Array<Map<string, LedgerBookkeeping>> = [];
  readonly #checkpointer: WalCheckpointer | undefined;
  /**
   * The second in which each key's expired window rows and reservation holds were last deleted. The sums
   * leave them out anyway (they read the live seconds and unexpired holds only): deleting them is
   * housekeeping, done once a second per key rather than on every call.
   */
  readonly #prunedAt = new Map<string, number>();
  /** True while the checkpointer rewinds the log: the queued transactions wait. */
  #writesHeld = false;
  /** Write transactions waiting for this turn's commit. */
  #queued: QueuedWrite[] = [];

  private constructor(path: string, sqlite: Sqlite, options: SqliteGatewayStoreOptions) {
    this.#reservationTtlMs = options.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
    const ledgerMax = options.ledgerMaxEntries ?? DEFAULT_LEDGER_MAX_ENTRIES;
    if (!Number.isSafeInteger(ledgerMax) || ledgerMax < 1) {
      throw new LLMConfigurationError(`ledgerMaxEntries must be a positive integer (got ${ledgerMax})`);
    }
    this.#ledgerMaxEntries = ledgerMax;
    this.#db = new sqlite.DatabaseSync(path);
    try {
      // busy_timeout first: switching to WAL and creating the tables take locks that another process opening
      // the file at the same moment may hold.
      this.#db.exec('PRAGMA busy_timeout = 5000; PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;');
      if (path !== ':memory:') {
        // Checkpoints move to a worker thread (wal-checkpointer.ts); back to SQLite's own if that fails.
        const walMaxBytes = options.walMaxBytes ?? DEFAULT_WAL_MAX_BYTES;
        if (!Number.isSafeInteger(walMaxBytes) || walMaxBytes <= 0) {
          throw new LLMConfigurationError(
            `walMaxBytes must be a positive whole number of bytes, not ${walMaxBytes}`,
          );
        }
        this.#db.exec(`PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = ${walMaxBytes};`);
        this.#checkpointer = new WalCheckpointer(path, walMaxBytes, {
          hold: () => {
            this.#writesHeld = true;
          },
          release: () => {
            this.#writesHeld = false;
            if (this.#queued.length > 0) setImmediate(() => this.#commitQueued());
          },
          failed: (error) => {
            if (this.#db.isOpen) this.#db.exec('PRAGMA wal_autocheckpoint = 1000');
            // Not silent: the likeliest cause is a state file removed or moved under a running gateway.
            process.emitWarning(
              `The checkpoint thread of the gateway state file ${path} stopped (${(error as Error)?.message ?? String(error)}); SQLite checkpoints it on the serving thread from now on.`,
              { code: 'LLMF_SQLITE_CHECKPOINT' },
            );
          },
        });
      }
      const version = (this.#db.prepare('PRAGMA user_version').get() as { user_version: number })
        .user_version;
      if (version > SCHEMA_VERSION) {
        throw new LLMConfigurationError(
          `The gateway state file ${path} was written by a newer llm-factory (schema ${version}, this one knows ${SCHEMA_VERSION}).`,
        );
      }
      this.#db.exec(`BEGIN IMMEDIATE; ${SCHEMA} PRAGMA user_version = ${SCHEMA_VERSION};`);
      if ((this.#db.prepare(HAS_RESERVED_TOTALS).get() as { n: number }).n < 3)
        this.#db.exec(RESERVED_TOTALS);
      this.#db.exec('COMMIT');
      const statements: Partial<Record<keyof typeof STATEMENTS, Statement>> = {};
      for (const [name, sql] of Object.entries(STATEMENTS)) {
        statements[name as keyof typeof STATEMENTS] = this.#db.prepare(sql);
      }
      this.#statements = statements as Record<keyof typeof STATEMENTS, Statement>;
    } catch (error) {
      if (this.#db.isTransaction) this.#db.exec('ROLLBACK');
      this.#db.close();
      throw error;
    }
  }

  /** Opens (or creates, with its folder) the state file. */
  static async open(path: string, options: SqliteGatewayStoreOptions = {}): Promise<SqliteGatewayStore> {
    const sqlite = await loadSqlite();
    if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
    // Several processes creating one file at once can meet SQLITE_BUSY while it switches to WAL, a step the
    // busy handler does not always cover: try again a few times before giving up.
    for (let attempt = 1; ; attempt++) {
      try {
        return new SqliteGatewayStore(path, sqlite, options);
      } catch (error) {
        if (attempt >= 20 || !/locked|busy/i.test((error as Error).message)) throw error;
        await new Promise((resolve) => setTimeout(resolve, 25 * attempt));
      }
    }
  }

  /**
   * Runs `body` in a write transaction: all of it is committed, or none. The bodies asked for in one turn of
   * the event loop are committed together, in the order asked; one that throws undoes only itself (see
   * `#commitQueued`); every promise settles once the commit is done.
   */
  #transaction<T>(body: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.#queued.length === 0) setImmediate(() => this.#commitQueued());
      this.#queued.push({ body, resolve: resolve as (value: unknown) => void, reject });
    });
  }

  #commitQueued(): void {
    const queued = this.#queued;
    if (queued.length === 0 || this.#writesHeld) return;
    this.#queued = [];
    // Almost every batch commits whole: its bodies run back to back, with no savepoint between them (two
    // statements less a body). Should one throw, that pass is rolled back and the batch runs again with a
    // savepoint around each body, so that the one that threw undoes only itself.
    const outcomes = queued.length === 1 ? this.#runBatch(queued, false) : this.#runWhole(queued);
    if (!outcomes) return;
    queued.forEach(({ resolve, reject }, index) => {
      const outcome = outcomes[index]!;
      if (outcome.failed) reject(outcome.error);
      else resolve(outcome.value);
    });
  }

  /**
   * The batch in one transaction, no savepoints: its outcomes once committed; undefined when a body threw
   * (rolled back, to be run again with savepoints) or when the transaction failed (every caller told).
   */
  #runWhole(queued: QueuedWrite[]): Outcome[] | undefined {
    const s = this.#statements;
    const outcomes: Outcome[] = [];
    let bodyThrew = false;
    this.#ledgerLayers.push(new Map());
    try {
      s.begin.run();
      bodyThrew = true;
      for (const { body } of queued) outcomes.push({ value: body(), failed: false });
      bodyThrew = false;
      s.commit.run();
      this.#keepLedgerLayer();
    } catch (error) {
      this.#abandon();
      if (bodyThrew) return this.#runBatch(queued, true);
      for (const { reject } of queued) reject(error);
      return undefined;
    }
    this.#checkpointer?.committed();
    return outcomes;
  }

  /**
   * The batch in one transaction, each body in a savepoint when `savepoints` (a body that throws undoes only
   * itself); the outcomes once committed. When the transaction itself fails, every caller hears of the error
   * and the result is undefined.
   */
  #runBatch(queued: QueuedWrite[], savepoints: boolean): Outcome[] | undefined {
    const s = this.#statements;
    const outcomes: Outcome[] = [];
    this.#ledgerLayers.push(new Map());
    try {
      s.begin.run();
      for (const { body } of queued) {
        if (!savepoints) {
          outcomes.push({ value: body(), failed: false });
          continue;
        }
        s.savepoint.run();
        this.#ledgerLayers.push(new Map());
        try {
          outcomes.push({ value: body(), failed: false });
          this.#keepLedgerLayer();
        } catch (error) {
          this.#ledgerLayers.pop();
          // An error SQLite answers by rolling back the whole transaction (a full disk) fails them all.
          if (!this.#db.isTransaction) throw error;
          s.rollbackToSavepoint.run();
          outcomes.push({ error, failed: true });
        }
        s.release.run();
      }
      s.commit.run();
      this.#keepLedgerLayer();
    } catch (error) {
      // Nothing may escape: this runs from setImmediate, where a throw would end the process.
      this.#abandon();
      for (const { reject } of queued) reject(error);
      return undefined;
    }
    this.#checkpointer?.committed();
    return outcomes;
  }

  async createKey(spec: KeySpec): Promise<{ record: KeyRecord; key: string }> {
    const clean = validateKeySpec(spec);
    const key = generateKey();
    const record: KeyRecord = { ...clean, id: newKeyId(), prefix: displayPrefix(key), createdAt: Date.now() };
    this.#statements.insertKey.run(
      record.id,
      hashKey(key),
      record.prefix,
      record.name,
      record.models === undefined ? null : JSON.stringify(record.models),
      record.rpm ?? null,
      record.tpm ?? null,
      record.budgetUsd ?? null,
      record.budgetPeriod ?? null,
      record.expiresAt ?? null,
      record.createdAt,
    );
    return { record, key };
  }

  async findKey(key: string): Promise<KeyRecord | undefined> {
    if (!looksLikeKey(key)) return undefined;
    const hash = hashKey(key);
    const row = this.#statements.keyByHash.get(hash) as Row | undefined;
    if (!row || !hashesEqual(row.hash as Uint8Array, hash)) return undefined;
    return recordOf(row);
  }

  async listKeys(): Promise<KeyRecord[]> {
    return (this.#statements.keys.all() as Row[]).map(recordOf);
  }

  async getKey(id: string): Promise<KeyRecord | undefined> {
    const row = this.#statements.keyById.get(id) as Row | undefined;
    return row ? recordOf(row) : undefined;
  }

  async revokeKey(id: string): Promise<boolean> {
    return this.#statements.revoke.run(Date.now(), id).changes > 0;
  }

  async reserve(record: KeyRecord, reservation: Reservation): Promise<Refusal | undefined> {
    validateReservation(record, reservation);
    const ended = keyRefusal(record, reservation.at);
    if (ended) return ended;
    const windowed = record.rpm !== undefined || record.tpm !== undefined;
    const budgeted = record.budgetUsd !== undefined;
    const { at } = reservation;
    const s = this.#statements;
    const decide = (): Refusal | undefined => {
      const first = firstLiveBucket(at);
      if (this.#prunedAt.get(record.id) !== bucketOf(at)) {
        this.#prunedAt.set(record.id, bucketOf(at));
        if (windowed) s.pruneWindow.run(record.id, first);
        if (budgeted) s.pruneReservations.run(record.id, at);
      }
      const key = (
        windowed || budgeted
          ? s.keyUsage.get(first, at, periodAt(record.budgetPeriod, at).start, record.id)
          : s.revokedAt.get(record.id)
      ) as KeyUsageRow | undefined;
      if (!key) return missingKeyRefusal(record);
      if (key.revoked_at !== null) return keyRefusal(record, at, key.revoked_at);
      const usage: Usage = {
        requests: windowed ? key.requests! : 0,
        tokens: windowed ? key.tokens! : 0,
        spentNanos: budgeted ? (key.spent_nanos ?? 0) : 0,
        reservedNanos: budgeted ? key.reserved! : 0,
      };
      const reasons = brokenLimits(record, reservation, usage);
      if (reasons.length > 0) {
        const buckets = windowed ? (s.windowBuckets.all(record.id, first) as unknown as BucketCount[]) : [];
        return refusalFor(reasons, record, reservation, usage, buckets);
      }
      if (budgeted) this.#hold(record, reservation);
      if (windowed) s.countInWindow.run(record.id, bucketOf(at), reservation.tokens);
      return undefined;
    };
    // A key without limits takes nothing: reading whether it was revoked needs no write lock.
    return windowed || budgeted ? this.#transaction(decide) : decide();
  }

  #hold(record: KeyRecord, reservation: Reservation): void {
    try {
      this.#statements.insertReservation.run(
        record.id,
        reservation.requestId,
        toNanos(reservation.costUsd),
        reservation.at + this.#reservationTtlMs,
      );
    } catch (error) {
      if (!/UNIQUE/.test((error as Error).message)) throw error;
      throw duplicateReservation(reservation);
    }
  }

  async settle(record: KeyRecord, reservation: Reservation, entry: LedgerEntry | undefined): Promise<void> {
    validateReservation(record, reservation);
    if (entry) validateLedgerEntry(record, entry);
    const windowed = record.rpm !== undefined || record.tpm !== undefined;
    const used = entry ? entry.inputTokens + entry.outputTokens : 0;
    const s = this.#statements;
    await this.#transaction(() => {
      s.deleteReservation.run(record.id, reservation.requestId);
      if (windowed && used !== reservation.tokens) {
        s.correctTokens.run(used - reservation.tokens, record.id, bucketOf(reservation.at));
      }
      if (!entry) return;
      const costNanos = entry.costUsd === undefined ? null : toNanos(entry.costUsd);
      s.insertLedger.run(
        record.id,
        entry.at,
        entry.model,
        entry.deployment ?? null,
        entry.inputTokens,
        entry.outputTokens,
        costNanos,
        entry.requestId,
      );
      this.#trimLedger(record.id);
      s.charge.run(
        record.id,
        periodAt(record.budgetPeriod, entry.at).start,
        costNanos ?? 0,
        entry.inputTokens,
        entry.outputTokens,
        costNanos === null ? 1 : 0,
      );
    });
  }

  /**
   * Keeps the key's ledger near `ledgerMaxEntries` rows, looking once every tenth of it (at most every 1,000
   * rows this process writes). A look counts the key's rows and deletes the oldest past the cap; once the
   * ledger is full, nine looks in ten skip the count and delete as many of the oldest rows as this process
   * wrote since its last look, which keeps a full ledger full (each process of a shared file deleting for its
   * own rows). Such a look reads about as many index entries as it deletes (0.3 ms on a full ledger of
   * 100,000 rows); a counting look reads all of the key's (1.8 ms), as every look did when the cut was found
   * by walking from the newest row (2.1 ms), so the stall that came every 1,000 rows now comes every 10,000. With
   * several processes a counting look may also delete rows another is about to delete for itself, so a
   * shared ledger can sit up to a look's worth of rows per process under the cap, until the next count.
   */
  #trimLedger(keyId: string): void {
    const every = Math.max(1, Math.min(1_000, Math.floor(this.#ledgerMaxEntries / 10)));
    const rows = this.#ledgerBookkeeping(keyId);
    if (++rows.written < every) return;
    const s = this.#statements;
    let excess = rows.written;
    if (!rows.full || ++rows.looks % 10 === 0) {
      excess = (s.ledgerRows.get(keyId) as { n: number }).n - this.#ledgerMaxEntries;
      rows.full = excess >= 0;
    }
    rows.written = 0;
    // Fewer rows than that (another process deleted them first): nothing goes, and the next look counts.
    if (excess > 0 && s.trimOldest.run(keyId, excess).changes === 0) rows.full = false;
  }

  /**
   * The key's ledger bookkeeping, as the running transaction (or savepoint) sees it: a copy made in its
   * layer on first use, so that a rolled-back body or batch leaves the committed counts as they were (a
   * batch run twice must not count its rows twice).
   */
  #ledgerBookkeeping(keyId: string): LedgerBookkeeping {
    const layers = this.#ledgerLayers;
    const top = layers.at(-1);
    let rows = top?.get(keyId);
    if (rows) return rows;
    let below: LedgerBookkeeping | undefined;
    for (let index = layers.length - 2; index >= 0 && !below; index--) below = layers[index]!.get(keyId);
    below ??= this.#ledgerRows.get(keyId);
    rows = below ? { ...below } : { written: 0, looks: 0, full: false };
    (top ?? this.#ledgerRows).set(keyId, rows);
    return rows;
  }

  /**
   * Undoes the transaction that failed: rolled back if SQLite has not done so already, and its ledger
   * bookkeeping dropped. A rollback that fails itself leaves nothing committed either, so it is not
   * reported: the caller reports the error that failed the transaction.
   */
  #abandon(): void {
    this.#ledgerLayers.length = 0;
    try {
      if (this.#db.isOpen && this.#db.isTransaction) this.#statements.rollback.run();
    } catch {
      // See above.
    }
  }

  /** Folds the innermost layer of ledger bookkeeping into the one below it (or into the committed counts). */
  #keepLedgerLayer(): void {
    const top = this.#ledgerLayers.pop();
    if (!top) return;
    const into = this.#ledgerLayers.at(-1) ?? this.#ledgerRows;
    for (const [keyId, rows] of top) into.set(keyId, rows);
  }

  async spend(record: KeyRecord, now: number): Promise<KeySpend> {
    const period = periodAt(record.budgetPeriod, now);
    const row = this.#statements.totals.get(record.id, period.start) as Row | undefined;
    const totals: PeriodTotals = row
      ? {
          spentNanos: row.spent_nanos as number,
          inputTokens: row.input_tokens as number,
          outputTokens: row.output_tokens as number,
          requests: row.requests as number,
          unpricedRequests: row.unpriced_requests as number,
        }
      : EMPTY_TOTALS;
    const reserved = (this.#statements.reservedSum.get(record.id, now) as { reserved: number }).reserved;
    return keySpend(record, period, totals, reserved);
  }

  async ledger(keyId: string, options: { limit?: number | undefined } = {}): Promise<LedgerEntry[]> {
    return (this.#statements.ledger.all(keyId, options.limit ?? 100) as Row[]).map(entryOf);
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    if (!this.#db.isOpen) return;
    await this.#checkpointer?.close();
    this.#commitQueued();
    // The last connection to close checkpoints what is left and removes the log.
    if (this.#db.isOpen) this.#db.close();
  }
}
