/**
 * One suite for every `GatewayStore`: the SQLite and the Redis store must behave alike to the last
 * refusal, so each test here runs against both (sqlite-store.test.ts, redis-store.test.ts). Times are
 * fixed epochs (a reservation carries its own `at`), so no test depends on the clock or on how fast it runs.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import fc from 'fast-check';
import { keyStatus } from '../keys.ts';
import { bucketOf, WINDOW_MS } from '../limits.ts';
import type { KeySpec } from '../types.ts';
import { budgetContract } from './contract-budgets.ts';
import {
  created,
  entryFor,
  NOON,
  rejectsNaming,
  reservationFor,
  type StoreUnderTest,
  storeTest,
} from './contract-helpers.ts';

export { entryFor, NOON, reservationFor, type StoreUnderTest } from './contract-helpers.ts';

export function gatewayStoreContract(subject: StoreUnderTest): void {
  const withStore = storeTest(subject);

  describe(`${subject.name}: keys`, () => {
    withStore('create, list, get and revoke', async (store) => {
      const { record, key } = await store.createKey({ name: 'team-a', models: ['gpt-4o-mini'], rpm: 10 });
      assert.match(key, /^llmf-[A-Za-z0-9_-]{43}$/);
      assert.equal(record.prefix, `${key.slice(0, 9)}…`);
      assert.deepEqual(Object.keys(record).sort(), ['createdAt', 'id', 'models', 'name', 'prefix', 'rpm']);
      const other = await created(store, { name: 'team-b' });
      assert.deepEqual(await store.getKey(record.id), record);
      assert.deepEqual(
        (await store.listKeys()).map((listed) => listed.id).sort(),
        [record.id, other.id].sort(),
      );
      assert.equal(await store.getKey('key_nothing'), undefined);

      assert.equal(await store.revokeKey(record.id), true);
      const revoked = await store.getKey(record.id);
      assert.equal(typeof revoked?.revokedAt, 'number');
      assert.equal(await store.revokeKey(record.id), true, 'still there, still revoked');
      assert.equal((await store.getKey(record.id))?.revokedAt, revoked?.revokedAt, 'the first time is kept');
      assert.equal(await store.revokeKey('key_nothing'), false);
      const listed = await store.listKeys();
      assert.equal(listed.find((item) => item.id === record.id)?.revokedAt, revoked?.revokedAt);
      assert.equal(listed.find((item) => item.id === other.id)?.revokedAt, undefined);
    });

    withStore('a key is found by itself only, revoked or not, and is stored nowhere', async (store) => {
      const { record, key } = await store.createKey({ name: 'finder' });
      assert.deepEqual(await store.findKey(key), record);
      const last = key.at(-1) === 'A' ? 'B' : 'A';
      assert.equal(await store.findKey(key.slice(0, -1) + last), undefined, 'one character off');
      assert.equal(await store.findKey(`llmf-${'A'.repeat(43)}`), undefined, 'the right shape');
      assert.equal(await store.findKey(`${key}x`), undefined);
      assert.equal(await store.findKey(''), undefined);
      assert.equal(await store.findKey(key.toUpperCase()), undefined);

      const dump = await subject.dump(store);
      assert.ok(dump.includes(record.id), 'the dump shows what the store holds');
      assert.ok(!dump.includes(key) && !dump.includes(key.slice(9)), 'the key is not in the store');

      await store.revokeKey(record.id);
      const found = await store.findKey(key);
      assert.equal(found?.id, record.id);
      assert.equal(keyStatus(found!, NOON), 'revoked');
    });

    withStore('a bad spec is refused, naming every wrong field', async (store) => {
      await rejectsNaming(store.createKey({ name: '' }), '`name`');
      await rejectsNaming(store.createKey({ name: 'x', rpm: 0, tpm: 1.5 }), '`rpm`', '`tpm`');
      await rejectsNaming(store.createKey({ name: 'x', budgetUsd: -1 }), '`budgetUsd`');
      await rejectsNaming(
        store.createKey({ name: 'x', budgetPeriod: 'day' }),
        '`budgetPeriod` needs `budgetUsd`',
      );
      await rejectsNaming(
        store.createKey({ name: 'x', budgetUsd: 1, budgetPeriod: 'week' as 'day' }),
        "'day' or 'month'",
      );
      await rejectsNaming(store.createKey({ name: 'x', models: ['a', ''] }), '`models`');
      await rejectsNaming(
        store.createKey({ name: 'x', budget: 5 } as KeySpec),
        '`budget` is not a key field',
      );
      await rejectsNaming(store.createKey(null as unknown as KeySpec), 'must be an object');
      assert.deepEqual(await store.listKeys(), [], 'nothing was stored');
    });

    withStore('an expired key and a revoked key are refused without a Retry-After', async (store) => {
      const expiring = await created(store, { name: 'temp', expiresAt: NOON + 1_000 });
      assert.equal(await store.reserve(expiring, reservationFor(expiring, { at: NOON + 999 })), undefined);
      const expired = await store.reserve(expiring, reservationFor(expiring, { at: NOON + 1_000 }));
      assert.equal(expired?.reason, 'expired');
      assert.match(expired?.message ?? '', /"temp".*expired at 2026-11-29T12:00:01/);
      assert.equal(expired?.retryAfterMs, undefined);

      const record = await created(store, { name: 'gone' });
      assert.equal(await store.reserve(record, reservationFor(record)), undefined);
      await store.revokeKey(record.id);
      // The gateway may hold the record from before the revocation: the store's word wins.
      const revoked = await store.reserve(record, reservationFor(record));
      assert.equal(revoked?.reason, 'revoked');
      assert.equal(revoked?.retryAfterMs, undefined);
    });
  });

  describe(`${subject.name}: rate limits`, () => {
    withStore(
      'rpm: the request over the limit waits until the oldest second leaves the minute',
      async (store) => {
        const record = await created(store, { name: 'rpm', rpm: 3 });
        for (const offset of [0, 400, 1_500]) {
          assert.equal(await store.reserve(record, reservationFor(record, { at: NOON + offset })), undefined);
        }
        const refusal = await store.reserve(record, reservationFor(record, { at: NOON + 2_000 }));
        assert.equal(refusal?.reason, 'rpm');
        // The two of NOON's second count until the second 61 s later begins.
        const freedAt = (bucketOf(NOON) + 61) * 1_000;
        assert.equal(refusal?.retryAfterMs, freedAt - (NOON + 2_000));
        assert.match(refusal?.message ?? '', /allows 3 requests a minute and has made 3/);
        assert.equal(
          (await store.reserve(record, reservationFor(record, { at: freedAt - 1 })))?.reason,
          'rpm',
        );
        // Both of that second's requests left: two more pass, not three.
        assert.equal(await store.reserve(record, reservationFor(record, { at: freedAt })), undefined);
        assert.equal(await store.reserve(record, reservationFor(record, { at: freedAt })), undefined);
        const third = await store.reserve(record, reservationFor(record, { at: freedAt }));
        assert.equal(third?.reason, 'rpm');
        assert.equal(third?.retryAfterMs, 1_000, 'the request of NOON + 1.5 s leaves a second later');
        // A minute of silence and more: everything is free again.
        for (let i = 0; i < 3; i++) {
          assert.equal(
            await store.reserve(record, reservationFor(record, { at: NOON + 10 * WINDOW_MS })),
            undefined,
          );
        }
      },
    );

    withStore('tpm: the estimate is reserved, then corrected to the actual tokens', async (store) => {
      const record = await created(store, { name: 'tpm', tpm: 1_000 });
      const first = reservationFor(record, { tokens: 600 });
      assert.equal(await store.reserve(record, first), undefined);
      const second = reservationFor(record, { tokens: 500, at: NOON + 10 });
      const refusal = await store.reserve(record, second);
      assert.equal(refusal?.reason, 'tpm');
      assert.match(
        refusal?.message ?? '',
        /allows 1000 tokens a minute, 600 are taken and this request needs 500/,
      );
      await store.settle(record, first, entryFor(record, first, { inputTokens: 80, outputTokens: 20 }));
      assert.equal(await store.reserve(record, second), undefined, '100 + 500 fit');
      const third = reservationFor(record, { tokens: 401, at: NOON + 20 });
      assert.equal((await store.reserve(record, third))?.reason, 'tpm', '100 + 500 + 401 do not');
      // A failed call gives its tokens back.
      await store.settle(record, second, undefined);
      assert.equal(await store.reserve(record, third), undefined);
    });

    withStore(
      'tpm: a request larger than the whole limit passes only into an empty minute',
      async (store) => {
        const record = await created(store, { name: 'big', tpm: 1_000 });
        const small = reservationFor(record, { tokens: 10 });
        assert.equal(await store.reserve(record, small), undefined);
        const big = reservationFor(record, { tokens: 5_000, at: NOON + 5_000 });
        const refusal = await store.reserve(record, big);
        assert.equal(refusal?.reason, 'tpm');
        assert.match(refusal?.message ?? '', /more than the whole limit/);
        const empty = NOON + (refusal?.retryAfterMs ?? 0) + 5_000;
        assert.equal(await store.reserve(record, { ...big, at: empty }), undefined);
        assert.equal(
          (await store.reserve(record, reservationFor(record, { tokens: 1, at: empty })))?.reason,
          'tpm',
        );
      },
    );

    withStore(
      'the drift bound: never over the limit in any 60 s, never refused while 61 s hold less',
      async (store) => {
        await fc.assert(
          fc.asyncProperty(
            fc.integer({ min: 1, max: 6 }),
            // Bursts, and gaps of about a minute: the edges of the window.
            fc.array(fc.oneof(fc.integer({ min: 0, max: 1_500 }), fc.integer({ min: 58_000, max: 61_500 })), {
              minLength: 1,
              maxLength: 40,
            }),
            async (rpm, gaps) => {
              const record = await created(store, { name: 'drift', rpm });
              const admitted: number[] = [];
              let at = NOON;
              for (const gap of gaps) {
                at += gap;
                const refusal = await store.reserve(record, reservationFor(record, { at }));
                const inLast = (span: number) => admitted.filter((time) => time > at - span).length;
                if (refusal) {
                  assert.equal(refusal.reason, 'rpm');
                  assert.ok(
                    inLast(WINDOW_MS + 1_000) >= rpm,
                    `refused at ${at} with ${inLast(61_000)} in 61 s`,
                  );
                } else {
                  admitted.push(at);
                  assert.ok(inLast(WINDOW_MS) <= rpm, `${inLast(WINDOW_MS)} in the 60 s before ${at}`);
                }
              }
            },
          ),
          { numRuns: 60, seed: 42 },
        );
      },
    );

    withStore('many parallel reservations never pass more than rpm', async (store) => {
      const record = await created(store, { name: 'crowd', rpm: 50 });
      const refusals = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store.reserve(record, reservationFor(record, { at: NOON + i })),
        ),
      );
      assert.equal(refusals.filter((refusal) => refusal === undefined).length, 50);
    });
  });
  budgetContract(subject);
}
