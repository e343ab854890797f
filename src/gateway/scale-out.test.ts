/**
 * Scale-out: two gateway processes (`llmf serve --config`) sharing one real Redis under a prefix unique to this
 * run hold one key's rpm and budget between them, skip a deployment the other cooled, and see a key the other
 * revoked within `keyCacheMs`; `llmf serve --workers 2` over one SQLite file holds the limits across its
 * workers. Requests are fired all at once, split between the processes, and the 200s are counted against the
 * limit: the drift is reported (`t.diagnostic`) and must be none over the limit.
 */
import assert from 'node:assert/strict';
import { after, describe, type TestContext, test } from 'node:test';
import type { Emulator } from '../emulator/index.ts';
import { REDIS_URL, RUN_ID, redisInspector, requireRedis } from '../middleware/test-support/harness.ts';
import {
  type Answer,
  assertErrorShape,
  call,
  chat,
  createKey,
  emulatorDeployments,
  healthOf,
  MASTER_KEY,
  retryAfterSeconds,
  type ServeProcess,
  sqliteConfig,
  startGatewayChild,
  startServe,
  startUpstream,
  tempFolder,
  until,
  writeConfig,
} from './test-support/keys-rig.ts';

const PREFIX = `llmf-test-gw-scale-${RUN_ID}:`;
const KEY_CACHE_MS = 1_000;

after(async () => {
  const redis = await redisInspector().catch(() => undefined);
  if (!redis) return;
  await redis.clean(PREFIX);
  await redis.close();
});

/** Two `llmf serve` processes on one config whose state is the shared Redis, under `PREFIX<name>:`. */
async function twoGateways(
  t: TestContext,
  name: string,
  upstream: Emulator,
): Promise<[ServeProcess, ServeProcess]> {
  const path = writeConfig(tempFolder(t), {
    state: { redis: REDIS_URL, prefix: `${PREFIX}${name}:` },
    deployments: emulatorDeployments(upstream.url),
    server: { keyCacheMs: KEY_CACHE_MS },
  });
  const [a, b] = await Promise.all([startServe(t, ['--config', path]), startServe(t, ['--config', path])]);
  return [a!, b!];
}

/** One call with the master key and one with `key` through each gateway: connections open, the key found. */
async function warmUp(urls: string[], key: string): Promise<void> {
  for (const url of urls) {
    assert.equal((await chat(url, 'openai', MASTER_KEY, { model: 'openai', maxTokens: 1 })).status, 200);
    assert.equal((await call(url, '/v1/models', { key })).status, 200);
  }
}

/** Fires `count` chat requests at once, alternating between `urls`; resolves with each answer and where it went. */
async function burst(
  urls: string[],
  key: string,
  count: number,
  maxTokens = 16,
): Promise<Array<{ url: string; answer: Answer }>> {
  return Promise.all(
    Array.from({ length: count }, async (_, i) => {
      const url = urls[i % urls.length]!;
      const answer = await chat(url, 'openai', key, {
        model: 'openai',
        maxTokens,
        content: `burst call ${i}`,
      });
      return { url, answer };
    }),
  );
}

/** How many of `answers` were granted, in all and per gateway; every other one must be a 429 with Retry-After. */
function tally(answers: Array<{ url: string; answer: Answer }>, urls: string[]) {
  const granted = answers.filter(({ answer }) => answer.status === 200);
  for (const { answer } of answers) {
    if (answer.status === 200) continue;
    assertErrorShape(answer, 'openai', 429, answer.json?.error?.type);
    retryAfterSeconds(answer);
  }
  return {
    granted: granted.length,
    perGateway: urls.map((url) => granted.filter((entry) => entry.url === url).length),
    codes: [...new Set(answers.map(({ answer }) => answer.json?.error?.code).filter(Boolean))],
  };
}

async function spendOf(url: string, id: string) {
  const answer = await call(url, `/admin/keys/${id}/spend`, { key: MASTER_KEY });
  assert.equal(answer.status, 200, answer.text);
  return answer.json as { spendUsd: number; requests: number; reservedUsd: number };
}

