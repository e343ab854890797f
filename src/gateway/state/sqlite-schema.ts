/**
 * The gateway state file's tables and the statements the SQLite store prepares once, and how rows become
 * records. Money is kept in integer nano-dollars (`*_nanos`), so sums are exact.
 *
 * - `gateway_keys`: one row per key; `hash` (SHA-256, unique) is how a presented key is found
 * - `gateway_ledger`: one row per finished call (`cost_nanos` NULL when unpriced)
 * - `gateway_spend`: totals per key and period (`period_start` 0 for a lifetime)
 * - `gateway_window`: requests and tokens per key and second, for the rolling minute
 * - `gateway_reservations`: budget held by calls in flight, until settled or `expires_at`
 * - `gateway_reserved`: their sum per key, kept by triggers on `gateway_reservations`, so that a reserve reads
 *   one row rather than adding up every call in flight (measured: the read took 3.8 µs at 64 calls in flight
 *   and 36 µs at 1,000, and now 1.6 µs at either; holding and letting go cost 1.7 µs more, and a lone commit
 *   writes two more pages: docs/decisions/0009-gateway-state.md)
 *
 * `gateway_reserved` and its triggers came after schema 1 without a new version: a file that has them is read
 * the same by a store that knows nothing of them (its writes fire the triggers all the same), so stores of
 * both kinds may share one file. `RESERVED_TOTALS` makes them in a file that lacks them.
 */
import { toUsd } from './limits.ts';
import type { KeyRecord, LedgerEntry } from './types.ts';

export type Row = Record<string, unknown>;

/** Bumped when the tables change; a file written by a newer version is refused rather than misread. */
export const SCHEMA_VERSION = 1;

export const SCHEMA = `
  CREATE TABLE IF NOT EXISTS gateway_keys (
    id TEXT PRIMARY KEY,
    hash BLOB NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    name TEXT NOT NULL,
    models TEXT,
    rpm INTEGER,
    tpm INTEGER,
    budget_usd REAL,
    budget_period TEXT,
    expires_at INTEGER,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE IF NOT EXISTS gateway_ledger (
    id INTEGER PRIMARY KEY,
    key_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    model TEXT NOT NULL,
    deployment TEXT,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cost_nanos INTEGER,
    request_id TEXT NOT NULL
  );
  CREATE INDEX IF NOT EXISTS gateway_ledger_by_key ON gateway_ledger (key_id, id);
  CREATE TABLE IF NOT EXISTS gateway_spend (
    key_id TEXT NOT NULL,
    period_start INTEGER NOT NULL,
    spent_nanos INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    unpriced_requests INTEGER NOT NULL,
    PRIMARY KEY (key_id, period_start)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS gateway_window (
    key_id TEXT NOT NULL,
    bucket INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    tokens INTEGER NOT NULL,
    PRIMARY KEY (key_id, bucket)
  ) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS gateway_reservations (
    key_id TEXT NOT NULL,
    request_id TEXT NOT NULL,
    cost_nanos INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (key_id, request_id)
  ) WITHOUT ROWID;
`;

/** The reserved sums and the triggers that keep them, filled from the holds already in the file. */
export const RESERVED_TOTALS = `
  CREATE TABLE IF NOT EXISTS gateway_reserved (
    key_id TEXT PRIMARY KEY,
    nanos INTEGER NOT NULL
  ) WITHOUT ROWID;
  DELETE FROM gateway_reserved;
  INSERT INTO gateway_reserved (key_id, nanos)
    SELECT key_id, SUM(cost_nanos) FROM gateway_reservations GROUP BY key_id;
  CREATE INDEX IF NOT EXISTS gateway_reservations_by_expiry ON gateway_reservations (key_id, expires_at);
  CREATE TRIGGER IF NOT EXISTS gateway_reserved_hold AFTER INSERT ON gateway_reservations BEGIN
    INSERT INTO gateway_reserved (key_id, nanos) VALUES (NEW.key_id, NEW.cost_nanos)
      ON CONFLICT (key_id) DO UPDATE SET nanos = nanos + excluded.nanos;
  END;
  CREATE TRIGGER IF NOT EXISTS gateway_reserved_release AFTER DELETE ON gateway_reservations BEGIN
    UPDATE gateway_reserved SET nanos = nanos - OLD.cost_nanos WHERE key_id = OLD.key_id;
  END;
`;

/** True when the file has the triggers that keep `gateway_reserved`. */
export const HAS_RESERVED_TOTALS = `SELECT COUNT(*) AS n FROM sqlite_master WHERE name IN
  ('gateway_reserved_hold', 'gateway_reserved_release', 'gateway_reservations_by_expiry')`;

