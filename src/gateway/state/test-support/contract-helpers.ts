/** The pieces of the shared store suite: the store under test, a fixed noon, reservations and entries. */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import { isLLMError } from '../../../spec/errors.ts';
import type { GatewayStore, KeyRecord, KeySpec, LedgerEntry, Reservation } from '../types.ts';

export interface StoreUnderTest {
  name: string;
  /** A fresh store for one test, closed after it; undefined when the test was skipped (no Redis). */
  open(t: TestContext, options?: { reservationTtlMs?: number }): Promise<GatewayStore | undefined>;
  /** Everything the store holds, as text: to show that no key is in it. */
  dump(store: GatewayStore): Promise<string>;
}

/** Noon UTC on 2026-11-29, a quarter second into its bucket. */
export const NOON = Date.UTC(2026, 10, 29, 12, 0, 0, 250);

let requests = 0;

export function reservationFor(record: KeyRecord, fields: Partial<Reservation> = {}): Reservation {
  return { keyId: record.id, requestId: `request-${++requests}`, at: NOON, tokens: 0, costUsd: 0, ...fields };
}

export function entryFor(
  record: KeyRecord,
  reservation: Reservation,
  fields: Partial<LedgerEntry> = {},
): LedgerEntry {
  return {
    keyId: record.id,
    at: reservation.at,
    model: 'gpt-4o-mini',
    deployment: 'openai-east',
    inputTokens: 0,
    outputTokens: 0,
    costUsd: reservation.costUsd,
    requestId: reservation.requestId,
    ...fields,
  };
}

export async function created(store: GatewayStore, spec: KeySpec): Promise<KeyRecord> {
  return (await store.createKey(spec)).record;
}

export function rejectsNaming(promise: Promise<unknown>, ...words: string[]) {
  return assert.rejects(promise, (error: unknown) => {
    assert.ok(isLLMError(error) && error.code === 'bad_request', `a bad-request error, got ${error}`);
    for (const word of words) assert.match(error.message, new RegExp(word));
    return true;
  });
}

/** `test` with a fresh store (opened with `options`), skipped when the store cannot be had. */
export function storeTest(subject: StoreUnderTest) {
  return (
    name: string,
    body: (store: GatewayStore) => Promise<void>,
    options?: { reservationTtlMs?: number },
  ) =>
    test(name, async (t) => {
      const store = await subject.open(t, options);
      if (store) await body(store);
    });
}
