/**
 * The state shared between processes, as `llmf serve --workers N` and several gateway machines share it: two
 * child processes (test-support/state-child.ts) race for one key's rpm and another's budget, through one
 * SQLite file and through one Redis, and neither limit is passed by a single call (the drift is measured and
 * reported). A process killed with SIGKILL mid-write leaves a file that passes `PRAGMA integrity_check` with
 * every settlement it reported committed.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, type TestContext, test } from 'node:test';
import {
  childResult,
  killMidWrite,
  REDIS_URL,
  RUN_ID,
  redisInspector,
  requireRedis,
  runScript,
  sqliteIntegrity,
  tempDir,
} from '../../middleware/test-support/harness.ts';
import { toNanos } from './limits.ts';
import { RedisGatewayStore } from './redis-store.ts';
import { SqliteGatewayStore } from './sqlite-store.ts';
import type { ContendResult, Job, Where } from './test-support/state-child.ts';
import type { GatewayStore, KeyRecord } from './types.ts';

const CHILD = new URL('./test-support/state-child.ts', import.meta.url).pathname;
const PREFIX = `llmf-test-gw-processes-${RUN_ID}:`;
/** Each of the keys is raced for by both processes: every limit is a place where a non-atomic store slips. */
const KEYS = 40;
const RPM = 100;
const COST_USD = 0.03;
const BUDGET_USD = 3;
/** How long both processes hammer each key, in ms. */
const SLICE_MS = 25;

after(async () => {
  const redis = await redisInspector().catch(() => undefined);
  if (!redis) return;
  await redis.clean(PREFIX);
  await redis.close();
});

/**
 * Starts a child per job; once every one has opened the store and said `ready`, tells them all the same start
 * time. Resolves with what each printed last.
 */
async function startTogether(jobs: Job[]): Promise<ContendResult[]> {
  const children = jobs.map((job) =>
    spawn(process.execPath, [CHILD, JSON.stringify(job)], { stdio: ['pipe', 'pipe', 'inherit'] }),
  );
  const outputs = children.map((child) => {
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const ready = new Promise<void>((resolve) => {
      const check = () => (stdout.startsWith('ready\n') ? resolve() : undefined);
      child.stdout.on('data', check);
    });
    const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
    return { child, ready, exited, stdout: () => stdout };
  });
  await Promise.race([
    Promise.all(outputs.map((output) => output.ready)),
    Promise.any(outputs.map((output) => output.exited)).then(() =>
      assert.fail('a child ended before it was ready'),
    ),
  ]);
  const startAt = Date.now() + 100;
  for (const { child } of outputs) child.stdin.end(`${startAt}\n`);
  return Promise.all(
    outputs.map(async (output) =>
      childResult<ContendResult>({ code: await output.exited, stdout: output.stdout(), stderr: '' }),
    ),
  );
}

/**
 * Races until the two processes met at some limit (on a busy machine one can be starved for a whole race,
 * which proves nothing), at most three times; every race must keep every limit.
 */
async function race(t: TestContext, where: Where, store: GatewayStore): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    const met = await raceOnce(t, where, store);
    if (met > 0) return;
    assert.ok(attempt < 3, 'the processes met at some limits');
    t.diagnostic(`race ${attempt}: the processes never met at a limit; racing again`);
  }
}

/** Two children race for the rpm and the budget of many keys; the parent checks what they were granted. */
async function raceOnce(t: TestContext, where: Where, store: GatewayStore): Promise<number> {
  const rpmKeys: KeyRecord[] = [];
  const budgetKeys: KeyRecord[] = [];
  for (let i = 0; i < KEYS; i++) {
    rpmKeys.push((await store.createKey({ name: `shared-rpm-${i}`, rpm: RPM })).record);
    budgetKeys.push(
      (await store.createKey({ name: `shared-budget-${i}`, budgetUsd: BUDGET_USD, budgetPeriod: 'day' }))
        .record,
    );
  }
  const job = (name: string): Job => ({
    mode: 'contend',
    where,
    keyIds: rpmKeys.flatMap((key, i) => [key.id, budgetKeys[i]!.id]),
    sliceMs: SLICE_MS,
    costUsd: COST_USD,
    tokens: 10,
    name,
  });
  const results = await startTogether([job('one'), job('two')]);
  const [one, two] = results as [ContendResult, ContendResult];
  const granted = (key: KeyRecord) => (one.granted[key.id] ?? 0) + (two.granted[key.id] ?? 0);
  const budgetCalls = Math.floor(toNanos(BUDGET_USD) / toNanos(COST_USD));
  const over = (keys: KeyRecord[], limit: number) =>
    keys.reduce((sum, key) => sum + Math.max(0, granted(key) - limit), 0);
  /** Keys whose limit was reached with calls of both processes: where a non-atomic store would slip. */
  const met = (keys: KeyRecord[], limit: number) =>
    keys.filter(
      (key) => granted(key) >= limit && (one.granted[key.id] ?? 0) > 0 && (two.granted[key.id] ?? 0) > 0,
    ).length;
  const spanMs = Math.max(one.lastAt, two.lastAt) - Math.min(one.firstAt, two.firstAt);
  t.diagnostic(
    `${KEYS} keys at rpm ${RPM}: ${over(rpmKeys, RPM)} calls granted over their limits, ${met(rpmKeys, RPM)} limits ` +
      `reached by both processes together; ${KEYS} budgets of ${budgetCalls} calls: ${over(budgetKeys, budgetCalls)} ` +
      `over, ${met(budgetKeys, budgetCalls)} reached together; ${one.attempts + two.attempts} calls in ${spanMs} ms`,
  );
  // How many calls each slice allows depends on the machine's speed; that no key ever passes its limit does not.
  for (const key of budgetKeys)
    assert.ok(granted(key) <= budgetCalls, `${key.name}: ${granted(key)} granted`);
  // A key's window lets at most `rpm` through in one minute (and the whole run is shorter than one on any
  // machine that finishes the test).
  if (spanMs < 60_000)
    for (const key of rpmKeys) assert.ok(granted(key) <= RPM, `${key.name}: ${granted(key)}`);

  for (const key of budgetKeys) {
    const spend = await store.spend(key, Date.now());
    assert.equal(toNanos(spend.spendUsd), granted(key) * toNanos(COST_USD));
    assert.equal(spend.reservedUsd, 0);
    const ledger = await store.ledger(key.id, { limit: 1_000 });
    assert.equal(ledger.length, granted(key));
    assert.equal(
      ledger.reduce((sum, entry) => sum + toNanos(entry.costUsd ?? 0), 0),
      toNanos(spend.spendUsd),
      'the ledger sums to the spend',
    );
  }
  return met(rpmKeys, RPM) + met(budgetKeys, budgetCalls);
}

