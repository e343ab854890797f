/**
 * Shared state against a real Redis (REDIS_URL, default redis://127.0.0.1:6379): two routers in two
 * processes share cooldowns and usage; two routers in one process share calls in flight; a Redis that is
 * down or silent never fails a call. Every key is under a prefix unique to this run and deleted at the
 * end. Without a server the tests skip with the reason, or fail when CI is set.
 */
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, describe, test } from 'node:test';
import {
  childResult,
  REDIS_URL,
  RUN_ID,
  redisInspector,
  requireRedis,
  runScript,
} from '../middleware/test-support/harness.ts';
import type { RouteInfo } from '../spec/types.ts';
import { DeploymentStats, systemClock } from './health.ts';
import { RedisState } from './shared-state.ts';
import { chats, emulators, openaiAt, routerFor, until } from './test-support/rig.ts';
import type { DeploymentHealth, RouterConfig } from './types.ts';

const PREFIX = `llmf-test-router-${RUN_ID}:`;
const LIMITS = { rpm: undefined, tpm: undefined, maxConcurrency: undefined };
const CHILD = new URL('./test-support/router-child.ts', import.meta.url).pathname;

after(async () => {
  const redis = await redisInspector().catch(() => undefined);
  if (!redis) return;
  await redis.clean(PREFIX);
  await redis.close();
});

interface ChildResult {
  routes: Array<RouteInfo & { error?: string }>;
  health: DeploymentHealth[];
}

/** Runs the router child process with `config` and `calls`; resolves with what it printed. */
async function runRouter(
  config: RouterConfig,
  calls: Array<{ model?: string; prompt: string }>,
): Promise<ChildResult> {
  return childResult<ChildResult>(await runScript(CHILD, { config, calls }));
}

const deploymentsOf = (route: RouteInfo) => route.attempts.map((attempt) => attempt.deployment);

describe('router: state shared through Redis', () => {
  test('a deployment cooled by one process is skipped by another', async (t) => {
    if (!(await requireRedis(t))) return;
    const [a, b] = await emulators(t, { fault: 'server-error' }, {});
    const prefix = `${PREFIX}cooldown:`;
    const config: RouterConfig = {
      deployments: [openaiAt('a', a!), openaiAt('b', b!)],
      cooldown: { allowedFails: 0, cooldownMs: 120_000 },
      state: { redis: REDIS_URL, prefix },
    };
    const first = await runRouter(config, [{ prompt: 'first process' }]);
    assert.deepEqual(deploymentsOf(first.routes[0]!), ['a', 'b']);
    const redis = await redisInspector();
    t.after(() => redis.close());
    assert.ok((await redis.pttl(`${prefix}cooldown:a`)) > 60_000, 'the cooldown is in Redis');
    assert.equal(await redis.get(`${prefix}cooldown:a`), 'server_error');

    const second = await runRouter(config, [{ prompt: 'second process' }]);
    assert.deepEqual(deploymentsOf(second.routes[0]!), ['b'], 'the second process never tried a');
    assert.equal(second.health[0]?.coolingCode, 'server_error');
    assert.equal(chats(a!), 1);
  });

  test('usage counted by one process steers another (usage strategy, declared rpm)', async (t) => {
    if (!(await requireRedis(t))) return;
    const [a, b] = await emulators(t, {}, {});
    const config: RouterConfig = {
      deployments: [openaiAt('a', a!, { rpm: 10 }), openaiAt('b', b!, { rpm: 10 })],
      groups: { both: ['a', 'b'], 'only-a': ['a'] },
      strategy: 'usage',
      state: { redis: REDIS_URL, prefix: `${PREFIX}usage:` },
    };
    await runRouter(
      config,
      Array.from({ length: 9 }, (_, i) => ({ model: 'only-a', prompt: `spend a ${i}` })),
    );
    const second = await runRouter(
      config,
      Array.from({ length: 4 }, (_, i) => ({ model: 'both', prompt: `then ${i}` })),
    );
    // Alone, this process would alternate a, b, a, b; it knows a spent most of its minute.
    assert.deepEqual(
      second.routes.map((route) => route.deployment),
      ['b', 'b', 'b', 'b'],
    );
    assert.ok(second.health[0]!.requestsPerMinute >= 4, `a: ${second.health[0]!.requestsPerMinute}`);
  });

  test('calls in flight in one router count for another (least-busy)', async (t) => {
    if (!(await requireRedis(t))) return;
    const [a, b] = await emulators(t, {}, {});
    const config: RouterConfig = {
      deployments: [openaiAt('a', a!), openaiAt('b', b!)],
      strategy: 'least-busy',
      state: { redis: REDIS_URL, prefix: `${PREFIX}in-flight:`, syncIntervalMs: 20 },
    };
    const one = routerFor(t, config);
    const other = routerFor(t, config);
    const held = one.complete({
      model: 'a',
      prompt: 'held',
      headers: { 'x-emulator-latency-ms': '1500' },
      timeoutMs: 10_000,
    });
    await until(() => other.health()[0]!.inFlight >= 1, 'the other router sees the call in flight');
    const result = await other.complete({ prompt: 'elsewhere' });
    assert.equal(result.route?.deployment, 'b');
    await held;
  });
});

