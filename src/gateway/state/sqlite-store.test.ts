/**
 * The SQLite store through the shared suite (a new file per test), plus what only a file has: it reopens with
 * everything in it, and refuses a file a newer version wrote.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { describe, test } from 'node:test';
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
