/**
 * What the gateway keeps between requests: virtual keys (stored hashed), the spend ledger, and the counters
 * behind per-key limits and budgets. One interface, two stores: embedded SQLite (one file, WAL, survives
 * `kill -9`; shared by the worker processes of one machine) and Redis (shared by any number of processes
 * and machines). Limits and budgets are reserved before a call and charged with the actual tokens and cost
 * after it, so concurrent requests cannot all pass a nearly spent budget.
 */

export type BudgetPeriod = 'day' | 'month';

/** What an administrator asks for when creating a key (`POST /admin/keys`). */
export interface KeySpec {
  name: string;
  /** Model names (group aliases or deployment ids) the key may use; absent = all. */
  models?: string[] | undefined;
  /** Requests per minute (a rolling minute). Absent = unlimited. */
  rpm?: number | undefined;
  /** Tokens per minute (prompt estimate reserved, then actual usage). Absent = unlimited. */
  tpm?: number | undefined;
  /** Spend allowed per `budgetPeriod` (or in total when there is no period), in US dollars. */
  budgetUsd?: number | undefined;
  /** UTC calendar day or month; absent = the budget is for the key's lifetime. Needs `budgetUsd`. */
  budgetPeriod?: BudgetPeriod | undefined;
  /** Epoch ms from which the key is refused. */
  expiresAt?: number | undefined;
}

/** A key as stored and listed: never the key itself (nor its hash), only its id and a short prefix. */
export interface KeyRecord extends KeySpec {
  id: string;
  /** The first characters of the key, to recognise it in a list (`llmf-ab12…`). */
  prefix: string;
  createdAt: number;
  revokedAt?: number | undefined;
}

/** Spend of one key in its current budget period (or in total). */
export interface KeySpend {
  keyId: string;
  spendUsd: number;
  inputTokens: number;
  outputTokens: number;
  requests: number;
  /** Calls charged without a price (their cost unknown, counted as 0). */
  unpricedRequests: number;
  /** Dollars held by calls in flight (reserved, not yet settled). */
  reservedUsd: number;
  /** Epoch ms the current period began (0 for a key without a period). */
  periodStart: number;
  /** Epoch ms the current period ends; absent for a key without a period. */
  periodEnd?: number | undefined;
  budgetUsd?: number | undefined;
  budgetPeriod?: BudgetPeriod | undefined;
}

/** What one call will take, reserved before it is sent. */
export interface Reservation {
  keyId: string;
  /** The gateway's request id: names the reservation until it is settled (one reservation per id). */
  requestId: string;
  /** Epoch ms the call is reserved at: the minute its request and tokens count in. */
  at: number;
  /** Tokens reserved against `tpm`: the prompt's estimate plus `maxTokens` (or a default). */
  tokens: number;
  /** Dollars reserved against the budget: the estimate priced, or 0 when the price is unknown. */
  costUsd: number;
}

/**
 * Why a reservation was refused, and when to try again. The gateway answers `rpm`, `tpm` and `budget` with a
 * 429, `revoked` and `expired` with a 401, and `unavailable` (the store cannot be reached and the store is set
 * to refuse then) with a 503.
 */
export interface Refusal {
  reason: 'rpm' | 'tpm' | 'budget' | 'revoked' | 'expired' | 'unavailable';
  message: string;
  /**
   * When the window or period that refused ends, in ms from now (the `Retry-After`). Absent when waiting
   * does not help: a revoked or expired key, a lifetime budget spent.
   */
  retryAfterMs?: number | undefined;
}

/** One row of the ledger: a finished call, charged to a key. */
export interface LedgerEntry {
  keyId: string;
  /** Epoch ms the call finished: the budget period it is charged to. */
  at: number;
  /** The model name the client asked for, and the deployment that answered. */
  model: string;
  deployment?: string | undefined;
  inputTokens: number;
  outputTokens: number;
  /** Undefined when the model's price is unknown (charged as 0, counted as unpriced). */
  costUsd?: number | undefined;
  /** The gateway's request id. */
  requestId: string;
}

export interface GatewayStore {
  /** Creates a key; the returned `key` is shown this once and stored only as a hash. */
  createKey(spec: KeySpec): Promise<{ record: KeyRecord; key: string }>;
  /**
   * The key record for a presented key (compared by hash in constant time), or undefined. Revoked and expired
   * keys are found too (`keyStatus` says which), so the gateway can say why it refuses them.
   */
  findKey(key: string): Promise<KeyRecord | undefined>;
  /** Every key, oldest first, revoked ones included. */
  listKeys(): Promise<KeyRecord[]>;
  getKey(id: string): Promise<KeyRecord | undefined>;
  /** True when the key exists (and is now revoked; a second revocation keeps the first time). */
  revokeKey(id: string): Promise<boolean>;
  /**
   * Takes one request (and `tokens`, `costUsd`) from the key's limits and budget, or refuses and takes
   * nothing: atomic across every process sharing the store. Refuses a revoked or expired key.
   */
  reserve(record: KeyRecord, reservation: Reservation): Promise<Refusal | undefined>;
  /**
   * Returns a reservation and charges what the call really used: `entry` goes to the ledger and the spend of
   * its period, its tokens replace the reserved ones in the minute they were reserved in. A failed call charges
   * what it cost, if anything (`entry` undefined: nothing). Call it exactly once for each reservation `reserve`
   * granted, whatever became of the call.
   */
  settle(record: KeyRecord, reservation: Reservation, entry: LedgerEntry | undefined): Promise<void>;
  spend(record: KeyRecord, now: number): Promise<KeySpend>;
  /** The key's newest ledger rows, newest first (at most `limit`, default 100). */
  ledger(keyId: string, options?: { limit?: number | undefined }): Promise<LedgerEntry[]>;
  /** Resolves when the store answers (`/ready`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
