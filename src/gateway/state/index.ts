/** The gateway's state layer: virtual keys, limits, budgets and the spend ledger, in SQLite or Redis. */
export { GatewayStateUnavailableError } from './errors.ts';
export {
  displayPrefix,
  generateKey,
  hashesEqual,
  hashKey,
  KEY_PREFIX,
  keyStatus,
  looksLikeKey,
  secretsEqual,
} from './keys.ts';
export { BUCKET_MS, DEFAULT_RESERVATION_TTL_MS, periodAt, WINDOW_MS } from './limits.ts';
export { DEFAULT_STATE_PATH, type GatewayStateOptions, isRedisUrl, openGatewayStore } from './open-store.ts';
export { RedisGatewayStore, type RedisGatewayStoreOptions } from './redis-store.ts';
export { SqliteGatewayStore, type SqliteGatewayStoreOptions } from './sqlite-store.ts';
export type {
  BudgetPeriod,
  GatewayStore,
  KeyRecord,
  KeySpec,
  KeySpend,
  LedgerEntry,
  Refusal,
  Reservation,
} from './types.ts';
export { validateKeySpec } from './validate.ts';
