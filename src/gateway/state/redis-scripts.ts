/**
 * The Redis store's layout and the Lua scripts that make `reserve` and `settle` atomic: each runs whole on the
 * server, with no other command between its reads and its writes, whichever process or machine sent it.
 * Keys, under a prefix (default `llmf:gw:`):
 *
 * - `h:<sha256 hex>` → the key's record as JSON, with its hash: `findKey` in one round trip
 * - `k:{<id>}` → hash: `record` (JSON), `hash`, `revokedAt`, `reservedNanos` (budget held by calls in flight)
 * - `k:{<id>}:w` → the rolling minute: `r<second>` / `t<second>` requests and tokens, running sums, expiring
 * - `k:{<id>}:res`, `k:{<id>}:rc` → reservations in flight: lease end and cost by request id
 * - `k:{<id>}:p:<period start>` → spend of one period: nano-dollars, tokens, requests, unpriced requests
 * - `k:{<id>}:ledger` → the ledger, a stream capped at `ledgerMaxEntries` rows (trimmed approximately)
 * - `ids` → sorted set of key ids by creation time
 *
 * Every key a script touches shares the key id's hash tag (`{key_…}`), so each script stays on one slot of a
 * cluster. `reserve` mirrors `brokenLimits` of limits.ts: the same rules, tested against the SQLite store by
 * one suite. Numbers are integers (tokens, epoch ms, nano-dollars): exact in Lua's doubles up to 2^53
 * (9 million dollars a key and period).
 */
import { createHash } from 'node:crypto';
import { type BucketCount, toUsd } from './limits.ts';
import type { KeyRecord, LedgerEntry } from './types.ts';

export interface Script {
  source: string;
  sha1: string;
}

function script(source: string): Script {
  return { source, sha1: createHash('sha1').update(source).digest('hex') };
}

/**
 * KEYS: 1 the key's hash (`hash`, `revokedAt`, `reservedNanos`, `record`), 2 its window (`r<bucket>` and
 * `t<bucket>` per second, running sums `requests` and `tokens`, `oldest` bucket kept), 3 its leases (request
 * id → lease end), 4 their costs (request id → nano-dollars), 5 the spend of the current period.
 * ARGV: 1 bucket, 2 buckets per window, 3 rpm, 4 tpm ('' = none), 5 tokens, 6 budget in nano-dollars ('' =
 * none), 7 cost in nano-dollars, 8 request id, 9 lease end, 10 now (epoch ms), 11 window TTL (ms).
 * Replies `{'ok'}`, `{'missing'}`, `{'revoked', at}`, `{'duplicate'}`, or
 * `{'refused', reasons, requests, tokens, spent, reserved, window as HGETALL}`.
 */
export const RESERVE = script(`
local state = redis.call('HMGET', KEYS[1], 'hash', 'revokedAt', 'reservedNanos')
if not state[1] then return {'missing'} end
if state[2] then return {'revoked', state[2]} end
local bucket, span = tonumber(ARGV[1]), tonumber(ARGV[2])
local rpm, tpm, tokens = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local budget, cost, now = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[10])
local windowed = rpm or tpm
local first = bucket - span
local requests, used, spent, reserved = 0, 0, 0, 0
local oldest
if windowed then
  local window = redis.call('HMGET', KEYS[2], 'requests', 'tokens', 'oldest')
  requests, used, oldest = tonumber(window[1]) or 0, tonumber(window[2]) or 0, tonumber(window[3])
  if oldest and oldest < first then
    if first - oldest > span then
      redis.call('DEL', KEYS[2])
      requests, used, oldest = 0, 0, nil
    else
      for i = oldest, first - 1 do
        local gone = redis.call('HMGET', KEYS[2], 'r' .. i, 't' .. i)
        if gone[1] then
          requests = requests - tonumber(gone[1])
          used = used - tonumber(gone[2])
          redis.call('HDEL', KEYS[2], 'r' .. i, 't' .. i)
        end
      end
      oldest = first
      redis.call('HSET', KEYS[2], 'requests', requests, 'tokens', used, 'oldest', oldest)
    end
  end
end
if budget then
  reserved = tonumber(state[3]) or 0
  local expired = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
  for _, id in ipairs(expired) do
    reserved = reserved - (tonumber(redis.call('HGET', KEYS[4], id)) or 0)
    redis.call('HDEL', KEYS[4], id)
  end
  if #expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', now) end
  if redis.call('ZCARD', KEYS[3]) == 0 then reserved = 0 end
  if reserved ~= (tonumber(state[3]) or 0) then redis.call('HSET', KEYS[1], 'reservedNanos', reserved) end
  spent = tonumber(redis.call('HGET', KEYS[5], 'spentNanos')) or 0
end
local reasons = {}
if rpm and requests + 1 > rpm then reasons[#reasons + 1] = 'rpm' end
if tpm and tokens > 0 and used + tokens > tpm and not (tokens > tpm and used <= 0) then
  reasons[#reasons + 1] = 'tpm'
end
if budget and (spent + reserved >= budget or spent + reserved + cost > budget) then
  reasons[#reasons + 1] = 'budget'
end
if #reasons > 0 then
  local window = {}
  if windowed then window = redis.call('HGETALL', KEYS[2]) end
  return {'refused', table.concat(reasons, ','), requests, used, spent, reserved, window}
end
if budget then
  if redis.call('ZADD', KEYS[3], 'NX', ARGV[9], ARGV[8]) == 0 then return {'duplicate'} end
  redis.call('HSET', KEYS[4], ARGV[8], cost)
  redis.call('HINCRBY', KEYS[1], 'reservedNanos', cost)
end
if windowed then
  local counted = bucket
  if oldest and counted < oldest then counted = oldest end
  redis.call('HINCRBY', KEYS[2], 'r' .. counted, 1)
  redis.call('HINCRBY', KEYS[2], 't' .. counted, tokens)
  redis.call('HINCRBY', KEYS[2], 'requests', 1)
  redis.call('HINCRBY', KEYS[2], 'tokens', tokens)
  if not oldest then redis.call('HSET', KEYS[2], 'oldest', first) end
  redis.call('PEXPIRE', KEYS[2], ARGV[11])
end
return {'ok'}
`);

