/**
 * The SQLite store through the shared suite (a new file per test), plus what only a file has: it reopens with
 * everything in it, refuses a file a newer version wrote, and commits the writes of one turn together with
 * each one undone alone when it fails.
 */
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { readdir, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test } from 'node:test';
import { setTimeout as wait } from 'node:timers/promises';
import { tempDir } from '../../middleware/test-support/harness.ts';
import { isLLMError } from '../../spec/errors.ts';
import { SqliteGatewayStore } from './sqlite-store.ts';
import { entryFor, gatewayStoreContract, NOON, reservationFor } from './test-support/store-contract.ts';
import type { GatewayStore } from './types.ts';

const paths = new WeakMap<GatewayStore, string>();

gatewayStoreContract({
  name: 'SQLite store',
  async open(t, options) {
    const path = join(await tempDir(t), 'gateway.sqlite');
    const store = await SqliteGatewayStore.open(path, options);
    paths.set(store, path);
    t.after(() => store.close());
    return store;
  },
  async dump(store) {
    const path = paths.get(store)!;
    // The database and its write-ahead log, as bytes read as text: a key would show in either.
    const files = await Promise.all(
      [path, `${path}-wal`].map((file) => readFile(file).catch(() => Buffer.alloc(0))),
    );
    return files.map((bytes) => bytes.toString('latin1')).join('\n');
  },
});