describe('two gateway processes, one Redis', () => {
  test("a key's rpm holds across both", async (t) => {
    if (!(await requireRedis(t))) return;
    const upstream = await startUpstream(t, { latencyMs: 20 });
    const [a, b] = await twoGateways(t, 'rpm', upstream);
    const rpm = 30;
    const fired = 90;
    const { key } = await createKey(a.url, { name: 'shared-rpm', rpm });
    await warmUp([a.url, b.url], key);
    const result = tally(await burst([a.url, b.url], key, fired), [a.url, b.url]);
    t.diagnostic(
      `rpm ${rpm}, ${fired} requests at once over two gateways: ${result.granted} granted ` +
        `(${result.perGateway.join(' + ')}), drift ${result.granted - rpm}`,
    );
    // Each gateway got half the requests, more than the limit: had either counted alone, it would have granted
    // the whole limit itself.
    assert.equal(result.granted, rpm, 'exactly the limit, neither more nor fewer');
    assert.deepEqual(result.codes, ['rpm_limit_exceeded']);
  });

  test("a key's budget holds across both", async (t) => {
    if (!(await requireRedis(t))) return;
    const upstream = await startUpstream(t, { latencyMs: 20 });
    const [a, b] = await twoGateways(t, 'budget', upstream);
    const budgetUsd = 0.0005;
    const { id, key } = await createKey(a.url, { name: 'shared-budget', budgetUsd, budgetPeriod: 'day' });
    await warmUp([a.url, b.url], key);
    const fired = 120;
    const first = tally(await burst([a.url, b.url], key, fired), [a.url, b.url]);
    const afterBurst = await spendOf(b.url, id);
    // Calls in flight hold their estimate; once settled, what they did not spend can be spent sequentially.
    let sequential = 0;
    for (let i = 0; ; i++) {
      const url = i % 2 === 0 ? a.url : b.url;
      const answer = await chat(url, 'openai', key, {
        model: 'openai',
        maxTokens: 16,
        content: `after ${i}`,
      });
      if (answer.status !== 200) {
        assertErrorShape(answer, 'openai', 429, 'insufficient_quota');
        assert.equal(answer.json.error.code, 'budget_exceeded');
        break;
      }
      sequential++;
    }
    const spent = await spendOf(a.url, id);
    const perCall = spent.spendUsd / spent.requests;
    t.diagnostic(
      `budget $${budgetUsd}, ${fired} requests at once over two gateways: ${first.granted} granted ` +
        `(${first.perGateway.join(' + ')}), $${afterBurst.spendUsd.toFixed(9)} spent; then ${sequential} more ` +
        `one by one; in all $${spent.spendUsd.toFixed(9)} (${((100 * spent.spendUsd) / budgetUsd).toFixed(1)}% ` +
        `of the budget, $${perCall.toFixed(9)} a call)`,
    );
    assert.ok(spent.spendUsd <= budgetUsd, `never over the budget: $${spent.spendUsd}`);
    assert.ok(budgetUsd - spent.spendUsd < 2 * perCall, 'and used up to the last call or two');
    assert.equal(spent.requests, first.granted + sequential, 'every granted call charged');
    assert.equal(spent.reservedUsd, 0, 'nothing held once every call settled');
    for (const url of [a.url, b.url]) {
      const refused = await chat(url, 'openai', key, { model: 'openai', maxTokens: 16 });
      assert.equal(refused.status, 429, 'both gateways refuse the spent key');
    }
  });

  test('a key revoked through one is refused by the other at once for calls, within keyCacheMs for the rest', async (t) => {
    if (!(await requireRedis(t))) return;
    const upstream = await startUpstream(t);
    const [a, b] = await twoGateways(t, 'revoke', upstream);
    const { id, key } = await createKey(a.url, { name: 'revoked-elsewhere' });
    assert.equal((await chat(b.url, 'openai', key, { model: 'openai' })).status, 200);
    assert.equal((await call(b.url, '/v1/models', { key })).status, 200, 'b holds the key in its cache');

    const revokedAt = Date.now();
    const revoke = await call(a.url, `/admin/keys/${id}`, { method: 'DELETE', key: MASTER_KEY });
    assert.equal(revoke.status, 200, revoke.text);
    // A call reserves in the shared store, which knows at once.
    const refused = await chat(b.url, 'anthropic', key, { model: 'openai' });
    assertErrorShape(refused, 'anthropic', 401, 'authentication_error');
    assert.match(refused.json.error.message, /revoked/);
    // What only authenticates (the model list) trusts b's cache until it expires.
    let stale = 0;
    const refusedAfterMs = await until(async () => {
      const sentAt = Date.now();
      const answer = await call(b.url, '/v1/models', { key });
      if (answer.status === 401) return sentAt - revokedAt;
      assert.equal(answer.status, 200);
      stale++;
      // b found the key before the revocation, so its cache entry is gone keyCacheMs after it at the latest.
      if (sentAt - revokedAt > KEY_CACHE_MS + 100) assert.fail('still trusted after keyCacheMs');
      return undefined;
    });
    t.diagnostic(
      `keyCacheMs ${KEY_CACHE_MS}: the model list refused the revoked key after ${refusedAfterMs} ms (${stale} stale answers)`,
    );
  });
});

