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
  /** Requests per minute. */
  rpm?: number | undefined;
  /** Tokens per minute (prompt estimate reserved, then actual usage). */
  tpm?: number | undefined;
  /** Spend allowed per `budgetPeriod` (or in total when there is no period), in US dollars. */
  budgetUsd?: number | undefined;
  budgetPeriod?: BudgetPeriod | undefined;
  /** Epoch ms after which the key is refused. */
  expiresAt?: number | undefined;
}

/** A key as stored and listed: never the key itself, only its id, a short prefix and its hash. */
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
  /** Epoch ms the current period began (0 for a key without a period). */
  periodStart: number;
  budgetUsd?: number | undefined;
  budgetPeriod?: BudgetPeriod | undefined;
}

/** What one call will take, reserved before it is sent. */
export interface Reservation {
  keyId: string;
  /** Tokens reserved against `tpm`: the prompt's estimate plus `maxTokens` (or a default). */
  tokens: number;
  /** Dollars reserved against the budget: the estimate priced, or 0 when the price is unknown. */
  costUsd: number;
}

/** Why a reservation was refused, and when to try again. */
export interface Refusal {
  reason: 'rpm' | 'tpm' | 'budget';
  message: string;
  /** When the window or period that refused ends, in ms from now. */
  retryAfterMs: number;
}

/** One row of the ledger: a finished call, charged to a key. */
export interface LedgerEntry {
  keyId: string;
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
  /** The key record for a presented key (compared by hash in constant time), or undefined. */
  findKey(key: string): Promise<KeyRecord | undefined>;
  listKeys(): Promise<KeyRecord[]>;
  getKey(id: string): Promise<KeyRecord | undefined>;
  /** True when the key existed and is now revoked. */
  revokeKey(id: string): Promise<boolean>;
  /**
   * Takes one request (and `tokens`, `costUsd`) from the key's limits and budget, or refuses: atomic across
   * every process sharing the store.
   */
  reserve(record: KeyRecord, reservation: Reservation, now: number): Promise<Refusal | undefined>;
  /** Returns a reservation and charges what the call really used (a failed call charges what it cost, if anything). */
  settle(record: KeyRecord, reservation: Reservation, entry: LedgerEntry | undefined): Promise<void>;
  spend(record: KeyRecord, now: number): Promise<KeySpend>;
  /** Resolves when the store answers (`/ready`). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
