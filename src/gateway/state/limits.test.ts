import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { brokenLimits, bucketOf, periodAt, refusalFor, toNanos, toUsd, WINDOW_BUCKETS } from './limits.ts';
import type { KeyRecord, Reservation } from './types.ts';

const record: KeyRecord = { id: 'key_x', name: 'limits', prefix: 'llmf-abcd…', createdAt: 0 };
const at = Date.UTC(2026, 10, 29, 12, 0, 30, 500);
const reservation: Reservation = { keyId: 'key_x', requestId: 'r', at, tokens: 100, costUsd: 0 };
const idle = { requests: 0, tokens: 0, spentNanos: 0, reservedNanos: 0 };

describe('gateway limits', () => {
  test('periods are UTC calendar days and months', () => {
    assert.deepEqual(periodAt('day', Date.UTC(2026, 11, 31, 23, 59, 59, 999)), {
      start: Date.UTC(2026, 11, 31),
      end: Date.UTC(2027, 0, 1),
    });
    assert.deepEqual(periodAt('day', Date.UTC(2027, 0, 1)), {
      start: Date.UTC(2027, 0, 1),
      end: Date.UTC(2027, 0, 2),
    });
    assert.deepEqual(periodAt('month', Date.UTC(2028, 1, 29, 8)), {
      start: Date.UTC(2028, 1, 1),
      end: Date.UTC(2028, 2, 1),
    });
    assert.deepEqual(periodAt('month', Date.UTC(2026, 11, 15)), {
      start: Date.UTC(2026, 11, 1),
      end: Date.UTC(2027, 0, 1),
    });
    assert.deepEqual(periodAt(undefined, at), { start: 0, end: undefined });
  });

  test('money adds up exactly in nano-dollars', () => {
    assert.equal(toNanos(0.1) + toNanos(0.2), toNanos(0.3));
    assert.equal(toUsd(toNanos(0.1) + toNanos(0.2)), 0.3);
    assert.equal(toNanos(0.0000015), 1_500);
  });

  test('a budget of 0 refuses everything; a spent budget refuses a call of unknown price', () => {
    assert.deepEqual(brokenLimits({ ...record, budgetUsd: 0 }, reservation, idle), ['budget']);
    const spent = { ...idle, spentNanos: toNanos(2) };
    assert.deepEqual(brokenLimits({ ...record, budgetUsd: 2 }, reservation, spent), ['budget']);
    assert.deepEqual(brokenLimits({ ...record, budgetUsd: 2.01 }, reservation, spent), []);
  });

  test('with several limits broken, the refusal is the one that ends last', () => {
    const limited = { ...record, rpm: 2, tpm: 150 };
    const bucket = bucketOf(at);
    // Two requests 50 s ago (free in 11 s), 100 tokens of them 50 s ago and 100 just now.
    const buckets = [
      { bucket: bucket - 50, requests: 2, tokens: 100 },
      { bucket, requests: 0, tokens: 100 },
    ];
    const usage = { ...idle, requests: 2, tokens: 200 };
    assert.deepEqual(brokenLimits(limited, reservation, usage), ['rpm', 'tpm']);
    const refusal = refusalFor(['rpm', 'tpm'], limited, reservation, usage, buckets);
    assert.equal(refusal.reason, 'tpm');
    assert.equal(refusal.retryAfterMs, (bucket + WINDOW_BUCKETS + 1) * 1_000 - at);
    const rpmOnly = refusalFor(['rpm'], limited, reservation, usage, buckets);
    assert.equal(rpmOnly.retryAfterMs, (bucket - 50 + WINDOW_BUCKETS + 1) * 1_000 - at);
    assert.equal(rpmOnly.retryAfterMs, 10_500);
  });
});
