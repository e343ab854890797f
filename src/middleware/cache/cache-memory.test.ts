/**
 * The response cache through a real client and the emulator, on the memory store: what hits, what misses,
 * the per-request controls, TTLs, streams, coalescing, and stores that fail.
 */
import assert from 'node:assert/strict';
import { rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Emulator, startEmulator } from '../../emulator/index.ts';
import { isLLMError } from '../../spec/errors.ts';
import type { CompletionRequest } from '../../spec/types.ts';
import {
  drain,
  failingStore,
  openai,
  RecordingStore,
  received,
  tempDir,
  textOf,
} from '../test-support/harness.ts';
import { MemoryStore } from './memory-store.ts';
import { REOPEN_AFTER_MS } from './open-store.ts';
import type { CacheStore } from './store.ts';

const CHAT = '/chat/completions';
let emulator: Emulator;

before(async () => {
  emulator = await startEmulator({ retryAfterMs: 5 });
});
after(() => emulator.close());

/** A client with a fresh recording memory store, closed when the test ends. */
function cachedClient(t: { after(fn: () => unknown): void }, settings: { ttlMs?: number } = {}) {
  const store = new RecordingStore(new MemoryStore());
  const client = openai(emulator, { cache: { store, ...settings } });
  t.after(() => client.close());
  return { client, store };
}

describe('cache: completions', () => {
  test('a second identical request is served from the cache and never reaches the provider', async (t) => {
    const { client } = cachedClient(t);
    const before = received(emulator, CHAT);
    const first = await client.complete({ prompt: 'cache me', temperature: 0.2 });
    assert.notEqual(first.cached, true);
    assert.equal(received(emulator, CHAT), before + 1);

    const second = await client.complete({ prompt: 'cache me', temperature: 0.2 });
    assert.equal(second.cached, true);
    assert.equal(second.text, first.text);
    assert.equal(second.id, first.id);
    assert.deepEqual(second.usage, first.usage);
    assert.equal(received(emulator, CHAT), before + 1, 'the hit made no request');
  });

  test('every parameter that changes the answer is part of the key', async (t) => {
    const { client } = cachedClient(t);
    const base: CompletionRequest = { prompt: 'vary me', temperature: 0.2, maxTokens: 40, stop: ['zz'] };
    await client.complete(base);
    const variants: CompletionRequest[] = [
      { ...base, temperature: 0.3 },
      { ...base, maxTokens: 41 },
      { ...base, stop: ['yy'] },
      { ...base, model: 'gpt-4o' },
      { ...base, topP: 0.5 },
      { ...base, seed: 7 },
      { ...base, prompt: 'vary me!' },
      { ...base, system: 'Be brief.' },
      { ...base, providerOptions: { openai: { user: 'u-1' } } },
      { ...base, tools: [{ name: 'f', parameters: { type: 'object', properties: {} } }] },
      {
        ...base,
        tools: [{ name: 'f', parameters: { type: 'object', properties: {} } }],
        toolChoice: 'required',
      },
      { ...base, responseFormat: { type: 'json' } },
      { ...base, reasoning: { effort: 'low' } },
      { ...base, parallelToolCalls: false },
    ];
    for (const variant of variants) {
      const count = received(emulator, CHAT);
      const result = await client.complete(variant);
      assert.notEqual(result.cached, true, `miss for ${JSON.stringify(variant)}`);
      assert.equal(received(emulator, CHAT), count + 1);
    }
    const count = received(emulator, CHAT);
    assert.equal((await client.complete(base)).cached, true, 'the original is still a hit');
    assert.equal(received(emulator, CHAT), count);
  });

  test('`cache: { read: false }` goes upstream and refreshes the entry', async (t) => {
    const { client } = cachedClient(t);
    await client.complete({ prompt: 'no read' });
    const count = received(emulator, CHAT);
    const fresh = await client.complete({ prompt: 'no read', cache: { read: false } });
    assert.notEqual(fresh.cached, true);
    assert.equal(received(emulator, CHAT), count + 1);
    assert.equal((await client.complete({ prompt: 'no read' })).cached, true);
  });

  test('`cache: { write: false }` is answered but not stored', async (t) => {
    const { client, store } = cachedClient(t);
    const count = received(emulator, CHAT);
    await client.complete({ prompt: 'no write', cache: { write: false } });
    assert.equal(store.writes.length, 0);
    const again = await client.complete({ prompt: 'no write' });
    assert.notEqual(again.cached, true);
    assert.equal(received(emulator, CHAT), count + 2);
  });

  test('`cache: { ttlMs }` overrides the cache TTL, and an expired entry is a miss', async (t) => {
    // The clock the stores read is the test's: expiry without sleeping, and no race with a slow machine.
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const { client, store } = cachedClient(t, { ttlMs: 60_000 });
    await client.complete({ prompt: 'default ttl' });
    assert.equal(store.writes.at(-1)?.ttlMs, 60_000);
    await client.complete({ prompt: 'short ttl', cache: { ttlMs: 1_000 } });
    assert.equal(store.writes.at(-1)?.ttlMs, 1_000);
    assert.equal((await client.complete({ prompt: 'short ttl' })).cached, true, 'fresh');
    t.mock.timers.tick(1_001);
    const count = received(emulator, CHAT);
    assert.notEqual((await client.complete({ prompt: 'short ttl' })).cached, true, 'expired');
    assert.equal((await client.complete({ prompt: 'default ttl' })).cached, true, 'still fresh');
    assert.equal(received(emulator, CHAT), count + 1);
  });

  test('the cache-wide `ttlMs` expires entries', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const { client } = cachedClient(t, { ttlMs: 1_000 });
    await client.complete({ prompt: 'cache ttl' });
    t.mock.timers.tick(999);
    assert.equal((await client.complete({ prompt: 'cache ttl' })).cached, true);
    t.mock.timers.tick(2);
    assert.notEqual((await client.complete({ prompt: 'cache ttl' })).cached, true);
  });
});