describe('SQLite store: the file', () => {
  test('reopened, it holds the keys, the spend and the ledger', async (t) => {
    const path = join(await tempDir(t), 'reopen.sqlite');
    const first = await SqliteGatewayStore.open(path);
    const { record, key } = await first.createKey({ name: 'durable', budgetUsd: 5 });
    const reservation = reservationFor(record, { costUsd: 1 });
    await first.reserve(record, reservation);
    await first.settle(record, reservation, entryFor(record, reservation, { costUsd: 0.75 }));
    await first.close();

    const second = await SqliteGatewayStore.open(path);
    t.after(() => second.close());
    assert.deepEqual(await second.findKey(key), record);
    assert.equal((await second.spend(record, NOON)).spendUsd, 0.75);
    assert.equal((await second.ledger(record.id)).length, 1);
  });

  test('a file from before the reserved sums gets them, counting the holds already in it', async (t) => {
    const path = join(await tempDir(t), 'older.sqlite');
    const first = await SqliteGatewayStore.open(path);
    const { record } = await first.createKey({ name: 'older', budgetUsd: 1 });
    assert.equal(await first.reserve(record, reservationFor(record, { costUsd: 0.75 })), undefined);
    await first.close();
    // As an older llm-factory left it: the holds, and no sums or triggers.
    const db = new DatabaseSync(path);
    db.exec(
      'DROP TRIGGER gateway_reserved_hold; DROP TRIGGER gateway_reserved_release; DROP TABLE gateway_reserved;',
    );
    db.close();

    const second = await SqliteGatewayStore.open(path);
    t.after(() => second.close());
    const over = await second.reserve(record, reservationFor(record, { costUsd: 0.5 }));
    assert.equal(over?.reason, 'budget', 'the $0.75 held before the upgrade counts');
    const within = reservationFor(record, { costUsd: 0.25 });
    assert.equal(await second.reserve(record, within), undefined);
    await second.settle(record, within, undefined);
    assert.equal(await second.reserve(record, reservationFor(record, { costUsd: 0.25 })), undefined);
  });

  test('a file written by a newer schema is refused, not misread', async (t) => {
    const path = join(await tempDir(t), 'newer.sqlite');
    const db = new DatabaseSync(path);
    db.exec('PRAGMA user_version = 99');
    db.close();
    await assert.rejects(SqliteGatewayStore.open(path), (error: unknown) => {
      assert.ok(isLLMError(error) && error.code === 'configuration');
      assert.match(error.message, /newer llm-factory \(schema 99/);
      return true;
    });
  });
});

describe('SQLite store: the writes of one turn share a commit', () => {
  test('a reservation refused by an error in the same turn as others leaves the others committed', async (t) => {
    const path = join(await tempDir(t), 'batched.sqlite');
    const store = await SqliteGatewayStore.open(path);
    t.after(() => store.close());
    const { record } = await store.createKey({ name: 'batched', rpm: 3, budgetUsd: 1 });
    const first = reservationFor(record, { costUsd: 0.25 });
    const last = reservationFor(record, { costUsd: 0.5 });
    // Asked for in one turn: the second repeats the first's request id, which the store refuses by throwing.
    const outcomes = await Promise.allSettled([
      store.reserve(record, first),
      store.reserve(record, { ...first, costUsd: 0.125 }),
      store.reserve(record, last),
    ]);
    assert.deepEqual(outcomes[0], { status: 'fulfilled', value: undefined });
    assert.equal(outcomes[1]?.status, 'rejected');
    assert.match(String((outcomes[1] as PromiseRejectedResult).reason), /request-/);
    assert.deepEqual(outcomes[2], { status: 'fulfilled', value: undefined });
    assert.equal((await store.spend(record, NOON)).reservedUsd, 0.75, 'both holds, not the refused one');
    await store.close();

    // Written to the file, not only held by this connection; and the window counted two requests of three.
    const reopened = await SqliteGatewayStore.open(path);
    t.after(() => reopened.close());
    assert.equal((await reopened.spend(record, NOON)).reservedUsd, 0.75);
    assert.equal(await reopened.reserve(record, reservationFor(record)), undefined, 'the third of 3 rpm');
    assert.equal((await reopened.reserve(record, reservationFor(record)))?.reason, 'rpm');
  });

  test('closing with writes asked for but not yet committed commits them first', async (t) => {
    const path = join(await tempDir(t), 'closing.sqlite');
    const store = await SqliteGatewayStore.open(path);
    const { record } = await store.createKey({ name: 'closing', budgetUsd: 1 });
    const reservation = reservationFor(record, { costUsd: 0.25 });
    const reserved = store.reserve(record, reservation);
    await store.close();
    assert.equal(await reserved, undefined);
    const reopened = await SqliteGatewayStore.open(path);
    t.after(() => reopened.close());
    assert.equal((await reopened.spend(record, NOON)).reservedUsd, 0.25);
  });

  test('a write asked of a closed store is refused, and the process goes on', async (t) => {
    const store = await SqliteGatewayStore.open(join(await tempDir(t), 'closed.sqlite'));
    const { record } = await store.createKey({ name: 'closed', rpm: 5 });
    await store.close();
    await assert.rejects(store.reserve(record, reservationFor(record)));
    await assert.rejects(store.settle(record, reservationFor(record), undefined));
    // Asked for in one turn, the two share a batch whose BEGIN fails: both callers hear of it.
    const outcomes = await Promise.allSettled([
      store.reserve(record, reservationFor(record)),
      store.settle(record, reservationFor(record), undefined),
    ]);
    assert.deepEqual(
      outcomes.map((outcome) => outcome.status),
      ['rejected', 'rejected'],
    );
  });
});

describe('SQLite store: the write-ahead log, checkpointed off the serving thread', () => {
  test('stays bounded under a long run of writes', async (t) => {
    const path = join(await tempDir(t), 'checkpointed.sqlite');
    const walMaxBytes = 256 * 1024;
    const store = await SqliteGatewayStore.open(path, { walMaxBytes });
    t.after(() => store.close());
    const { record } = await store.createKey({ name: 'busy', rpm: 1_000_000, budgetUsd: 1_000_000 });
    let largestBytes = 0;
    // As the gateway writes: a few calls in flight, their reservations and settlements batched per turn.
    const call = async () => {
      const reservation = reservationFor(record, { costUsd: 0.001, tokens: 10 });
      assert.equal(await store.reserve(record, reservation), undefined);
      await store.settle(record, reservation, entryFor(record, reservation, { inputTokens: 5 }));
    };
    const round = () => Promise.all(Array.from({ length: 8 }, call));
    // The thread starts with the first checkpoint asked for, and until it runs nothing bounds the log (on a
    // busy machine its start can take a second of commits): write until it has rewound the log once.
    let commits = 0;
    for (let previous = 0; ; previous = statSync(`${path}-wal`).size) {
      await round();
      commits += 8;
      if (statSync(`${path}-wal`).size < previous) break;
      assert.ok(commits < 80_000, 'the log was never rewound');
    }
    for (let rounds = 0; rounds < 2_000; rounds++) {
      await round();
      largestBytes = Math.max(largestBytes, statSync(`${path}-wal`).size);
    }
    // Without checkpoints the log holds every one of the 4,000 commits (about 68 MB); checkpointed, its file
    // stays within a few MB (commits go on while a passive checkpoint runs, and before its thread has started).
    assert.ok(largestBytes < 8 * 2 ** 20, `the log reached ${largestBytes} bytes`);
    assert.equal((await store.ledger(record.id, { limit: 100_000 })).length, commits + 16_000);
  });
});

describe('SQLite store: a state file removed while the store is open', () => {
  test('is not made again, empty, by the checkpoint thread', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'removed.sqlite');
    let warned: (message: string) => void = () => {};
    const warning = new Promise<string>((resolve) => (warned = resolve));
    const onWarning = (emitted: Error & { code?: string }) => {
      if (emitted.code === 'LLMF_SQLITE_CHECKPOINT' && emitted.message.includes(path))
        warned(emitted.message);
    };
    process.on('warning', onWarning);
    t.after(() => process.off('warning', onWarning));
    const store = await SqliteGatewayStore.open(path);
    const { record } = await store.createKey({ name: 'orphan' });
    for (const file of await readdir(dir)) await unlink(join(dir, file));
    // A commit each: the thread starts at the 64th and finds no file to open.
    for (let i = 0; i < 70; i++) {
      const reservation = reservationFor(record, { tokens: 10 });
      await store.settle(record, reservation, entryFor(record, reservation, { inputTokens: 5 }));
    }
    // The open store is told, as a process warning, that its thread stopped and why (a thread that opened a
    // file instead never fails: the wait ends after 10 s with nothing).
    assert.match(
      await Promise.race([warning, wait(10_000, '')]),
      /checkpoint thread of the gateway state file .*removed\.sqlite stopped \(unable to open/,
    );
    await store.close();
    assert.deepEqual(await readdir(dir), []);
  });
});

