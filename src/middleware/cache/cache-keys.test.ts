/**
 * What the cache keys hold and separate: embeddings cached per text, tenants kept apart by their
 * credential unless they share a namespace, and never a credential in a key or a stored value.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createClient } from '../../client/factory.ts';
import { type Emulator, startEmulator } from '../../emulator/index.ts';
import { openai, RecordingStore, RUN_ID, received } from '../test-support/harness.ts';
import { embeddingKey } from './keys.ts';
import { MemoryStore } from './memory-store.ts';

const CHAT = '/chat/completions';
const EMBED = '/embeddings';
const KEY_A = 'sk-tenant-a-LEAKCANARY-0123456789abcdef';
const KEY_B = 'sk-tenant-b-LEAKCANARY-fedcba9876543210';
const KEY_SHAPE = /^(tenant-[0-9a-f]{16}|[\w.-]+):(complete|stream|embed):[0-9a-f]{64}$/;

let emulator: Emulator;
const store = new RecordingStore(new MemoryStore());

before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

/** The `input` of the last embeddings request the emulator received. */
function lastEmbeddingInput(): unknown {
  const last = emulator.requests.filter((request) => request.path.includes(EMBED)).at(-1);
  return (last?.body as { input?: unknown } | undefined)?.input;
}

describe('cache: embeddings are cached per text', () => {
  test('a batch with some known texts sends only the others, in order', async (t) => {
    const client = openai(emulator, { apiKey: KEY_A, cache: { store } });
    t.after(() => client.close());
    const first = await client.generateEmbeddings(['alpha', 'beta']);
    assert.deepEqual(lastEmbeddingInput(), ['alpha', 'beta']);

    const count = received(emulator, EMBED);
    const second = await client.generateEmbeddings(['alpha', 'gamma', 'beta', 'delta']);
    assert.equal(received(emulator, EMBED), count + 1);
    assert.deepEqual(lastEmbeddingInput(), ['gamma', 'delta'], 'only the unknown texts were sent');
    assert.deepEqual(second[0], first[0], 'alpha from the cache');
    assert.deepEqual(second[2], first[1], 'beta from the cache');
    assert.equal(second[1]?.length, 1536);
    assert.notDeepEqual(second[1], second[3]);

    const third = await client.generateEmbeddings(['delta', 'alpha']);
    assert.equal(received(emulator, EMBED), count + 1, 'all known: no request at all');
    assert.deepEqual(third, [second[3], first[0]]);
  });

  test('the model and the dimensions are part of the key; `read: false` asks again', async (t) => {
    const client = openai(emulator, { apiKey: KEY_A, cache: { store } });
    t.after(() => client.close());
    await client.generateEmbeddings(['epsilon']);
    const count = received(emulator, EMBED);
    const short = await client.generateEmbeddings(['epsilon'], { dimensions: 256 });
    assert.equal(short[0]?.length, 256);
    await client.generateEmbeddings(['epsilon'], { model: 'text-embedding-3-large' });
    await client.generateEmbeddings(['epsilon'], { cache: { read: false } });
    assert.equal(received(emulator, EMBED), count + 3);
    assert.deepEqual(lastEmbeddingInput(), ['epsilon']);
  });
});

describe('cache: the input type is part of an embedding’s key', () => {
  test('a query and a document of the same text are two entries, each reused', async (t) => {
    const client = createClient('gemini', {
      apiKey: 'test-key-not-real',
      baseURL: emulator.url,
      retry: { initialDelayMs: 1, maxDelayMs: 5 },
      cache: { store, namespace: `input-type-${RUN_ID}` },
    });
    t.after(() => client.close());
    const count = received(emulator, ':batchEmbedContents');
    const [query] = await client.generateEmbeddings(['zeta'], { inputType: 'query' });
    const [document] = await client.generateEmbeddings(['zeta'], { inputType: 'document' });
    const [plain] = await client.generateEmbeddings(['zeta']);
    assert.equal(received(emulator, ':batchEmbedContents'), count + 3, 'each input type asked once');
    assert.notDeepEqual(query, document, 'a query is embedded unlike a document');
    assert.deepEqual(await client.generateEmbeddings(['zeta'], { inputType: 'query' }), [query]);
    assert.deepEqual(await client.generateEmbeddings(['zeta'], { inputType: 'document' }), [document]);
    assert.deepEqual(await client.generateEmbeddings(['zeta']), [plain]);
    assert.equal(received(emulator, ':batchEmbedContents'), count + 3, 'then all from the cache');
  });

  test('keys made without an input type are unchanged, and none collides with one made with it', () => {
    const keys = [
      embeddingKey('ns', 'gemini', 'm', {}, 'text'),
      embeddingKey('ns', 'gemini', 'm', { inputType: 'query' }, 'text'),
      embeddingKey('ns', 'gemini', 'm', { inputType: 'document' }, 'text'),
      embeddingKey('ns', 'gemini', 'm', { dimensions: 256 }, 'text'),
      embeddingKey('ns', 'gemini', 'm', { dimensions: 256, inputType: 'query' }, 'text'),
      embeddingKey('ns', 'gemini', 'm', {}, 'query\0text'),
    ];
    assert.equal(new Set(keys).size, keys.length);
    const digest = createHash('sha256')
      .update(['v1', 'gemini', 'm', '256', ''].join('\0'))
      .update('text')
      .digest('hex');
    assert.equal(keys[3], `ns:embed:${digest}`, 'the pre-existing key layout');
  });
});

