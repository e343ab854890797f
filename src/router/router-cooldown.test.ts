/**
 * Cooldowns: when a deployment sits out, for how long, that a second cooldown only extends the first,
 * expiry, the wait when every deployment is cooling, and the rules that keep noise from taking a
 * deployment out (the last healthy one of a group; a busy one with a few errors).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DeploymentStats } from './health.ts';
import { chats, emulators, openaiAt, rejection, routerFor, until } from './test-support/rig.ts';

const LIMITS = { rpm: undefined, tpm: undefined, maxConcurrency: undefined };

describe('cooldown bookkeeping', () => {
  test('a second cooldown extends the first and never shortens it; it ends when its time is up', () => {
    const stats = new DeploymentStats('a', LIMITS);
    assert.equal(stats.coolUntil(1_000, 'server_error'), true);
    assert.equal(stats.coolUntil(3_000, 'rate_limit'), true, 'a longer one extends');
    assert.equal(stats.coolUntil(500, 'server_error'), false, 'a shorter one is ignored');
    assert.equal(stats.coolingUntil, 3_000);
    assert.equal(stats.coolingCode, 'rate_limit');
    assert.equal(stats.isCooling(2_999), true);
    assert.equal(stats.isCooling(3_000), false);
    assert.equal(stats.readyInMs(1_000), 2_000);
  });

  test('failures and successes are counted in one window that starts again when it ends', () => {
    const stats = new DeploymentStats('a', LIMITS);
    stats.countSuccess(0, 1_000);
    assert.equal(stats.countFailure(10, 1_000), 1);
    assert.equal(stats.countFailure(20, 1_000), 2);
    assert.equal(stats.successesIn(500), 1);
    assert.equal(stats.failuresIn(1_000), 0, 'the window ended');
    assert.equal(stats.countFailure(1_000, 1_000), 1);
  });
});

describe('router: cooldowns', () => {
  test('more than allowedFails failures cool a deployment; it sits out; it returns when the cooldown ends', async (t) => {
    const [a, b] = await emulators(t, { fault: 'server-error:2' }, {});
    const router = routerFor(t, {
      deployments: [openaiAt('a', a!), openaiAt('b', b!)],
      cooldown: { allowedFails: 1, windowMs: 60_000, cooldownMs: 300 },
    });
    const ask = () => router.complete({ prompt: 'cooldown cycle' });
    assert.equal((await ask()).route?.attempts[0]?.error?.code, 'server_error');
    assert.equal(router.health()[0]?.coolingForMs, 0, 'one failure is allowed');
    await ask();
    assert.equal(router.health()[0]?.coolingCode, 'server_error', 'the second cools it');
    const skipped = await ask();
    assert.deepEqual(
      skipped.route?.attempts.map((attempt) => attempt.deployment),
      ['b'],
    );
    assert.equal(chats(a!), 2);
    await until(() => router.health()[0]!.coolingForMs === 0, 'the cooldown ends');
    const back = await ask();
    assert.equal(back.route?.deployment, 'a', 'back after the cooldown (and its fault is spent)');
  });

  test('a 429 cools each deployment for as long as its own retry-after says', async (t) => {
    const [a, b, c] = await emulators(
      t,
      { fault: 'rate-limit', retryAfterMs: 4_000 },
      { fault: 'rate-limit', retryAfterMs: 1_000 },
      {},
    );
    const router = routerFor(t, { deployments: [openaiAt('a', a!), openaiAt('b', b!), openaiAt('c', c!)] });
    const result = await router.complete({ prompt: 'retry-after per deployment' });
    assert.equal(result.route?.deployment, 'c');
    const [healthA, healthB, healthC] = router.health();
    assert.ok(healthA!.coolingForMs > 2_000 && healthA!.coolingForMs <= 4_000, `a: ${healthA!.coolingForMs}`);
    assert.ok(healthB!.coolingForMs > 0 && healthB!.coolingForMs <= 1_000, `b: ${healthB!.coolingForMs}`);
    assert.equal(healthC!.coolingForMs, 0);
    assert.equal(healthA!.coolingCode, 'rate_limit');
  });

  test('every deployment cooling: the call waits for the first to return', async (t) => {
    const [a] = await emulators(t, { fault: 'rate-limit:1', retryAfterMs: 300 });
    const router = routerFor(t, { deployments: [openaiAt('a', a!, {}, { maxRetries: 0 })] });
    assert.equal((await rejection(router.complete({ prompt: 'wait for me' }))).code, 'rate_limit');
    assert.ok(router.health()[0]!.coolingForMs > 0);
    const result = await router.complete({ prompt: 'wait for me' });
    assert.equal(result.route?.deployment, 'a');
    assert.equal(chats(a!), 2);
  });

  test('…or, when it cannot within maxWaitMs, fails with a rate-limit error that says when', async (t) => {
    const [a] = await emulators(t, { fault: 'rate-limit:1', retryAfterMs: 3_000 });
    const router = routerFor(t, {
      deployments: [openaiAt('a', a!, {}, { maxRetries: 0 })],
      maxWaitMs: 100,
    });
    await rejection(router.complete({ prompt: 'too long to wait' }));
    const error = await rejection(router.complete({ prompt: 'too long to wait' }));
    assert.equal(error.code, 'rate_limit');
    assert.match(error.message, /cooling down/);
    assert.ok(
      error.retryAfterMs! > 100 && error.retryAfterMs! <= 3_000,
      `retryAfterMs ${error.retryAfterMs}`,
    );
    assert.equal(chats(a!), 1, 'nothing was sent');
  });

  test('the last healthy deployment of a group is not cooled by its failure count', async (t) => {
    const [a] = await emulators(t, { fault: 'server-error' });
    const router = routerFor(t, {
      deployments: [openaiAt('a', a!, {}, { maxRetries: 0 })],
      cooldown: { allowedFails: 0 },
    });
    await rejection(router.complete({ prompt: 'only one' }));
    await rejection(router.complete({ prompt: 'only one' }));
    assert.equal(router.health()[0]?.coolingForMs, 0);
    assert.equal(chats(a!), 2, 'every call still reaches it');
  });

  test('a busy deployment with a few errors keeps serving; one failing half its calls sits out', async (t) => {
    const [a, b] = await emulators(t, {}, {});
    const router = routerFor(t, {
      deployments: [openaiAt('a', a!), openaiAt('b', b!)],
      cooldown: { allowedFails: 1 },
    });
    for (let i = 0; i < 6; i++) await router.complete({ prompt: `healthy ${i}` });
    a!.setFault('server-error');
    for (let i = 0; i < 3; i++) await router.complete({ prompt: `errors ${i}` });
    assert.equal(router.health()[0]?.coolingForMs, 0, '3 failures beside 6 successes');
    for (let i = 3; i < 6; i++) await router.complete({ prompt: `errors ${i}` });
    assert.equal(router.health()[0]?.coolingCode, 'server_error', '6 failures beside 6 successes');
  });

  test('cooldown: false turns cooldowns off', async (t) => {
    const [a, b] = await emulators(t, { apiKeys: ['another-key-not-real'] }, {});
    const router = routerFor(t, { deployments: [openaiAt('a', a!), openaiAt('b', b!)], cooldown: false });
    await rejection(router.complete({ prompt: 'no cooldowns' }));
    assert.equal(router.health()[0]?.coolingForMs, 0);
  });
});