describe('SQLite store: the ledger is capped per key, the totals are not', () => {
  test('past ledgerMaxEntries the oldest rows go; spend still counts every call', async (t) => {
    const path = join(await tempDir(t), 'capped.sqlite');
    const store = await SqliteGatewayStore.open(path, { ledgerMaxEntries: 50 });
    t.after(() => store.close());
    const { record } = await store.createKey({ name: 'chatty', budgetUsd: 100, budgetPeriod: 'day' });
    const other = (await store.createKey({ name: 'quiet' })).record;
    const requestIds: string[] = [];
    for (let i = 0; i < 300; i++) {
      const reservation = reservationFor(record, { costUsd: 0.001, tokens: 10 });
      assert.equal(await store.reserve(record, reservation), undefined);
      await store.settle(record, reservation, entryFor(record, reservation, { inputTokens: 5 }));
      requestIds.push(reservation.requestId);
    }
    const quiet = reservationFor(other, { tokens: 10 });
    await store.settle(other, quiet, entryFor(other, quiet, { inputTokens: 5 }));

    const kept = await store.ledger(record.id, { limit: 1_000 });
    assert.ok(kept.length >= 50 && kept.length <= 55, `${kept.length} rows kept`);
    assert.deepEqual(
      kept.map((entry) => entry.requestId),
      requestIds.slice(-kept.length).reverse(),
      'the newest rows, newest first',
    );
    assert.equal((await store.spend(record, NOON)).requests, 300, 'the totals count every call');
    assert.equal((await store.ledger(other.id)).length, 1, "another key's ledger is its own");
    await assert.rejects(
      SqliteGatewayStore.open(join(await tempDir(t), 'bad.sqlite'), { ledgerMaxEntries: 0 }),
      /ledgerMaxEntries/,
    );
  });

  test('a ledger already past the cap is cut back at the first look; two stores of one file keep it there', async (t) => {
    const path = join(await tempDir(t), 'shared.sqlite');
    const roomy = await SqliteGatewayStore.open(path, { ledgerMaxEntries: 1_000 });
    const { record } = await roomy.createKey({ name: 'shared' });
    const settleOne = async (store: SqliteGatewayStore) => {
      const reservation = reservationFor(record, { tokens: 10 });
      await store.settle(record, reservation, entryFor(record, reservation, { inputTokens: 5 }));
    };
    for (let i = 0; i < 200; i++) await settleOne(roomy);
    await roomy.close();

    // Cap 50, so a look every 5 rows: the first finds 205 and leaves the newest 50.
    const a = await SqliteGatewayStore.open(path, { ledgerMaxEntries: 50 });
    const b = await SqliteGatewayStore.open(path, { ledgerMaxEntries: 50 });
    t.after(() => Promise.all([a.close(), b.close()]));
    for (let i = 0; i < 5; i++) await settleOne(a);
    assert.equal((await a.ledger(record.id, { limit: 1_000 })).length, 50);
    // Both write, each deleting for its own rows once it knows the ledger is full: within a look's worth of
    // rows per store either side of the cap.
    for (let i = 0; i < 300; i++) {
      await settleOne(i % 3 === 0 ? a : b);
      const kept = (await b.ledger(record.id, { limit: 1_000 })).length;
      assert.ok(kept >= 40 && kept <= 60, `${kept} rows kept after ${i + 1}`);
    }
    assert.equal((await a.spend(record, NOON)).requests, 505, 'the totals count every call');
  });

  test('a batch that runs a second time (one of its writes threw) counts its ledger rows once', async (t) => {
    const store = await SqliteGatewayStore.open(join(await tempDir(t), 'redo.sqlite'), {
      ledgerMaxEntries: 50,
    });
    t.after(() => store.close());
    const { record } = await store.createKey({ name: 'redone', budgetUsd: 100 });
    const held = reservationFor(record, { costUsd: 0.001 });
    assert.equal(await store.reserve(record, held), undefined);
    const settles = (count: number) =>
      Array.from({ length: count }, () => {
        const reservation = reservationFor(record, { tokens: 10 });
        return store.settle(record, reservation, entryFor(record, reservation, { inputTokens: 5 }));
      });
    let full = false;
    for (let turn = 0; turn < 150; turn++) {
      // Asked for in one turn: one or two settles, and a reserve that repeats a held request id, which throws,
      // so the turn's batch is rolled back and run again with a savepoint around each write.
      const outcomes = await Promise.allSettled([...settles(1 + (turn % 2)), store.reserve(record, held)]);
      assert.equal(outcomes.at(-1)?.status, 'rejected');
      const kept = (await store.ledger(record.id, { limit: 1_000 })).length;
      full ||= kept >= 50;
      if (full) assert.ok(kept >= 50 && kept <= 55, `${kept} rows kept after turn ${turn}`);
    }
    assert.ok(full);
  });

  test('rows written by a store that never reaches a look are deleted by the next count of one that does', async (t) => {
    const path = join(await tempDir(t), 'quiet-writer.sqlite');
    const busy = await SqliteGatewayStore.open(path, { ledgerMaxEntries: 50 });
    const quiet = await SqliteGatewayStore.open(path, { ledgerMaxEntries: 1_000 });
    t.after(() => Promise.all([busy.close(), quiet.close()]));
    const { record } = await busy.createKey({ name: 'two caps' });
    const settleOne = async (store: SqliteGatewayStore) => {
      const reservation = reservationFor(record, { tokens: 10 });
      await store.settle(record, reservation, entryFor(record, reservation, { inputTokens: 5 }));
    };
    for (let i = 0; i < 60; i++) await settleOne(busy);
    // 40 rows from a store whose first look would come at its 100th: only the busy store's counts see them.
    for (let i = 0; i < 40; i++) await settleOne(quiet);
    assert.equal((await busy.ledger(record.id, { limit: 1_000 })).length, 90);
    for (let i = 0; i < 60; i++) await settleOne(busy);
    const kept = (await busy.ledger(record.id, { limit: 1_000 })).length;
    assert.ok(kept >= 50 && kept <= 55, `${kept} rows kept`);
  });
});