describe('cache: tenants', () => {
  test('two credentials never see each other’s entries', async (t) => {
    const a = openai(emulator, { apiKey: KEY_A, cache: { store } });
    const b = openai(emulator, { apiKey: KEY_B, cache: { store } });
    t.after(() => Promise.all([a.close(), b.close()]));
    await a.complete({ prompt: 'tenant question' });
    const count = received(emulator, CHAT);
    const fromB = await b.complete({ prompt: 'tenant question' });
    assert.notEqual(fromB.cached, true, 'b does not get a’s answer');
    assert.equal(received(emulator, CHAT), count + 1);
    await b.generateEmbeddings(['alpha']);
    assert.deepEqual(lastEmbeddingInput(), ['alpha'], 'nor a’s embeddings');
    assert.equal((await a.complete({ prompt: 'tenant question' })).cached, true, 'a keeps its own');
    assert.equal((await b.complete({ prompt: 'tenant question' })).cached, true, 'b keeps its own');

    const namespaces = new Set(store.keys().map((key) => key.split(':')[0]));
    assert.ok(namespaces.size >= 2, 'one namespace per credential');
  });

  test('two credentials that set the same `namespace` share entries', async (t) => {
    const namespace = `team-${RUN_ID}`;
    const a = openai(emulator, { apiKey: KEY_A, cache: { store, namespace } });
    const b = openai(emulator, { apiKey: KEY_B, cache: { store, namespace } });
    t.after(() => Promise.all([a.close(), b.close()]));
    await a.complete({ prompt: 'shared question' });
    const count = received(emulator, CHAT);
    assert.equal((await b.complete({ prompt: 'shared question' })).cached, true);
    assert.equal(received(emulator, CHAT), count);
    assert.ok(store.keys().some((key) => key.startsWith(`${namespace}:complete:`)));
  });
});

describe('cache: keys', () => {
  test('no key or stored value contains a credential; keys are hashes', () => {
    assert.ok(store.writes.length > 10, 'the tests above wrote entries');
    for (const { key, value } of store.writes) {
      assert.match(key, KEY_SHAPE);
      for (const secret of [KEY_A, KEY_B, 'LEAKCANARY']) {
        assert.ok(!key.includes(secret), `key ${key}`);
        assert.ok(!value.includes(secret), `value of ${key}`);
      }
    }
  });
});

describe('cache: the memory store’s bounds through a client', () => {
  test('`maxEntries` evicts the least recently used entry', async (t) => {
    const client = openai(emulator, { cache: { store: 'memory', maxEntries: 2 } });
    t.after(() => client.close());
    await client.complete({ prompt: 'lru one' });
    await client.complete({ prompt: 'lru two' });
    assert.equal((await client.complete({ prompt: 'lru one' })).cached, true, 'one is now the most recent');
    await client.complete({ prompt: 'lru three' }); // evicts two
    assert.equal((await client.complete({ prompt: 'lru one' })).cached, true);
    assert.equal((await client.complete({ prompt: 'lru three' })).cached, true);
    assert.notEqual((await client.complete({ prompt: 'lru two' })).cached, true, 'two was evicted');
  });

  test('`maxBytes` evicts the oldest entries to fit', async (t) => {
    // Measure one entry (the raw body is kept), then allow room for two and a half of them.
    const probe = new RecordingStore(new MemoryStore());
    const measuring = openai(emulator, { cache: { store: probe } });
    await measuring.complete({ prompt: 'bytes 0', maxTokens: 20 });
    await measuring.close();
    const entry = probe.writes[0]!;
    const maxBytes = Math.floor((entry.key.length + entry.value.length) * 2 * 2.5);
    const client = openai(emulator, { cache: { store: 'memory', maxBytes } });
    t.after(() => client.close());
    for (const prompt of ['bytes 1', 'bytes 2', 'bytes 3', 'bytes 4'])
      await client.complete({ prompt, maxTokens: 20 });
    assert.equal((await client.complete({ prompt: 'bytes 4', maxTokens: 20 })).cached, true, 'newest stays');
    assert.equal((await client.complete({ prompt: 'bytes 3', maxTokens: 20 })).cached, true);
    assert.notEqual(
      (await client.complete({ prompt: 'bytes 1', maxTokens: 20 })).cached,
      true,
      'oldest went',
    );
  });
});
