/**
 * `node bench/gateway-state.ts [--quick]`: what the gateway's state costs a request, per store — `findKey`,
 * and `reserve` + `settle` (a key with rpm, tpm and a daily budget, so every counter is touched, and a ledger
 * row written) — one call after another and with 16 and 64 in flight. SQLite in a file on disk (WAL,
 * synchronous=NORMAL), also with the key's ledger already at its 100,000-row cap (a busy key's, where each
 * call also deletes old rows); Redis at REDIS_URL (default redis://127.0.0.1:6379, keys under a prefix deleted
 * afterwards). Interleaved runs, medians with the spread; prints a table, copied by hand into bench/RESULTS.md.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { RedisGatewayStore } from '../src/gateway/state/redis-store.ts';
import { SqliteGatewayStore } from '../src/gateway/state/sqlite-store.ts';
import type { GatewayStore, KeyRecord } from '../src/gateway/state/types.ts';
import { spread, spreadText } from './stats.ts';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 5;
const CALLS = quick ? 2_000 : 10_000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `llmf-bench-gw-${process.pid}:`;

let requests = 0;

/** One request's state work: reserve, then settle with the actual usage and a ledger row. */
async function request(store: GatewayStore, record: KeyRecord): Promise<void> {
  const at = Date.now();
  const reservation = {
    keyId: record.id,
    requestId: `bench-${++requests}`,
    at,
    tokens: 1_200,
    costUsd: 0.0004,
  };
  const refusal = await store.reserve(record, reservation);
  if (refusal) throw new Error(`refused: ${refusal.message}`);
  await store.settle(record, reservation, {
    keyId: record.id,
    at,
    model: 'gpt-4o-mini',
    deployment: 'openai-east',
    inputTokens: 900,
    outputTokens: 150,
    costUsd: 0.000225,
    requestId: reservation.requestId,
  });
}

/** Writes `rows` ledger rows for the key straight into the file, in one transaction. */
function fillLedger(path: string, keyId: string, rows: number): void {
  const db = new DatabaseSync(path);
  try {
    const insert = db.prepare(
      `INSERT INTO gateway_ledger (key_id, at, model, deployment, input_tokens, output_tokens, cost_nanos,
        request_id) VALUES (?, ?, 'gpt-4o-mini', 'openai-east', 900, 150, 225000, ?)`,
    );
    const at = Date.now();
    db.exec('BEGIN');
    for (let row = 0; row < rows; row++) insert.run(keyId, at, `filled-${row}`);
    db.exec('COMMIT');
  } finally {
    db.close();
  }
}

/** µs per operation, `CALLS` of them with `inFlight` at a time. */
async function microseconds(inFlight: number, operation: () => Promise<unknown>): Promise<number> {
  let left = CALLS;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (left-- > 0) await operation();
    }),
  );
  return Number(process.hrtime.bigint() - started) / 1_000 / CALLS;
}

async function main(): Promise<void> {
  const folder = mkdtempSync(join(tmpdir(), 'llmf-bench-state-'));
  const stores: Array<[string, GatewayStore]> = [
    ['SQLite', await SqliteGatewayStore.open(join(folder, 'gateway.sqlite'))],
  ];
  try {
    stores.push(['Redis', await RedisGatewayStore.open(REDIS_URL, { prefix: PREFIX })]);
  } catch (error) {
    console.error(`Redis not measured: ${(error as Error).message}`);
  }
  const spec = {
    name: 'bench',
    rpm: 1_000_000_000,
    tpm: 1_000_000_000,
    budgetUsd: 1_000_000,
    budgetPeriod: 'day' as const,
  };
  const keys = new Map<string, { record: KeyRecord; key: string }>();
  for (const [name, store] of stores) keys.set(name, await store.createKey(spec));
  // A SQLite key whose ledger is at its cap (100,000 rows) before the first call, as a busy key's is: every
  // call then also deletes as many old rows as it writes.
  const fullPath = join(folder, 'full-ledger.sqlite');
  const full = await SqliteGatewayStore.open(fullPath);
  const fullKey = await full.createKey(spec);
  fillLedger(fullPath, fullKey.record.id, 100_000);
  stores.splice(1, 0, ['SQLite, ledger full', full]);
  keys.set('SQLite, ledger full', fullKey);

  const workloads: Array<[string, number, (store: GatewayStore, name: string) => () => Promise<unknown>]> = [
    ['findKey', 1, (store, name) => () => store.findKey(keys.get(name)!.key)],
    ['reserve + settle', 1, (store, name) => () => request(store, keys.get(name)!.record)],
    ['reserve + settle, 16 in flight', 16, (store, name) => () => request(store, keys.get(name)!.record)],
    ['reserve + settle, 64 in flight', 64, (store, name) => () => request(store, keys.get(name)!.record)],
  ];
  const results = new Map<string, number[]>();
  // A first pass warms the JIT, the file and the connection; then interleaved runs.
  for (let run = -1; run < RUNS; run++) {
    for (const [workload, inFlight, operation] of workloads) {
      for (const [name, store] of stores) {
        const value = await microseconds(inFlight, operation(store, name));
        if (run >= 0)
          results.set(`${workload}|${name}`, [...(results.get(`${workload}|${name}`) ?? []), value]);
      }
    }
  }

  console.log(
    `\nGateway state, µs per request (median of ${RUNS} runs of ${CALLS.toLocaleString('en-US')}; min–max)\n`,
  );
  console.log(`| operation | ${stores.map(([name]) => name).join(' | ')} |`);
  console.log(`|---|${stores.map(() => '---:').join('|')}|`);
  for (const [workload] of workloads) {
    const cells = stores.map(([name]) => spreadText(spread(results.get(`${workload}|${name}`) ?? [])));
    console.log(`| ${workload} | ${cells.join(' | ')} |`);
  }

  for (const [, store] of stores) await store.close();
  rmSync(folder, { recursive: true, force: true });
  if (stores.length > 1) {
    const { createClient } = await import('@redis/client');
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    const leftovers = await client.keys(`${PREFIX}*`);
    if (leftovers.length > 0) await client.del(leftovers);
    await client.close();
  }
}

await main();