export const STATEMENTS = {
  begin: 'BEGIN IMMEDIATE',
  commit: 'COMMIT',
  rollback: 'ROLLBACK',
  savepoint: 'SAVEPOINT one_write',
  release: 'RELEASE one_write',
  rollbackToSavepoint: 'ROLLBACK TO one_write',
  insertKey: `INSERT INTO gateway_keys (id, hash, prefix, name, models, rpm, tpm, budget_usd, budget_period,
    expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  keyByHash: 'SELECT * FROM gateway_keys WHERE hash = ?',
  keyById: 'SELECT * FROM gateway_keys WHERE id = ?',
  keys: 'SELECT * FROM gateway_keys ORDER BY created_at, rowid',
  revoke: 'UPDATE gateway_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?',
  revokedAt: 'SELECT revoked_at FROM gateway_keys WHERE id = ?',
  pruneWindow: 'DELETE FROM gateway_window WHERE key_id = ? AND bucket < ?',
  // What a reserve decides on, in one statement: the key's revocation, its live seconds' sums, the budget its
  // calls in flight hold (their sum, less the holds whose lease has ended but which are not deleted yet: the
  // store deletes those once a second per key) and the period's spend (?1 first live second, ?2 now, ?3 period
  // start, ?4 key id).
  keyUsage: `SELECT k.revoked_at, w.requests, w.tokens,
      COALESCE((SELECT nanos FROM gateway_reserved WHERE key_id = ?4), 0)
        - (SELECT COALESCE(SUM(cost_nanos), 0) FROM gateway_reservations
            WHERE key_id = ?4 AND expires_at <= ?2) AS reserved,
      (SELECT spent_nanos FROM gateway_spend WHERE key_id = ?4 AND period_start = ?3) AS spent_nanos
    FROM gateway_keys k, (SELECT COALESCE(SUM(requests), 0) AS requests, COALESCE(SUM(tokens), 0) AS tokens
      FROM gateway_window WHERE key_id = ?4 AND bucket >= ?1) w
    WHERE k.id = ?4`,
  windowBuckets: 'SELECT bucket, requests, tokens FROM gateway_window WHERE key_id = ? AND bucket >= ?',
  countInWindow: `INSERT INTO gateway_window (key_id, bucket, requests, tokens) VALUES (?, ?, 1, ?)
    ON CONFLICT (key_id, bucket) DO UPDATE SET requests = requests + 1, tokens = tokens + excluded.tokens`,
  correctTokens: 'UPDATE gateway_window SET tokens = tokens + ? WHERE key_id = ? AND bucket = ?',
  pruneReservations: 'DELETE FROM gateway_reservations WHERE key_id = ? AND expires_at <= ?',
  reservedSum: `SELECT COALESCE(SUM(cost_nanos), 0) AS reserved FROM gateway_reservations
    WHERE key_id = ? AND expires_at > ?`,
  insertReservation: `INSERT INTO gateway_reservations (key_id, request_id, cost_nanos, expires_at)
    VALUES (?, ?, ?, ?)`,
  deleteReservation: 'DELETE FROM gateway_reservations WHERE key_id = ? AND request_id = ?',
  totals: 'SELECT * FROM gateway_spend WHERE key_id = ? AND period_start = ?',
  charge: `INSERT INTO gateway_spend (key_id, period_start, spent_nanos, input_tokens, output_tokens, requests,
    unpriced_requests) VALUES (?, ?, ?, ?, ?, 1, ?)
    ON CONFLICT (key_id, period_start) DO UPDATE SET spent_nanos = spent_nanos + excluded.spent_nanos,
      input_tokens = input_tokens + excluded.input_tokens, output_tokens = output_tokens + excluded.output_tokens,
      requests = requests + 1, unpriced_requests = unpriced_requests + excluded.unpriced_requests`,
  insertLedger: `INSERT INTO gateway_ledger (key_id, at, model, deployment, input_tokens, output_tokens,
    cost_nanos, request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  ledger: 'SELECT * FROM gateway_ledger WHERE key_id = ? ORDER BY id DESC LIMIT ?',
  ledgerRows: 'SELECT COUNT(*) AS n FROM gateway_ledger WHERE key_id = ?',
  // The key's `?2` oldest rows: every row older than the one after them (none when it has no more rows than
  // that: `id < NULL` is never true).
  trimOldest: `DELETE FROM gateway_ledger WHERE key_id = ?1 AND id < (SELECT id FROM gateway_ledger
    WHERE key_id = ?1 ORDER BY id LIMIT 1 OFFSET ?2)`,
} as const;

export function recordOf(row: Row): KeyRecord {
  const record: KeyRecord = {
    id: row.id as string,
    name: row.name as string,
    prefix: row.prefix as string,
    createdAt: row.created_at as number,
  };
  if (row.models !== null) record.models = JSON.parse(row.models as string) as string[];
  if (row.rpm !== null) record.rpm = row.rpm as number;
  if (row.tpm !== null) record.tpm = row.tpm as number;
  if (row.budget_usd !== null) record.budgetUsd = row.budget_usd as number;
  if (row.budget_period !== null) record.budgetPeriod = row.budget_period as KeyRecord['budgetPeriod'];
  if (row.expires_at !== null) record.expiresAt = row.expires_at as number;
  if (row.revoked_at !== null) record.revokedAt = row.revoked_at as number;
  return record;
}

export function entryOf(row: Row): LedgerEntry {
  const entry: LedgerEntry = {
    keyId: row.key_id as string,
    at: row.at as number,
    model: row.model as string,
    inputTokens: row.input_tokens as number,
    outputTokens: row.output_tokens as number,
    requestId: row.request_id as string,
  };
  if (row.deployment !== null) entry.deployment = row.deployment as string;
  if (row.cost_nanos !== null) entry.costUsd = toUsd(row.cost_nanos as number);
  return entry;
}
