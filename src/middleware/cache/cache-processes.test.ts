/**
 * The persistent stores shared between processes: a child (`process.execPath` running
 * test-support/cache-child.ts) writes through a real client and the parent reads, and the other way round;
 * many processes open one new SQLite file at once; and a process killed mid-write leaves a cache that
 * reopens with every committed entry intact.
 */
import assert from 'node:assert/strict';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Emulator, startEmulator } from '../../emulator/index.ts';
import {
  CHILD_SCRIPT,
  childResult,
  killMidWrite,
  loopValue,
  openai,
  REDIS_URL,
  RUN_ID,
  received,
  redisInspector,
  requireRedis,
  runChild,
  sqliteIntegrity,
  tempDir,
} from '../test-support/harness.ts';
import { RedisStore } from './redis-store.ts';
import { SqliteStore } from './sqlite-store.ts';

const CHAT = '/chat/completions';
const API_KEY = 'sk-processes-0000000000000000';
const PREFIX = `llmf-test-processes-${RUN_ID}:`;

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await emulator.close();
  const redis = await redisInspector().catch(() => undefined);
  if (!redis) return;
  await redis.clean(PREFIX);
  await redis.close();
});

type Where = { kind: 'sqlite'; path: string } | { kind: 'redis'; url: string; prefix: string };

/** The child asks `prompt` through a client with the cache at `where`; returns what it saw. */
async function childAsks(where: Where, prompt: string) {
  const run = await runChild({
    mode: 'complete',
    baseURL: `${emulator.url}/v1`,
    apiKey: API_KEY,
    prompt,
    where,
  });
  return childResult<{ cached: boolean; text: string }>(run);
}

/** Both directions: the child writes and the parent reads, then the parent writes and the child reads. */
async function shareBothWays(
  where: Where,
  parentCache: () => Promise<{ settings: object; close(): Promise<void> }>,
) {
  const count = received(emulator, CHAT);
  const written = await childAsks(where, `child writes ${RUN_ID}`);
  assert.equal(written.cached, false);
  assert.equal(received(emulator, CHAT), count + 1, 'the child called the provider');

  const { settings, close } = await parentCache();
  const client = openai(emulator, { apiKey: API_KEY, cache: settings });
  try {
    const read = await client.complete({ prompt: `child writes ${RUN_ID}` });
    assert.equal(read.cached, true, 'the parent read what the child wrote');
    assert.equal(read.text, written.text);
    assert.equal(received(emulator, CHAT), count + 1);

    await client.complete({ prompt: `parent writes ${RUN_ID}` });
    assert.equal(received(emulator, CHAT), count + 2);
    const seen = await childAsks(where, `parent writes ${RUN_ID}`);
    assert.equal(seen.cached, true, 'the child read what the parent wrote');
    assert.equal(received(emulator, CHAT), count + 2);
  } finally {
    await client.close();
    await close();
  }
}

describe('cache: processes sharing one SQLite file', () => {
  test('a child writes and the parent reads, and the other way round', async (t) => {
    const path = join(await tempDir(t), 'shared.sqlite');
    await shareBothWays({ kind: 'sqlite', path }, async () => ({
      settings: { store: 'sqlite', path },
      close: async () => {},
    }));
  });

  test('six processes open one new file at once and all write', async (t) => {
    const dir = await tempDir(t);
    const path = join(dir, 'crowd.sqlite');
    const barrier = join(dir, 'barrier');
    await mkdir(barrier);
    const ids = ['p0', 'p1', 'p2', 'p3', 'p4', 'p5'];
    const running = Promise.all(
      ids.map((id) =>
        runChild({ mode: 'write-keys', path, id, count: 50, barrier: { dir: barrier, count: ids.length } }),
      ),
    );
    // Once all six have started and said so, they may open the file: together.
    for (let polls = 0; (await readdir(barrier)).length < ids.length; polls++) {
      if (polls === 6_000) assert.fail(`not all six children got ready: ${await readdir(barrier)}`);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const goAt = Date.now();
    await writeFile(join(barrier, 'go'), '');
    const reports = (await running).map((run) =>
      childResult<{ written: number; openingAt: number; closingAt: number }>(run),
    );
    for (const report of reports) {
      assert.equal(report.written, 50);
      assert.ok(report.openingAt >= goAt, 'no process opened the file before all six were ready');
    }
    // Each process held the file from openingAt to closingAt; all six intervals share a moment.
    const lastOpening = Math.max(...reports.map((report) => report.openingAt));
    const firstClosing = Math.min(...reports.map((report) => report.closingAt));
    assert.ok(lastOpening <= firstClosing, `the six overlapped (${lastOpening} > ${firstClosing})`);
    const store = await SqliteStore.open(path);
    t.after(() => store.close());
    for (const id of ids) {
      assert.equal(await store.get(`${id}-0`), `${id}:0`);
      assert.equal(await store.get(`${id}-49`), `${id}:49`);
    }
  });

  test('a process killed with SIGKILL mid-write leaves a cache that reopens and reads', async (t) => {
    const path = join(await tempDir(t), 'killed.sqlite');
    const valueBytes = 6_000; // more than a page: a write in progress spans several
    const lines = await killMidWrite(CHILD_SCRIPT, { mode: 'write-loop', path, valueBytes });
    const committed = Number(lines.at(-1));
    assert.equal(await sqliteIntegrity(path), 'ok');
    const store = await SqliteStore.open(path);
    t.after(() => store.close());
    for (let i = 0; i <= committed; i++) {
      assert.equal(await store.get(`loop-${i}`), loopValue(i, valueBytes), `entry ${i} of ${committed}`);
    }
    // Whatever the child wrote after its last report is either whole or absent, never torn.
    const next = await store.get(`loop-${committed + 1}`);
    assert.ok(next === undefined || next === loopValue(committed + 1, valueBytes));
    await store.set('after-crash', 'writable', undefined);
    assert.equal(await store.get('after-crash'), 'writable');
  });
});

describe('cache: processes sharing one Redis', () => {
  test('a child writes and the parent reads, and the other way round', async (t) => {
    if (!(await requireRedis(t))) return;
    const prefix = `${PREFIX}shared:`;
    await shareBothWays({ kind: 'redis', url: REDIS_URL, prefix }, async () => {
      const store = await RedisStore.open(REDIS_URL, prefix);
      return { settings: { store }, close: () => store.close() };
    });
    const redis = await redisInspector();
    t.after(() => redis.close());
    assert.equal((await redis.keys(prefix)).length, 2, 'one entry from each process');
  });
});