/**
 * KEYS: 1–4 as for RESERVE, 5 the spend of the entry's period, 6 the key's ledger stream.
 * ARGV: 1 request id, 2 the reservation's bucket, 3 tokens to add to it (actual − reserved; may be negative),
 * 4 '1' when there is an entry to charge, 5 its cost in nano-dollars ('' = unpriced), 6 input tokens,
 * 7 output tokens, 8 ledger rows kept, 9… the ledger row's fields and values.
 */
export const SETTLE = script(`
if redis.call('ZREM', KEYS[3], ARGV[1]) == 1 then
  local cost = tonumber(redis.call('HGET', KEYS[4], ARGV[1])) or 0
  redis.call('HDEL', KEYS[4], ARGV[1])
  redis.call('HINCRBY', KEYS[1], 'reservedNanos', -cost)
end
local correction = tonumber(ARGV[3])
if correction ~= 0 and redis.call('HEXISTS', KEYS[2], 't' .. ARGV[2]) == 1 then
  redis.call('HINCRBY', KEYS[2], 't' .. ARGV[2], correction)
  redis.call('HINCRBY', KEYS[2], 'tokens', correction)
end
if ARGV[4] == '1' then
  local cost = tonumber(ARGV[5])
  redis.call('HINCRBY', KEYS[5], 'spentNanos', cost or 0)
  redis.call('HINCRBY', KEYS[5], 'inputTokens', ARGV[6])
  redis.call('HINCRBY', KEYS[5], 'outputTokens', ARGV[7])
  redis.call('HINCRBY', KEYS[5], 'requests', 1)
  if not cost then redis.call('HINCRBY', KEYS[5], 'unpricedRequests', 1) end
  redis.call('XADD', KEYS[6], 'MAXLEN', '~', ARGV[8], '*', unpack(ARGV, 9))
end
return 1
`);

/** A key's record as stored: with its hash (hex), which no caller gets back. */
export type StoredKey = KeyRecord & { hash: string };

export function recordOf(json: string): KeyRecord {
  return withoutHash(JSON.parse(json) as StoredKey);
}

export function withoutHash(stored: StoredKey): KeyRecord {
  const { hash: _, ...record } = stored;
  return record;
}

/** `[field, value, field, value, …]` of a window hash → its buckets (`r<second>`, `t<second>`). */
export function bucketsOf(flat: string[]): BucketCount[] {
  const buckets = new Map<number, BucketCount>();
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const match = /^([rt])(-?\d+)$/.exec(flat[i]!);
    if (!match) continue;
    const bucket = Number(match[2]);
    const count = buckets.get(bucket) ?? { bucket, requests: 0, tokens: 0 };
    if (match[1] === 'r') count.requests = Number(flat[i + 1]);
    else count.tokens = Number(flat[i + 1]);
    buckets.set(bucket, count);
  }
  return [...buckets.values()];
}

/** A ledger row as the fields and values of a stream entry (absent fields are left out). */
export function ledgerFields(entry: LedgerEntry, costNanos: string): string[] {
  const fields = ['at', String(entry.at), 'model', entry.model];
  if (entry.deployment !== undefined) fields.push('deployment', entry.deployment);
  fields.push('inputTokens', String(entry.inputTokens), 'outputTokens', String(entry.outputTokens));
  if (costNanos !== '') fields.push('costNanos', costNanos);
  fields.push('requestId', entry.requestId);
  return fields;
}

/** A stream entry's `[field, value, …]` → the ledger row it was written from. */
export function ledgerEntryOf(keyId: string, flat: string[]): LedgerEntry {
  const fields = new Map<string, string>();
  for (let i = 0; i + 1 < flat.length; i += 2) fields.set(flat[i]!, flat[i + 1]!);
  const entry: LedgerEntry = {
    keyId,
    at: Number(fields.get('at')),
    model: fields.get('model') ?? '',
    inputTokens: Number(fields.get('inputTokens')),
    outputTokens: Number(fields.get('outputTokens')),
    requestId: fields.get('requestId') ?? '',
  };
  const deployment = fields.get('deployment');
  if (deployment !== undefined) entry.deployment = deployment;
  const cost = fields.get('costNanos');
  if (cost !== undefined) entry.costUsd = toUsd(Number(cost));
  return entry;
}
