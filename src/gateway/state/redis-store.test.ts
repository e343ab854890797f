/**
 * The Redis store through the shared suite (each test under its own prefix, all of this run's keys deleted at
 * the end), plus what only a server has: the key layout, the capped ledger, and an outage — refused or admitted
 * as set, settlements kept and written when the server is back. Without Redis the tests skip with the reason,
 * or fail when CI is set.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { setTimeout as wait } from 'node:timers/promises';
import {
  REDIS_URL,
  RUN_ID,
  redisInspector,
  redisRelay,
  requireRedis,
} from '../../middleware/test-support/harness.ts';
import { GatewayStateUnavailableError } from './errors.ts';
import { RedisGatewayStore } from './redis-store.ts';
import { entryFor, gatewayStoreContract, NOON, reservationFor } from './test-support/store-contract.ts';
import type { GatewayStore } from './types.ts';

const PREFIX = `llmf-test-gw-${RUN_ID}:`;
const prefixes = new WeakMap<GatewayStore, string>();
let stores = 0;

after(async () => {
  const redis = await redisInspector().catch(() => undefined);
  if (!redis) return;
  await redis.clean(PREFIX);
  await redis.close();
});

gatewayStoreContract({
  name: 'Redis store',
  async open(t, options) {
    if (!(await requireRedis(t))) return undefined;
    const prefix = `${PREFIX}${++stores}:`;
    const store = await RedisGatewayStore.open(REDIS_URL, { ...options, prefix });
    prefixes.set(store, prefix);
    t.after(() => store.close());
    return store;
  },
  async dump(store) {
    const { createClient } = await import('@redis/client');
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    try {
      const lines: string[] = [];
      for (const key of await client.keys(`${prefixes.get(store)}*`)) {
        const type = await client.type(key);
        const value =
          type === 'string'
            ? await client.get(key)
            : type === 'hash'
              ? await client.hGetAll(key)
              : type === 'zset'
                ? await client.zRange(key, 0, -1)
                : await client.xRange(key, '-', '+');
        lines.push(`${key} ${JSON.stringify(value)}`);
      }
      return lines.join('\n');
    } finally {
      await client.close();
    }
  },
});

/** A store behind a relay the test can cut; closed, with the relay, after the test. */
async function storeBehindRelay(t: import('node:test').TestContext, whenUnavailable: 'refuse' | 'admit') {
  const relay = await redisRelay();
  const store = await RedisGatewayStore.open(relay.url, { prefix: `${PREFIX}${++stores}:`, whenUnavailable });
  t.after(async () => {
    await relay.cut();
    await store.close();
  });
  return { relay, store };
}

/** Waits until the store has written what waited (the client reconnects in the background). */
async function flushed(store: RedisGatewayStore): Promise<void> {
  for (let attempt = 0; store.pendingSettlements > 0; attempt++) {
    assert.ok(attempt < 200, `${store.pendingSettlements} settlements still wait for Redis`);
    await wait(50);
    await store.flush();
  }
}

describe('Redis store: layout', () => {
  test('every key is under the prefix, a key id as hash tag; the ledger is capped, the totals are not', async (t) => {
    if (!(await requireRedis(t))) return;
    const prefix = `${PREFIX}layout:`;
    const store = await RedisGatewayStore.open(REDIS_URL, { prefix, ledgerMaxEntries: 10 });
    t.after(() => store.close());
    const { record } = await store.createKey({
      name: 'layout',
      rpm: 1_000,
      budgetUsd: 100,
      budgetPeriod: 'day',
    });
    for (let i = 0; i < 300; i++) {
      const reservation = reservationFor(record, { costUsd: 0.01, tokens: 5, at: NOON + i });
      assert.equal(await store.reserve(record, reservation), undefined);
      await store.settle(
        record,
        reservation,
        entryFor(record, reservation, { inputTokens: 3, outputTokens: 2 }),
      );
    }
    const redis = await redisInspector();
    t.after(() => redis.close());
    const keys = (await redis.keys(prefix)).map((key) => key.slice(prefix.length)).sort();
    const tag = `{${record.id}}`;
    assert.deepEqual(
      keys.filter((key) => !key.startsWith('h:')),
      ['ids', `k:${tag}`, `k:${tag}:ledger`, `k:${tag}:p:${Date.UTC(2026, 10, 29)}`, `k:${tag}:w`].sort(),
    );
    assert.equal(keys.filter((key) => /^h:[0-9a-f]{64}$/.test(key)).length, 1);
    const ledger = await store.ledger(record.id, { limit: 1_000 });
    assert.ok(ledger.length >= 10 && ledger.length < 300, `${ledger.length} rows kept of 300`);
    const spend = await store.spend(record, NOON);
    assert.equal(spend.requests, 300);
    assert.equal(spend.spendUsd, 3);
    assert.ok((await redis.pttl(`${prefix}k:${tag}:w`)) > 0, 'the window expires when idle');
  });
});