describe('cache: streams', () => {
  test('a stream is replayed as a stream with the same events; its finish says cached', async (t) => {
    const { client } = cachedClient(t);
    const count = received(emulator, CHAT);
    const first = await drain(client.stream({ prompt: 'stream me', maxTokens: 30 }));
    const second = await drain(client.stream({ prompt: 'stream me', maxTokens: 30 }));
    assert.equal(received(emulator, CHAT), count + 1, 'the replay made no request');
    assert.ok(first.filter((event) => event.type === 'text-delta').length > 1, 'several deltas');
    assert.equal(second.length, first.length);
    assert.deepEqual(second.slice(0, -1), first.slice(0, -1), 'same deltas, same order');
    const [finish1, finish2] = [first.at(-1), second.at(-1)];
    assert.equal(finish1?.type, 'finish');
    assert.equal(finish2?.type === 'finish' && finish2.cached, true);
    assert.deepEqual({ ...finish2, cached: undefined }, { ...finish1, cached: undefined });
    assert.equal(textOf(second), textOf(first));
  });

  test('a stream the caller leaves early is not stored', async (t) => {
    const { client, store } = cachedClient(t);
    for await (const event of client.stream({ prompt: 'leave early', maxTokens: 30 })) {
      assert.equal(event.type, 'text-delta');
      break;
    }
    assert.equal(store.writes.length, 0);
    const count = received(emulator, CHAT);
    const events = await drain(client.stream({ prompt: 'leave early', maxTokens: 30 }));
    assert.equal(received(emulator, CHAT), count + 1);
    const finish = events.at(-1);
    assert.ok(finish?.type === 'finish' && finish.cached !== true, 'a full stream from the provider');
  });

  test('a completion and a stream of the same request are separate entries', async (t) => {
    const { client } = cachedClient(t);
    await client.complete({ prompt: 'both ways' });
    const events = await drain(client.stream({ prompt: 'both ways' }));
    const finish = events.at(-1);
    assert.ok(finish?.type === 'finish' && finish.cached !== true);
  });
});