describe('shared state: the atomic operations', () => {
  test('a cooldown in Redis is only ever extended; failures are counted for every process', async (t) => {
    if (!(await requireRedis(t))) return;
    const prefix = `${PREFIX}atomic:`;
    const open = () =>
      new RedisState([new DeploymentStats('x', LIMITS)], {
        url: REDIS_URL,
        prefix,
        syncIntervalMs: 60_000,
        clock: systemClock,
      });
    const one = open();
    const other = open();
    t.after(() => Promise.all([one.close(), other.close()]));
    await Promise.all([one.ready(), other.ready()]);
    const redis = await redisInspector();
    t.after(() => redis.close());

    await one.cool('x', 60_000, 'rate_limit');
    await other.cool('x', 1_000, 'server_error');
    assert.ok((await redis.pttl(`${prefix}cooldown:x`)) > 50_000, 'the shorter one did not shorten it');
    assert.equal(await redis.get(`${prefix}cooldown:x`), 'rate_limit');
    await other.cool('x', 120_000, 'authentication');
    assert.ok((await redis.pttl(`${prefix}cooldown:x`)) > 100_000, 'the longer one extended it');
    assert.equal(await redis.get(`${prefix}cooldown:x`), 'authentication');

    assert.equal(await one.countFailure('x', 60_000), 1);
    assert.equal(await other.countFailure('x', 60_000), 2);
    assert.ok((await redis.pttl(`${prefix}fails:x`)) > 50_000, 'the window expires the count');
  });
});

describe('router: a Redis that is away never fails a call', () => {
  async function server(t: import('node:test').TestContext, silent: boolean): Promise<string> {
    const sockets = new Set<Socket>();
    const listener: Server = createServer((socket) => {
      sockets.add(socket);
      socket.on('error', () => {});
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as { port: number };
    if (!silent) await new Promise((resolve) => listener.close(resolve));
    else
      t.after(
        () =>
          new Promise<void>((resolve) => {
            for (const socket of sockets) socket.destroy();
            listener.close(() => resolve());
          }),
      );
    return `redis://127.0.0.1:${port}`;
  }

  for (const [name, silent] of [
    ['refused', false],
    ['silent', true],
  ] as const) {
    test(`${name}: calls succeed and cooldowns still work, locally`, { timeout: 20_000 }, async (t) => {
      const url = await server(t, silent);
      const [a, b] = await emulators(t, { fault: 'server-error' }, {});
      const router = routerFor(t, {
        deployments: [openaiAt('a', a!), openaiAt('b', b!)],
        cooldown: { allowedFails: 0 },
        state: { redis: url, prefix: `${PREFIX}away:` },
      });
      assert.deepEqual(deploymentsOf((await router.complete({ prompt: 'redis away 1' })).route!), ['a', 'b']);
      assert.deepEqual(deploymentsOf((await router.complete({ prompt: 'redis away 2' })).route!), ['b']);
      assert.equal(router.health()[0]?.coolingCode, 'server_error');
    });
  }
});
