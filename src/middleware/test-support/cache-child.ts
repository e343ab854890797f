/**
 * A second process for the cache tests: `node cache-child.ts '<job as JSON>'`. It writes or reads through a
 * real client or store and prints one JSON line with what it saw (or, for `write-loop`, one line per
 * committed entry until it is killed).
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as wait } from 'node:timers/promises';
import { createClient } from '../../client/factory.ts';
import { RedisStore } from '../cache/redis-store.ts';
import { SqliteStore } from '../cache/sqlite-store.ts';
import type { CacheStore } from '../cache/store.ts';
import { loopValue } from './harness.ts';

type Where = { kind: 'sqlite'; path: string } | { kind: 'redis'; url: string; prefix: string };

type Job =
  | { mode: 'complete'; baseURL: string; apiKey: string; prompt: string; where: Where }
  | { mode: 'write-loop'; path: string; valueBytes: number }
  | { mode: 'write-keys'; path: string; id: string; count: number; barrier: Barrier };

/** A folder where each of `count` processes says it is ready; `go` appears when all of them are. */
interface Barrier {
  dir: string;
  count: number;
}

async function complete(job: Extract<Job, { mode: 'complete' }>): Promise<void> {
  let store: CacheStore | undefined;
  if (job.where.kind === 'redis') store = await RedisStore.open(job.where.url, job.where.prefix);
  const client = createClient('openai/gpt-4o-mini', {
    apiKey: job.apiKey,
    baseURL: job.baseURL,
    cache: store ? { store } : { store: 'sqlite', path: (job.where as { path: string }).path },
  });
  const result = await client.complete({ prompt: job.prompt });
  await client.close();
  await store?.close();
  console.log(JSON.stringify({ cached: result.cached === true, text: result.text }));
}

/** Polls until `done()` holds; gives up after a minute (the parent is gone or a sibling crashed). */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let polls = 0; !done(); polls++) {
    if (polls === 30_000) throw new Error(`gave up waiting for ${what}`);
    await wait(2);
  }
}

/**
 * Opens the file only once all processes are ready (the parent then writes `go`), writes its keys, and
 * keeps the file open until every process has written its own: so all of them hold it at one moment.
 * Prints when it started opening and when it started closing, for the parent to check that overlap.
 */
async function writeKeys(job: Extract<Job, { mode: 'write-keys' }>): Promise<void> {
  const { dir, count } = job.barrier;
  writeFileSync(join(dir, `ready-${job.id}`), '');
  await until(() => existsSync(join(dir, 'go')), 'go');
  const openingAt = Date.now();
  let store: SqliteStore;
  try {
    store = await SqliteStore.open(job.path);
    for (let i = 0; i < job.count; i++) await store.set(`${job.id}-${i}`, `${job.id}:${i}`, undefined);
  } catch (error) {
    writeFileSync(join(dir, `failed-${job.id}`), ''); // so that the others stop waiting for this one
    throw error;
  }
  writeFileSync(join(dir, `written-${job.id}`), '');
  await until(() => {
    const names = readdirSync(dir);
    if (names.some((name) => name.startsWith('failed-'))) throw new Error('another process failed');
    return names.filter((name) => name.startsWith('written-')).length === count;
  }, 'every process to write');
  const closingAt = Date.now();
  await store.close();
  console.log(JSON.stringify({ written: job.count, openingAt, closingAt }));
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  if (job.mode === 'complete') return complete(job);
  if (job.mode === 'write-keys') return writeKeys(job);
  const store = await SqliteStore.open(job.path);
  // Each line is printed after its entry is committed (stdout to a pipe is synchronous on Linux and macOS).
  for (let i = 0; ; i++) {
    await store.set(`loop-${i}`, loopValue(i, job.valueBytes), undefined);
    process.stdout.write(`${i}\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
