/** The shared store suite, part two: budgets, reservations and the ledger (see store-contract.ts). */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import fc from 'fast-check';
import type { LedgerEntry } from '../types.ts';
import {
  created,
  entryFor,
  NOON,
  rejectsNaming,
  reservationFor,
  type StoreUnderTest,
  storeTest,
} from './contract-helpers.ts';

export function budgetContract(subject: StoreUnderTest): void {
  const withStore = storeTest(subject);

  describe(`${subject.name}: budgets and the ledger`, () => {
    withStore('reserve and settle: estimates held, actual costs charged', async (store) => {
      const record = await created(store, { name: 'budget', budgetUsd: 1, budgetPeriod: 'day' });
      const [a, b, c] = [0, 1, 2].map((i) => reservationFor(record, { costUsd: 0.4, at: NOON + i }));
      assert.equal(await store.reserve(record, a!), undefined);
      assert.equal(await store.reserve(record, b!), undefined);
      const held = await store.reserve(record, c!);
      assert.equal(held?.reason, 'budget');
      assert.equal(held?.retryAfterMs, 1_000, 'only calls in flight hold the rest: they may settle for less');
      assert.match(held?.message ?? '', /calls in flight hold \$0\.8/);

      await store.settle(
        record,
        a!,
        entryFor(record, a!, { costUsd: 0.1, inputTokens: 10, outputTokens: 5 }),
      );
      assert.equal(await store.reserve(record, c!), undefined, '0.1 spent + 0.4 + 0.4 held');
      const spend = await store.spend(record, NOON + 10);
      assert.equal(spend.spendUsd, 0.1);
      assert.equal(spend.reservedUsd, 0.8);
      assert.equal(spend.requests, 1);
      assert.equal(spend.inputTokens, 10);
      assert.equal(spend.outputTokens, 5);
      assert.equal(spend.periodStart, Date.UTC(2026, 10, 29));
      assert.equal(spend.periodEnd, Date.UTC(2026, 10, 30));

      await store.settle(record, b!, entryFor(record, b!, { costUsd: 0.5 }));
      await store.settle(record, c!, entryFor(record, c!, { costUsd: 0.4 }));
      const spent = await store.reserve(record, reservationFor(record, { at: NOON + 60_000 }));
      assert.equal(spent?.reason, 'budget', 'a spent budget refuses even a call of unknown price');
      assert.equal(spent?.retryAfterMs, Date.UTC(2026, 10, 30) - (NOON + 60_000), 'until UTC midnight');
      assert.match(
        spent?.message ?? '',
        /has spent \$1 of its \$1 daily budget; it resets at 2026-11-30T00:00:00/,
      );

      const tomorrow = Date.UTC(2026, 10, 30, 0, 0, 0, 1);
      assert.equal((await store.spend(record, tomorrow)).spendUsd, 0);
      assert.equal(
        await store.reserve(record, reservationFor(record, { costUsd: 0.9, at: tomorrow })),
        undefined,
      );
    });

    withStore('monthly and lifetime budgets', async (store) => {
      const monthly = await created(store, { name: 'month', budgetUsd: 0.5, budgetPeriod: 'month' });
      const first = reservationFor(monthly, { costUsd: 0.5 });
      assert.equal(await store.reserve(monthly, first), undefined);
      await store.settle(monthly, first, entryFor(monthly, first));
      const refusal = await store.reserve(monthly, reservationFor(monthly, { at: NOON }));
      assert.equal(refusal?.retryAfterMs, Date.UTC(2026, 11, 1) - NOON);
      const nextMonth = reservationFor(monthly, { costUsd: 0.5, at: Date.UTC(2026, 11, 1) });
      assert.equal(await store.reserve(monthly, nextMonth), undefined);

      const lifetime = await created(store, { name: 'life', budgetUsd: 0.25 });
      const only = reservationFor(lifetime, { costUsd: 0.25 });
      assert.equal(await store.reserve(lifetime, only), undefined);
      await store.settle(lifetime, only, entryFor(lifetime, only));
      const never = await store.reserve(lifetime, reservationFor(lifetime, { at: NOON + 400 * 86_400_000 }));
      assert.equal(never?.reason, 'budget');
      assert.equal(never?.retryAfterMs, undefined);
      assert.match(never?.message ?? '', /lifetime budget and does not reset/);
      assert.equal((await store.spend(lifetime, NOON)).periodStart, 0);
    });

    withStore(
      'a call that never settles holds its budget only until its lease ends',
      async (leased) => {
        const record = await created(leased, { name: 'lease', budgetUsd: 1 });
        assert.equal(await leased.reserve(record, reservationFor(record, { costUsd: 1 })), undefined);
        assert.equal(
          (await leased.reserve(record, reservationFor(record, { at: NOON + 4_999 })))?.reason,
          'budget',
        );
        assert.equal((await leased.spend(record, NOON + 4_999)).reservedUsd, 1);
        assert.equal((await leased.spend(record, NOON + 5_000)).reservedUsd, 0);
        const after = reservationFor(record, { costUsd: 1, at: NOON + 5_000 });
        assert.equal(await leased.reserve(record, after), undefined);
      },
      { reservationTtlMs: 5_000 },
    );

    withStore('a request id holds one reservation at a time', async (store) => {
      const record = await created(store, { name: 'twice', budgetUsd: 10 });
      const reservation = reservationFor(record, { costUsd: 1 });
      assert.equal(await store.reserve(record, reservation), undefined);
      await rejectsNaming(store.reserve(record, reservation), 'already holds a reservation');
      assert.equal((await store.spend(record, NOON)).reservedUsd, 1, 'the refused one took nothing');
      await store.settle(record, reservation, undefined);
      assert.equal((await store.spend(record, NOON)).reservedUsd, 0);
    });

    withStore('reservations and entries that do not fit the key are refused', async (store) => {
      const record = await created(store, { name: 'strict' });
      const other = await created(store, { name: 'other' });
      await rejectsNaming(store.reserve(record, reservationFor(other)), '`keyId`');
      await rejectsNaming(
        store.reserve(record, reservationFor(record, { tokens: -1, costUsd: Number.NaN })),
        '`tokens`',
        '`costUsd`',
      );
      const reservation = reservationFor(record);
      await rejectsNaming(
        store.settle(record, reservation, entryFor(record, reservation, { outputTokens: 1.5 })),
        '`outputTokens`',
      );
    });

    withStore('many parallel reservations never pass more than the budget', async (store) => {
      const record = await created(store, { name: 'rush', budgetUsd: 3.7 });
      const refusals = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store.reserve(record, reservationFor(record, { costUsd: 0.1, at: NOON + i })),
        ),
      );
      assert.equal(refusals.filter((refusal) => refusal === undefined).length, 37);
      assert.ok(refusals.every((refusal) => refusal === undefined || refusal.reason === 'budget'));
      assert.equal((await store.spend(record, NOON + 200)).reservedUsd, 3.7);
    });

    withStore('the ledger adds up to the spend totals, unpriced calls counted apart', async (store) => {
      const record = await created(store, { name: 'ledger', budgetUsd: 1_000, budgetPeriod: 'month' });
      const random = fc.sample(
        fc.record({
          cost: fc.option(fc.double({ min: 0, max: 0.05, noNaN: true }), { nil: undefined }),
          input: fc.integer({ min: 0, max: 5_000 }),
          output: fc.integer({ min: 0, max: 2_000 }),
        }),
        { numRuns: 120, seed: 7 },
      );
      let last: LedgerEntry | undefined;
      for (const [i, call] of random.entries()) {
        const reservation = reservationFor(record, { costUsd: 0.05, at: NOON + i * 1_000 });
        assert.equal(await store.reserve(record, reservation), undefined);
        last = entryFor(record, reservation, {
          costUsd: call.cost,
          inputTokens: call.input,
          outputTokens: call.output,
        });
        await store.settle(record, reservation, last);
      }
      const ledger = await store.ledger(record.id, { limit: 1_000 });
      assert.equal(ledger.length, random.length);
      const spend = await store.spend(record, NOON);
      const nanos = (usd: number | undefined) => Math.round((usd ?? 0) * 1e9);
      assert.equal(
        ledger.reduce((sum, entry) => sum + nanos(entry.costUsd), 0),
        nanos(spend.spendUsd),
        'the ledger sums to the spend, to the nano-dollar',
      );
      assert.equal(spend.requests, random.length);
      assert.equal(spend.unpricedRequests, random.filter((call) => call.cost === undefined).length);
      assert.equal(ledger.filter((entry) => entry.costUsd === undefined).length, spend.unpricedRequests);
      assert.equal(
        spend.inputTokens,
        ledger.reduce((sum, entry) => sum + entry.inputTokens, 0),
      );
      assert.equal(
        spend.outputTokens,
        ledger.reduce((sum, entry) => sum + entry.outputTokens, 0),
      );
      assert.equal(spend.reservedUsd, 0);
      // What was charged comes back as it was given (a cost rounded to the nano-dollar).
      const { costUsd, ...rest } = last!;
      assert.deepEqual(
        ledger[0],
        costUsd === undefined ? rest : { ...rest, costUsd: Math.round(costUsd * 1e9) / 1e9 },
      );
    });
  });
}