describe('gateway state: two processes', () => {
  test('one SQLite file: rpm and budget hold across both', async (t) => {
    const path = join(await tempDir(t), 'shared.sqlite');
    const store = await SqliteGatewayStore.open(path);
    t.after(() => store.close());
    await race(t, { kind: 'sqlite', path }, store);
  });

  test('one Redis: rpm and budget hold across both', async (t) => {
    if (!(await requireRedis(t))) return;
    const prefix = `${PREFIX}race:`;
    const store = await RedisGatewayStore.open(REDIS_URL, { prefix });
    t.after(() => store.close());
    await race(t, { kind: 'redis', url: REDIS_URL, prefix }, store);
  });
});

describe('gateway state: SQLite after kill -9', () => {
  test('a process killed mid-write leaves an intact file with every committed settlement', async (t) => {
    const path = join(await tempDir(t), 'killed.sqlite');
    const setup = await SqliteGatewayStore.open(path);
    const record = (await setup.createKey({ name: 'crash', rpm: 1_000_000, budgetUsd: 1_000 })).record;
    await setup.close();

    const committed = await killMidWrite(CHILD, {
      mode: 'settle-loop',
      where: { kind: 'sqlite', path },
      keyId: record.id,
    });
    assert.equal(await sqliteIntegrity(path), 'ok');

    const store = await SqliteGatewayStore.open(path);
    t.after(() => store.close());
    const ledger = await store.ledger(record.id, { limit: 100_000 });
    const inLedger = new Set(ledger.map((entry) => entry.requestId));
    for (const requestId of committed) assert.ok(inLedger.has(requestId), `${requestId} was committed`);
    assert.ok(ledger.length <= committed.length + 1, 'at most the one in progress besides');
    // Ledger rows and spend totals are written in one transaction: they agree after the crash.
    const spend = await store.spend(record, Date.now());
    assert.equal(spend.requests, ledger.length);
    assert.equal(
      toNanos(spend.spendUsd),
      ledger.reduce((sum, entry) => sum + toNanos(entry.costUsd ?? 0), 0),
    );
    // A reservation the killed process held is not settled: its lease holds at most one call's cost.
    assert.ok(spend.reservedUsd <= 0.006 + 1e-12);
  });
});

describe('gateway state: a process that never closes its SQLite store', () => {
  test('still ends by itself once its checkpoint thread has started', async (t) => {
    const path = join(await tempDir(t), 'left-open.sqlite');
    // 200 calls are 400 commits: the checkpoint thread starts at the 64th. A process kept alive by the thread
    // would never end: it is killed well before the test's own timeout.
    const { code, signal, stdout } = await runScript(
      CHILD,
      { mode: 'leave-open', path, calls: 200 },
      { killAfterMs: 30_000 },
    );
    assert.equal(stdout, 'returning\n');
    assert.deepEqual({ code, signal }, { code: 0, signal: null }, 'the process ended on its own');
  });
});

describe('gateway state: a process that ends with writes held for a checkpoint', () => {
  test('commits every one of them before it exits', async (t) => {
    const dir = await tempDir(t);
    // A log limit of one byte: every checkpoint holds commits back for a restart. Whether the process's last
    // writes fall into such a hold is chance (about one run in three), so eight processes run in turn.
    for (let run = 0; run < 8; run++) {
      const path = join(dir, `held-${run}.sqlite`);
      const { code, stdout } = await runScript(CHILD, { mode: 'leave-writing', path, calls: 10_000 });
      assert.equal(code, 0);
      assert.equal(stdout, 'committed 10000\n', `run ${run}`);
    }
  });
});
