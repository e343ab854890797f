/**
 * The gateway config's `state`: a `redis://` (or `rediss://`) URL shares the state between machines; anything
 * else is the path of a SQLite file shared by the processes of one machine. Default `.llmf/gateway.sqlite`.
 */
import { RedisGatewayStore, type RedisGatewayStoreOptions } from './redis-store.ts';
import { SqliteGatewayStore, type SqliteGatewayStoreOptions } from './sqlite-store.ts';
import type { GatewayStore } from './types.ts';

export const DEFAULT_STATE_PATH = '.llmf/gateway.sqlite';

export type GatewayStateOptions = SqliteGatewayStoreOptions & RedisGatewayStoreOptions;

export function isRedisUrl(state: string): boolean {
  return /^rediss?:\/\//i.test(state);
}

export function openGatewayStore(
  state: string | undefined,
  options: GatewayStateOptions = {},
): Promise<GatewayStore> {
  const where = state ?? DEFAULT_STATE_PATH;
  return isRedisUrl(where) ? RedisGatewayStore.open(where, options) : SqliteGatewayStore.open(where, options);
}