describe('Redis store: lost keys', () => {
  test('reservations whose leases were lost (evicted, deleted) stop holding the budget', async (t) => {
    if (!(await requireRedis(t))) return;
    const prefix = `${PREFIX}evicted:`;
    const store = await RedisGatewayStore.open(REDIS_URL, { prefix });
    t.after(() => store.close());
    const { record } = await store.createKey({ name: 'evicted', budgetUsd: 1 });
    assert.equal(await store.reserve(record, reservationFor(record, { costUsd: 1 })), undefined);
    const redis = await redisInspector();
    t.after(() => redis.close());
    await redis.clean(`${prefix}k:{${record.id}}:r`);
    assert.equal(await store.reserve(record, reservationFor(record, { costUsd: 1 })), undefined);
  });
});

describe('Redis store: an outage', () => {
  test('refuse (the default): limits unchecked are refused with a 503 reason; charges wait and are written later', {
    timeout: 30_000,
  }, async (t) => {
    if (!(await requireRedis(t))) return;
    const { relay, store } = await storeBehindRelay(t, 'refuse');
    const { record, key } = await store.createKey({ name: 'outage', budgetUsd: 10 });
    const inFlight = reservationFor(record, { costUsd: 1 });
    assert.equal(await store.reserve(record, inFlight), undefined);

    await relay.cut();
    const refusal = await store.reserve(record, reservationFor(record, { costUsd: 1 }));
    assert.equal(refusal?.reason, 'unavailable');
    assert.equal(refusal?.retryAfterMs, 1_000);
    assert.match(
      refusal?.message ?? '',
      /state store \(Redis\) cannot be reached.*key "outage".*whenUnavailable: 'refuse'/,
    );
    await assert.rejects(store.findKey(key), GatewayStateUnavailableError);
    // The call that was in flight finishes during the outage: its charge is kept.
    await store.settle(record, inFlight, entryFor(record, inFlight, { costUsd: 0.5 }));
    assert.equal(store.pendingSettlements, 1);

    await relay.restore();
    await flushed(store);
    const spend = await store.spend(record, NOON);
    assert.equal(spend.spendUsd, 0.5);
    assert.equal(spend.reservedUsd, 0, 'the reservation was returned');
    assert.equal((await store.ledger(record.id)).length, 1);
    assert.equal(await store.reserve(record, reservationFor(record, { costUsd: 1 })), undefined);
  });

  test('admit: known keys go through unchecked, and are charged once the server is back', {
    timeout: 30_000,
  }, async (t) => {
    if (!(await requireRedis(t))) return;
    const { relay, store } = await storeBehindRelay(t, 'admit');
    const { record, key } = await store.createKey({ name: 'open', rpm: 100, tpm: 1_000, budgetUsd: 10 });
    const { key: unseen } = await store.createKey({ name: 'unseen' });
    assert.deepEqual(await store.findKey(key), record);
    const before = reservationFor(record, { tokens: 300, costUsd: 1 });
    assert.equal(await store.reserve(record, before), undefined);

    await relay.cut();
    assert.deepEqual(await store.findKey(key), record, 'a key found before the outage is still recognised');
    await assert.rejects(
      store.findKey(unseen),
      GatewayStateUnavailableError,
      'a key never seen cannot be checked',
    );
    const during = reservationFor(record, { tokens: 900, costUsd: 100 });
    assert.equal(await store.reserve(record, during), undefined, 'admitted, though over tpm and budget');
    await store.settle(
      record,
      during,
      entryFor(record, during, { costUsd: 2, inputTokens: 500, outputTokens: 100 }),
    );
    assert.equal(store.pendingSettlements, 1);

    await relay.restore();
    await flushed(store);
    // The admitted call held nothing, so its settlement returned nothing: the window still holds the 300
    // tokens reserved before the outage, and the budget its 1 dollar.
    const spend = await store.spend(record, NOON);
    assert.equal(spend.spendUsd, 2);
    assert.equal(spend.reservedUsd, 1);
    assert.equal((await store.reserve(record, reservationFor(record, { tokens: 701 })))?.reason, 'tpm');
    assert.equal(await store.reserve(record, reservationFor(record, { tokens: 700 })), undefined);
  });

  test('a server that cannot be reached fails `open` at once with the typed error', async () => {
    await assert.rejects(
      RedisGatewayStore.open('redis://127.0.0.1:1', { connectTimeoutMs: 500 }),
      (error: unknown) => {
        assert.ok(error instanceof GatewayStateUnavailableError);
        assert.equal(error.code, 'connection');
        assert.equal(error.retryable, true);
        return true;
      },
    );
  });
});