describe('cache: concurrent identical requests', () => {
  const slow = { 'x-emulator-latency-ms': '150' };

  test('coalesce into one upstream call', async (t) => {
    const { client } = cachedClient(t);
    const count = received(emulator, CHAT);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => client.complete({ prompt: 'together', headers: slow })),
    );
    assert.equal(received(emulator, CHAT), count + 1);
    assert.equal(results.filter((result) => result.cached !== true).length, 1, 'one real call');
    assert.equal(new Set(results.map((result) => result.text)).size, 1);
  });

  test('a caller that joined another is not cancelled by the other caller’s abort', async (t) => {
    const { client } = cachedClient(t);
    const controller = new AbortController();
    const count = received(emulator, CHAT);
    const leader = client.complete({ prompt: 'abort leader', headers: slow, signal: controller.signal });
    const follower = client.complete({ prompt: 'abort leader', headers: slow });
    setTimeout(() => controller.abort(), 30);
    const [led, followed] = await Promise.allSettled([leader, follower]);
    assert.equal(led.status, 'rejected');
    assert.ok(led.status === 'rejected' && isLLMError(led.reason) && led.reason.code === 'aborted');
    assert.equal(followed.status, 'fulfilled', 'the follower made its own call');
    assert.equal(received(emulator, CHAT), count + 2);
  });

  test('a caller waiting on another call can still abort its own wait', async (t) => {
    const { client } = cachedClient(t);
    const controller = new AbortController();
    const leader = client.complete({ prompt: 'abort follower', headers: slow });
    const follower = client.complete({ prompt: 'abort follower', headers: slow, signal: controller.signal });
    setTimeout(() => controller.abort(), 30);
    const [led, followed] = await Promise.allSettled([leader, follower]);
    assert.equal(led.status, 'fulfilled');
    assert.ok(followed.status === 'rejected' && isLLMError(followed.reason));
    assert.equal(followed.reason.code, 'aborted');
  });
});

describe('cache: a failing store never fails the call', () => {
  for (const how of ['throw', 'reject'] as const) {
    test(`get and set that ${how}`, async (t) => {
      const store = failingStore(how);
      const client = openai(emulator, { cache: { store } });
      t.after(() => client.close());
      const count = received(emulator, CHAT);
      const first = await client.complete({ prompt: `failing ${how}` });
      const second = await client.complete({ prompt: `failing ${how}` });
      assert.ok(first.text.length > 0 && second.cached !== true);
      const events = await drain(client.stream({ prompt: `failing ${how}` }));
      assert.equal(events.at(-1)?.type, 'finish');
      const vectors = await client.generateEmbeddings(['failing one', 'failing two']);
      assert.equal(vectors.length, 2);
      assert.equal(received(emulator, CHAT), count + 3);
      assert.ok(store.calls >= 6, 'the store was asked, and failed');
    });
  }

  test('entries that do not parse are misses, not failures', async (t) => {
    const garbage: CacheStore = {
      get: async (key) => (key.includes(':embed:') ? '"not a vector"' : '{"broken'),
      set: async () => {},
      delete: async () => {},
      close: async () => {},
    };
    const client = openai(emulator, { cache: { store: garbage } });
    t.after(() => client.close());
    const result = await client.complete({ prompt: 'garbage' });
    assert.notEqual(result.cached, true);
    assert.equal((await drain(client.stream({ prompt: 'garbage' }))).at(-1)?.type, 'finish');
    assert.equal((await client.generateEmbeddings(['garbage']))[0]?.length, 1536);
  });

  test('a store that failed to open is tried again a few seconds later', async (t) => {
    const dir = await tempDir(t);
    const blocker = join(dir, 'blocker');
    await writeFile(blocker, 'a file where the cache folder should be');
    t.mock.timers.enable({ apis: ['Date'], now: Date.now() });
    const client = openai(emulator, { cache: { store: 'sqlite', path: join(blocker, 'cache.sqlite') } });
    t.after(() => client.close());
    await client.complete({ prompt: 'reopen' });
    await rm(blocker);
    assert.notEqual((await client.complete({ prompt: 'reopen' })).cached, true, 'not retried at once');
    t.mock.timers.tick(REOPEN_AFTER_MS);
    await client.complete({ prompt: 'reopen' }); // opens the store, and writes the answer
    assert.equal((await client.complete({ prompt: 'reopen' })).cached, true, 'the cache works again');
  });

  test('a store that cannot be opened', async (t) => {
    // A folder cannot be made under a file: opening the SQLite store fails.
    const client = openai(emulator, { cache: { store: 'sqlite', path: '/dev/null/llmf/cache.sqlite' } });
    t.after(() => client.close());
    const count = received(emulator, CHAT);
    await client.complete({ prompt: 'cannot open' });
    const again = await client.complete({ prompt: 'cannot open' });
    assert.notEqual(again.cached, true);
    assert.equal(received(emulator, CHAT), count + 2);
  });
});
