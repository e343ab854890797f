/**
 * The SQLite store through a real client: entries outlive the client and the file handle, TTLs are
 * stored and honoured, tenants are apart, and the rows hold no credential.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, describe, test } from 'node:test';
import { type Emulator, startEmulator } from '../../emulator/index.ts';
import { drain, openai, received, tempDir } from '../test-support/harness.ts';
import { SqliteStore } from './sqlite-store.ts';

const CHAT = '/chat/completions';
const KEY = 'sk-sqlite-LEAKCANARY-00112233445566778899';
let emulator: Emulator;

before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

interface Row {
  key: string;
  value: string;
  expires_at: number | null;
}

function rows(path: string): Row[] {
  const db = new DatabaseSync(path, { readOnly: true });
  try {
    return db.prepare('SELECT key, value, expires_at FROM llm_cache').all() as unknown as Row[];
  } finally {
    db.close();
  }
}

describe('cache: SQLite store', () => {
  test('entries survive closing the client and reopening the file', async (t) => {
    const path = join(await tempDir(t), 'nested', 'cache.sqlite');
    const first = openai(emulator, { apiKey: KEY, cache: { store: 'sqlite', path } });
    const original = await first.complete({ prompt: 'persist me' });
    await drain(first.stream({ prompt: 'persist me too' }));
    await first.generateEmbeddings(['persist vector']);
    await first.close(); // the last user: the file is closed

    const count = emulator.requests.length;
    const second = openai(emulator, { apiKey: KEY, cache: { store: 'sqlite', path } });
    t.after(() => second.close());
    const again = await second.complete({ prompt: 'persist me' });
    assert.equal(again.cached, true);
    assert.equal(again.text, original.text);
    const events = await drain(second.stream({ prompt: 'persist me too' }));
    const finish = events.at(-1);
    assert.ok(finish?.type === 'finish' && finish.cached === true, 'the stream replayed from the file');
    await second.generateEmbeddings(['persist vector']);
    assert.equal(emulator.requests.length, count, 'all three served from the file');
  });

  test('the store on its own: set, close, open, get', async (t) => {
    const path = join(await tempDir(t), 'direct.sqlite');
    const writer = await SqliteStore.open(path);
    await writer.set('k', 'value', undefined);
    await writer.set('gone', 'value', undefined);
    await writer.delete('gone');
    await writer.close();
    const reader = await SqliteStore.open(path);
    t.after(() => reader.close());
    assert.equal(await reader.get('k'), 'value');
    assert.equal(await reader.get('gone'), undefined);
  });

  test('TTLs are stored as expiry times and an expired row is a miss', async (t) => {
    const path = join(await tempDir(t), 'ttl.sqlite');
    const now = Date.now();
    t.mock.timers.enable({ apis: ['Date'], now });
    const client = openai(emulator, { apiKey: KEY, cache: { store: 'sqlite', path, ttlMs: 60_000 } });
    t.after(() => client.close());
    await client.complete({ prompt: 'long lived' });
    await client.complete({ prompt: 'short lived', cache: { ttlMs: 1_000 } });
    const expiries = rows(path)
      .map((row) => row.expires_at)
      .sort((a, b) => (a ?? 0) - (b ?? 0));
    assert.deepEqual(expiries, [now + 1_000, now + 60_000]);
    assert.equal((await client.complete({ prompt: 'short lived' })).cached, true, 'fresh');
    t.mock.timers.tick(1_000);
    const count = received(emulator, CHAT);
    assert.notEqual((await client.complete({ prompt: 'short lived' })).cached, true, 'expired');
    assert.equal((await client.complete({ prompt: 'long lived' })).cached, true);
    assert.equal(received(emulator, CHAT), count + 1);
  });

  test('tenants are apart in one file, and no row holds a credential', async (t) => {
    const path = join(await tempDir(t), 'tenants.sqlite');
    const otherKey = 'sk-sqlite-other-LEAKCANARY-99887766554433';
    const a = openai(emulator, { apiKey: KEY, cache: { store: 'sqlite', path } });
    const b = openai(emulator, { apiKey: otherKey, cache: { store: 'sqlite', path } });
    t.after(() => Promise.all([a.close(), b.close()]));
    await a.complete({ prompt: 'whose answer' });
    assert.notEqual((await b.complete({ prompt: 'whose answer' })).cached, true);
    await a.generateEmbeddings(['whose vector']);
    await drain(b.stream({ prompt: 'whose stream' }));

    const stored = rows(path);
    assert.equal(stored.length, 4);
    assert.equal(new Set(stored.map((row) => row.key.split(':')[0])).size, 2, 'two namespaces');
    for (const row of stored) {
      assert.match(row.key, /^tenant-[0-9a-f]{16}:(complete|stream|embed):[0-9a-f]{64}$/);
      for (const secret of [KEY, otherKey, 'LEAKCANARY']) {
        assert.ok(!row.key.includes(secret) && !row.value.includes(secret), `row ${row.key}`);
      }
    }
  });
});