describe('router health shared through Redis', () => {
  test('a deployment cooled by one gateway is skipped by the other', async (t) => {
    if (!(await requireRedis(t))) return;
    const broken = await startUpstream(t, { fault: 'server-error' });
    const healthy = await startUpstream(t);
    const [first, second] = emulatorDeployments(broken.url, ['openai']).concat(
      emulatorDeployments(healthy.url, ['openai']),
    );
    const path = writeConfig(tempFolder(t), {
      state: { redis: REDIS_URL, prefix: `${PREFIX}cooldown:` },
      deployments: [
        { ...first, id: 'broken' },
        { ...second, id: 'healthy' },
      ],
      groups: { chat: ['broken', 'healthy'] },
      strategy: 'priority',
      cooldown: { allowedFails: 0, cooldownMs: 120_000 },
    });
    const [a, b] = await Promise.all([startGatewayChild(t, path), startGatewayChild(t, path)]);
    const posts = (upstream: Emulator) =>
      upstream.requests.filter((request) => request.method === 'POST').length;

    const viaA = await chat(a!.url, 'openai', MASTER_KEY, { model: 'chat' });
    assert.equal(viaA.status, 200, 'a fell back to the healthy deployment');
    assert.equal(posts(broken), 1, 'a tried the broken deployment once');
    const cooledAt = Date.now();
    const seenAfterMs = await until(async () => {
      const health = await healthOf(b!);
      return health.find((deployment) => deployment.id === 'broken')?.coolingCode
        ? Date.now() - cooledAt
        : undefined;
    });
    t.diagnostic(`b saw a's cooldown ${seenAfterMs} ms after a answered (router syncIntervalMs 100)`);
    const viaB = await chat(b!.url, 'openai', MASTER_KEY, { model: 'chat' });
    assert.equal(viaB.status, 200);
    assert.equal(posts(broken), 1, 'b never sent to the deployment a cooled');
    assert.equal(posts(healthy), 2);
  });
});

describe('llmf serve --workers 2, one SQLite file', () => {
  test("a key's rpm and budget hold across the workers", async (t) => {
    const upstream = await startUpstream(t, { latencyMs: 20 });
    const path = sqliteConfig(t, upstream.url);
    const gateway = await startServe(t, ['--config', path, '--workers', '2']);
    assert.match(gateway.stdout(), /\(2 workers\)/);
    const pidsOf = (name: string) =>
      new Set(
        gateway
          .logLines()
          .filter((line) => line.msg === 'request' && line.key === name)
          .map((line) => line.pid),
      );
    // The first worker printed the banner; wait until the second answers too (each new connection goes to
    // the next worker in turn).
    await until(async () => {
      await Promise.all([0, 1, 2, 3].map(() => call(gateway.url, '/v1/models', { key: MASTER_KEY })));
      return pidsOf('master').size === 2 ? true : undefined;
    });
    const rpm = 20;
    const limited = await createKey(gateway.url, { name: 'workers-rpm', rpm });
    const byRpm = tally(await burst([gateway.url], limited.key, 60), [gateway.url]);

    const budgetUsd = 0.0002;
    const budgeted = await createKey(gateway.url, { name: 'workers-budget', budgetUsd });
    const byBudget = tally(await burst([gateway.url], budgeted.key, 60), [gateway.url]);
    const spent = await spendOf(gateway.url, budgeted.id);

    t.diagnostic(
      `--workers 2: rpm ${rpm}: ${byRpm.granted} of 60 granted; budget $${budgetUsd}: ${byBudget.granted} of 60 ` +
        `granted, $${spent.spendUsd.toFixed(9)} spent`,
    );
    assert.equal(pidsOf('workers-rpm').size, 2, 'both workers answered the rpm key');
    assert.equal(pidsOf('workers-budget').size, 2, 'both workers answered the budget key');
    assert.equal(byRpm.granted, rpm);
    assert.ok(spent.spendUsd <= budgetUsd, `never over the budget: $${spent.spendUsd}`);
    assert.ok(byBudget.granted > 0);
    assert.deepEqual(byBudget.codes, ['budget_exceeded']);
  });
});
