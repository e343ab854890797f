/**
 * The Redis store against a real server (REDIS_URL, default redis://127.0.0.1:6379): hits, TTL through PX,
 * tenants, what the keys hold, and a server that is down or goes away never failing or stalling a call.
 * Without a server the tests skip with the reason, or fail when CI is set. Every key written is under a
 * prefix unique to this run and is deleted at the end.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { setTimeout as wait } from 'node:timers/promises';
import { type Emulator, startEmulator } from '../../emulator/index.ts';
import {
  drain,
  openai,
  REDIS_URL,
  RUN_ID,
  received,
  redisInspector,
  redisRelay,
  requireRedis,
} from '../test-support/harness.ts';
import { RedisStore } from './redis-store.ts';

const CHAT = '/chat/completions';
const KEY_A = 'sk-redis-a-LEAKCANARY-0123456789abcdef';
const KEY_B = 'sk-redis-b-LEAKCANARY-fedcba9876543210';
const PREFIX = `llmf-test-${RUN_ID}:`;
const NAMESPACE = `ns-${RUN_ID}`;

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await emulator.close();
  const redis = await redisInspector().catch(() => undefined);
  if (!redis) return;
  await redis.clean(PREFIX);
  await redis.clean(`llmf:${NAMESPACE}:`);
  await redis.close();
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('cache: Redis store', () => {
  test('`store: redis` serves a second identical call from Redis', async (t) => {
    if (!(await requireRedis(t))) return;
    const client = openai(emulator, {
      apiKey: KEY_A,
      cache: { store: 'redis', url: REDIS_URL, namespace: NAMESPACE },
    });
    t.after(() => client.close());
    const count = received(emulator, CHAT);
    const first = await client.complete({ prompt: `redis ${RUN_ID}` });
    const second = await client.complete({ prompt: `redis ${RUN_ID}` });
    assert.equal(second.cached, true);
    assert.equal(second.text, first.text);
    const events = await drain(client.stream({ prompt: `redis stream ${RUN_ID}` }));
    const replay = await drain(client.stream({ prompt: `redis stream ${RUN_ID}` }));
    assert.deepEqual(replay.slice(0, -1), events.slice(0, -1));
    assert.equal(received(emulator, CHAT), count + 2);

    const redis = await redisInspector();
    t.after(() => redis.close());
    const keys = await redis.keys(`llmf:${NAMESPACE}:`);
    assert.equal(keys.length, 2);
    assert.ok(keys.every((key) => /^llmf:ns-[\w-]+:(complete|stream):[0-9a-f]{64}$/.test(key)));
  });

  test('TTLs become PX expiries, and Redis drops the entry when it is due', {
    timeout: 20_000,
  }, async (t) => {
    if (!(await requireRedis(t))) return;
    const store = await RedisStore.open(REDIS_URL, `${PREFIX}ttl:`);
    const client = openai(emulator, { apiKey: KEY_A, cache: { store, ttlMs: 60_000 } });
    t.after(async () => {
      await client.close();
      await store.close();
    });
    const redis = await redisInspector();
    t.after(() => redis.close());
    await client.complete({ prompt: 'px long' });
    const [longKey] = await redis.keys(`${PREFIX}ttl:`);
    const pttl = await redis.pttl(longKey!);
    assert.ok(pttl > 0 && pttl <= 60_000, `PTTL ${pttl}`);

    await client.complete({ prompt: 'px short', cache: { ttlMs: 300 } });
    const [shortKey] = (await redis.keys(`${PREFIX}ttl:`)).filter((key) => key !== longKey);
    const shortTtl = await redis.pttl(shortKey!);
    assert.ok(shortTtl > 0 && shortTtl <= 300, `PTTL ${shortTtl}`);
    // Redis's clock, not ours: wait until the server has dropped the entry.
    while ((await redis.keys(`${PREFIX}ttl:`)).length > 1) await wait(50);
    assert.deepEqual(await redis.keys(`${PREFIX}ttl:`), [longKey], 'Redis expired the short one');
    const count = received(emulator, CHAT);
    assert.notEqual((await client.complete({ prompt: 'px short' })).cached, true);
    assert.equal((await client.complete({ prompt: 'px long' })).cached, true);
    assert.equal(received(emulator, CHAT), count + 1);
  });

  test('tenants are apart; keys and values hold no credential', async (t) => {
    if (!(await requireRedis(t))) return;
    const store = await RedisStore.open(REDIS_URL, `${PREFIX}tenants:`);
    const a = openai(emulator, { apiKey: KEY_A, cache: { store } });
    const b = openai(emulator, { apiKey: KEY_B, cache: { store } });
    t.after(async () => {
      await Promise.all([a.close(), b.close()]);
      await store.close();
    });
    await a.complete({ prompt: 'redis tenant' });
    assert.notEqual((await b.complete({ prompt: 'redis tenant' })).cached, true);
    assert.equal((await a.complete({ prompt: 'redis tenant' })).cached, true);
    await b.generateEmbeddings(['redis vector']);

    const redis = await redisInspector();
    t.after(() => redis.close());
    const keys = await redis.keys(`${PREFIX}tenants:`);
    assert.equal(keys.length, 3);
    assert.equal(new Set(keys.map((key) => key.split(':')[2])).size, 2, 'two tenant namespaces');
    for (const key of keys) {
      const value = (await redis.get(key)) ?? '';
      for (const secret of [KEY_A, KEY_B, 'LEAKCANARY'])
        assert.ok(!key.includes(secret) && !value.includes(secret), key);
    }
  });
});

describe('cache: a Redis that is down or goes away', () => {
  test('an unreachable server: calls go upstream at once instead of waiting on the cache', {
    timeout: 20_000,
  }, async (t) => {
    const url = `redis://127.0.0.1:${await closedPort()}`;
    const client = openai(emulator, { cache: { store: 'redis', url } });
    t.after(() => client.close());
    const count = received(emulator, CHAT);
    const first = await client.complete({ prompt: 'redis down' });
    const second = await client.complete({ prompt: 'redis down' });
    assert.ok(first.text && second.cached !== true);
    assert.equal((await drain(client.stream({ prompt: 'redis down' }))).at(-1)?.type, 'finish');
    assert.equal((await client.generateEmbeddings(['redis down'])).length, 1);
    assert.equal(received(emulator, CHAT), count + 3);
  });

  test('a server lost mid-run: calls keep working, uncached, without stalling', {
    timeout: 20_000,
  }, async (t) => {
    if (!(await requireRedis(t))) return;
    const relay = await redisRelay();
    const store = await RedisStore.open(relay.url, `${PREFIX}relay:`);
    const client = openai(emulator, { cache: { store } });
    t.after(async () => {
      await client.close();
      await store.close();
    });
    await client.complete({ prompt: 'relay' });
    assert.equal((await client.complete({ prompt: 'relay' })).cached, true, 'served through the relay');

    await relay.cut();
    const count = received(emulator, CHAT);
    const again = await client.complete({ prompt: 'relay' });
    assert.notEqual(again.cached, true, 'Redis is gone: upstream');
    await client.complete({ prompt: 'relay, new question' });
    assert.equal((await drain(client.stream({ prompt: 'relay' }))).at(-1)?.type, 'finish');
    assert.equal(received(emulator, CHAT), count + 3);
  });
});
