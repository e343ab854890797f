/**
 * A second process for the state tests: `node state-child.ts '<job as JSON>'`. It opens the store the parent
 * names and either races the parent's other children for keys' limits (`contend`: prints one JSON line with
 * what it was granted) or reserves and settles until it is killed (`settle-loop`: prints each request id
 * once its settlement is committed).
 */
import { setTimeout as wait } from 'node:timers/promises';
import { RedisGatewayStore } from '../redis-store.ts';
import { SqliteGatewayStore } from '../sqlite-store.ts';
import type { GatewayStore, KeyRecord, Reservation } from '../types.ts';

export type Where = { kind: 'sqlite'; path: string } | { kind: 'redis'; url: string; prefix: string };

export type Job =
  | {
      mode: 'contend';
      where: Where;
      keyIds: string[];
      /** How long every child spends on each key, in ms: key i from `startAt + i * sliceMs`. */
      sliceMs: number;
      costUsd: number;
      tokens: number;
      name: string;
    }
  | { mode: 'settle-loop'; where: Where; keyId: string }
  | { mode: 'leave-open'; path: string; calls: number }
  | { mode: 'leave-writing'; path: string; calls: number };

export interface ContendResult {
  granted: Record<string, number>;
  attempts: number;
  firstAt: number;
  lastAt: number;
}

async function firstLine(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += chunk.toString();
    if (text.includes('\n')) break;
  }
  return text.split('\n')[0] ?? '';
}

function open(where: Where): Promise<GatewayStore> {
  return where.kind === 'sqlite'
    ? SqliteGatewayStore.open(where.path)
    : RedisGatewayStore.open(where.url, { prefix: where.prefix });
}

async function record(store: GatewayStore, id: string): Promise<KeyRecord> {
  const found = await store.getKey(id);
  if (!found) throw new Error(`no key ${id}`);
  return found;
}

/** One call: reserved, and if granted, settled with what was reserved. */
async function call(store: GatewayStore, key: KeyRecord, reservation: Reservation): Promise<boolean> {
  if (await store.reserve(key, reservation)) return false;
  await store.settle(key, reservation, {
    keyId: key.id,
    at: Date.now(),
    model: 'gpt-4o-mini',
    inputTokens: reservation.tokens,
    outputTokens: 0,
    costUsd: reservation.costUsd,
    requestId: reservation.requestId,
  });
  return true;
}

async function contend(job: Extract<Job, { mode: 'contend' }>): Promise<void> {
  const store = await open(job.where);
  const keys = await Promise.all(job.keyIds.map((id) => record(store, id)));
  const granted: Record<string, number> = {};
  let attempts = 0;
  // Ready: the parent answers with the moment every child starts, once all of them are ready.
  process.stdout.write('ready\n');
  const startAt = Number(await firstLine(process.stdin));
  await wait(Math.max(0, startAt - Date.now()));
  const firstAt = Date.now();
  // Every child hammers the same key in the same slice of time (one clock on one machine), so that they meet
  // at each key's limit; eight calls in flight at a time, as a busy gateway worker has them.
  const worker = async () => {
    for (;;) {
      const now = Date.now();
      const key = keys[Math.floor((now - startAt) / job.sliceMs)];
      if (!key) return;
      const reservation: Reservation = {
        keyId: key.id,
        requestId: `${job.name}-${attempts++}`,
        at: now,
        tokens: job.tokens,
        costUsd: job.costUsd,
      };
      if (await call(store, key, reservation)) granted[key.id] = (granted[key.id] ?? 0) + 1;
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
  const result: ContendResult = { granted, attempts, firstAt, lastAt: Date.now() };
  await store.close();
  console.log(JSON.stringify(result));
  process.stdin.destroy();
}

async function settleLoop(job: Extract<Job, { mode: 'settle-loop' }>): Promise<void> {
  const store = await open(job.where);
  const key = await record(store, job.keyId);
  // Each line is printed after its settlement is committed (stdout to a pipe is synchronous on Linux).
  for (let i = 0; ; i++) {
    const requestId = `loop-${i}`;
    await call(store, key, {
      keyId: key.id,
      requestId,
      at: Date.now(),
      tokens: 10,
      costUsd: 0.001 * (i % 7),
    });
    process.stdout.write(`${requestId}\n`);
  }
}

/**
 * Writes enough to start the store's checkpoint thread, waits for it to have answered, and returns without
 * closing the store: the process must still end by itself.
 */
async function leaveOpen(job: Extract<Job, { mode: 'leave-open' }>): Promise<void> {
  const store = await SqliteGatewayStore.open(job.path);
  const { record } = await store.createKey({ name: 'left-open' });
  for (let i = 0; i < job.calls; i++) {
    await call(store, record, {
      keyId: record.id,
      requestId: `open-${i}`,
      at: Date.now(),
      tokens: 1,
      costUsd: 0,
    });
  }
  await wait(500);
  console.log('returning');
}

/**
 * Starts `calls` settlements without waiting for them, a few per turn, with a write-ahead log limit so small
 * that every checkpoint holds the store's commits back for a restart, and returns: the process must not end
 * before every one is committed (it prints how many were, as it exits).
 */
async function leaveWriting(job: Extract<Job, { mode: 'leave-writing' }>): Promise<void> {
  const store = await SqliteGatewayStore.open(job.path, { walMaxBytes: 1 });
  const { record } = await store.createKey({ name: 'left-writing' });
  let committed = 0;
  process.on('exit', () => process.stdout.write(`committed ${committed}\n`));
  for (let i = 0; i < job.calls; i++) {
    const reservation = { keyId: record.id, requestId: `w-${i}`, at: Date.now(), tokens: 1, costUsd: 0 };
    void call(store, record, reservation).then(() => committed++);
    if (i % 4 === 3) await new Promise((resolve) => setImmediate(resolve));
  }
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as Job;
  if (job.mode === 'contend') return contend(job);
  if (job.mode === 'leave-open') return leaveOpen(job);
  if (job.mode === 'leave-writing') return leaveWriting(job);
  return settleLoop(job);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
