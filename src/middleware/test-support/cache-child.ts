/**
 * A second process for the cache tests: `node cache-child.ts '<job as JSON>'`. It writes or reads through a
 * real client or store and prints one JSON line with what it saw (or, for `write-loop`, one line per
 * committed entry until it is killed).
 */
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
  | { mode: 'write-keys'; path: string; id: string; count: number; startAt?: number };

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

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  if (job.mode === 'complete') return complete(job);
  // Processes started one after another open the file at the same moment.
  if (job.mode === 'write-keys' && job.startAt) await wait(Math.max(0, job.startAt - Date.now()));
  const store = await SqliteStore.open(job.path);
  if (job.mode === 'write-keys') {
    for (let i = 0; i < job.count; i++) await store.set(`${job.id}-${i}`, `${job.id}:${i}`, undefined);
    await store.close();
    console.log(JSON.stringify({ written: job.count }));
    return;
  }
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
