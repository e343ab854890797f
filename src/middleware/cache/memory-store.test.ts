/** The memory store on its own: LRU by entries and by bytes, TTL, and its byte accounting. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MemoryStore } from './memory-store.ts';

describe('MemoryStore', () => {
  test('evicts the least recently used entry beyond `maxEntries`', async () => {
    const store = new MemoryStore({ maxEntries: 3 });
    await store.set('a', '1', undefined);
    await store.set('b', '2', undefined);
    await store.set('c', '3', undefined);
    assert.equal(await store.get('a'), '1'); // a is now the most recent; b the least
    await store.set('d', '4', undefined);
    assert.equal(store.size, 3);
    assert.equal(await store.get('b'), undefined);
    assert.deepEqual([await store.get('a'), await store.get('c'), await store.get('d')], ['1', '3', '4']);
  });

  test('evicts the least recently used entries beyond `maxBytes` (UTF-16 bytes of key and value)', async () => {
    const store = new MemoryStore({ maxBytes: 100 });
    await store.set('k1', 'x'.repeat(18), undefined); // (2 + 18) × 2 = 40 bytes
    await store.set('k2', 'x'.repeat(18), undefined);
    assert.equal(store.bytes, 80);
    await store.get('k1');
    await store.set('k3', 'x'.repeat(18), undefined); // 120 > 100: k2 goes
    assert.equal(store.bytes, 80);
    assert.equal(await store.get('k2'), undefined);
    assert.ok((await store.get('k1')) && (await store.get('k3')));
  });

  test('a value larger than `maxBytes` is not kept, and does not leave the old value behind', async () => {
    const store = new MemoryStore({ maxBytes: 100 });
    await store.set('k', 'small', undefined);
    await store.set('k', 'x'.repeat(200), undefined);
    assert.equal(await store.get('k'), undefined, 'never the stale answer');
    assert.equal(store.size, 0);
    assert.equal(store.bytes, 0);
  });

  test('replacing a value keeps the byte count exact', async () => {
    const store = new MemoryStore();
    await store.set('k', 'abc', undefined);
    await store.set('k', 'abcdef', undefined);
    assert.equal(store.bytes, (1 + 6) * 2);
    await store.delete('k');
    assert.equal(store.bytes, 0);
  });

  test('an entry past its TTL is gone', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: 1_000_000 });
    const store = new MemoryStore();
    await store.set('short', 'v', 20);
    await store.set('long', 'v', 60_000);
    t.mock.timers.tick(19);
    assert.equal(await store.get('short'), 'v');
    t.mock.timers.tick(1);
    assert.equal(await store.get('short'), undefined, 'due at exactly set time + TTL');
    assert.equal(await store.get('long'), 'v');
    assert.equal(store.size, 1, 'the expired entry was dropped on read');
  });

  test('a TTL of 0 or less keeps nothing, and removes the old value', async () => {
    const store = new MemoryStore();
    await store.set('k', 'old', undefined);
    await store.set('k', 'new', 0);
    assert.equal(await store.get('k'), undefined, 'not kept forever (0 is "no TTL" to lru-cache)');
    assert.equal(store.size, 0);
  });
});
