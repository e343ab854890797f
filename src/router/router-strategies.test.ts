/**
 * The strategies against real emulators: the weighted split holds over 1,000 calls within a tolerance
 * computed for a correct implementation; least-busy and latency prefer the idle and the fast deployment;
 * usage follows the providers' headers and the declared budgets; cost picks the cheapest; priority
 * levels come before every strategy.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fixtureText } from '../test-support/fixtures.ts';
import { startReplayServer } from '../test-support/replay-server.ts';
import { LatencyTrack } from './health.ts';
import {
  chats,
  drain,
  emulators,
  FAST,
  openaiAt,
  routerFor,
  TEST_KEY,
  until,
  warmUp,
} from './test-support/rig.ts';

/** Timeouts well above the slow deployment's latency: it must be slow, not failing. */
const PATIENT = { timeoutMs: 5_000, streamIdleTimeoutMs: 5_000 };

describe('latency averages', () => {
  test('an average nobody refreshes fades, so a deployment one slow answer penalised is tried again', () => {
    const track = new LatencyTrack();
    track.add(800, 0);
    assert.equal(track.recentMs(0), 800);
    assert.equal(track.recentMs(10_000), 400, 'half after one half-life');
    track.add(800, 10_000);
    assert.equal(track.recentMs(10_000), 800, 'a new sample starts from the average again');
  });

  test('percentiles wait for enough samples', () => {
    const track = new LatencyTrack();
    for (let i = 1; i <= 15; i++) track.add(i, 0);
    assert.equal(track.percentile(50), undefined);
    track.add(16, 0);
    assert.equal(track.percentile(50), 8);
    assert.equal(track.percentile(95), 16);
  });
});

describe('router: strategies', () => {
  test('weighted: 1,000 calls split 1:3 within five standard deviations', async (t) => {
    const [a, b] = await emulators(t, { recordRequests: true }, { recordRequests: true });
    const router = routerFor(t, {
      deployments: [openaiAt('a', a!, { weight: 1 }), openaiAt('b', b!, { weight: 3 })],
      strategy: 'weighted',
    });
    const CALLS = 1_000;
    const served = { a: 0, b: 0 };
    let next = 0;
    await Promise.all(
      Array.from({ length: 16 }, async () => {
        while (next++ < CALLS) {
          const result = await router.complete({ prompt: 'split' });
          served[result.route!.deployment as 'a' | 'b']++;
        }
      }),
    );
    // Binomial: n = 1000, p = 1/4 → mean 250, σ = √(1000 · ¼ · ¾) ≈ 13.7. Five σ ≈ 68 fails an
    // even split (500) or one that ignores weights, and a correct one about once in 3.5 million runs.
    const sigma = Math.sqrt(CALLS * 0.25 * 0.75);
    assert.ok(Math.abs(served.a - 250) <= 5 * sigma, `a served ${served.a} of ${CALLS}`);
    assert.equal(served.a + served.b, CALLS);
    assert.equal(chats(a!), served.a);
  });

  test('least-busy: a call goes to the deployment with nothing in flight', async (t) => {
    const all = await emulators(t, {}, {}, {});
    const router = routerFor(t, {
      deployments: all.map((emulator, index) => openaiAt(`d${index}`, emulator)),
      strategy: 'least-busy',
    });
    const slow = { headers: { 'x-emulator-latency-ms': '800' } };
    const held = [router.complete({ prompt: 'slow 1', ...slow })];
    await until(() => all.some((emulator) => chats(emulator) > 0), 'the first slow call arrives');
    held.push(router.complete({ prompt: 'slow 2', ...slow }));
    await until(
      () => all.filter((emulator) => chats(emulator) > 0).length === 2,
      'the second slow call arrives',
    );
    const idle = all.findIndex((emulator) => chats(emulator) === 0);
    const result = await router.complete({ prompt: 'quick' });
    assert.equal(result.route?.deployment, `d${idle}`);
    await Promise.all(held);
  });

  test('latency: after measuring each once, calls go to the fast deployment', async (t) => {
    await warmUp(t);
    const [fast, slow] = await emulators(t, {}, { latencyMs: 600 });
    const router = routerFor(t, {
      deployments: [openaiAt('fast', fast!), openaiAt('slow', slow!, {}, PATIENT)],
      strategy: 'latency',
    });
    for (let i = 0; i < 10; i++) await router.complete({ prompt: `latency ${i}` });
    assert.equal(chats(slow!), 1, 'measured once');
    assert.equal(chats(fast!), 9);
  });

  test('latency: a deployment that times out counts as slow, not as never measured', async (t) => {
    const [fast, slow] = await emulators(t, {}, { latencyMs: 2_000 });
    const router = routerFor(t, {
      deployments: [openaiAt('fast', fast!), openaiAt('slow', slow!, {}, { timeoutMs: 300 })],
      strategy: 'latency',
    });
    for (let i = 0; i < 6; i++) await router.complete({ prompt: `timeouts ${i}` });
    assert.equal(chats(slow!), 1);
  });

  test('latency, streams: ranked by time to first event', async (t) => {
    await warmUp(t);
    const [fast, slow] = await emulators(t, {}, { timeToFirstTokenMs: 600 });
    const router = routerFor(t, {
      deployments: [openaiAt('fast', fast!), openaiAt('slow', slow!, {}, PATIENT)],
      strategy: 'latency',
    });
    for (let i = 0; i < 8; i++) await drain(router.stream({ prompt: `ttft ${i}` }));
    assert.equal(chats(slow!), 1);
    const [, slowHealth] = router.health();
    assert.ok(slowHealth!.ttftMs! >= 500, `slow ttft ${slowHealth!.ttftMs}`);
  });

  test('usage: the deployment whose provider reports more budget left gets the calls', async (t) => {
    // A recorded OpenAI response, served with headers that say 90 % of the request budget is spent.
    const low = await startReplayServer([
      {
        headers: {
          'content-type': 'application/json',
          'x-ratelimit-limit-requests': '1000',
          'x-ratelimit-remaining-requests': '100',
          'x-ratelimit-reset-requests': '1m0s',
        },
        body: fixtureText('openai', 'chat-completion.nonstream.gpt-4o-mini.json'),
      },
    ]);
    t.after(() => low.close());
    const [high] = await emulators(t, {});
    const router = routerFor(t, {
      deployments: [
        {
          id: 'low',
          model: 'openai/gpt-4o-mini',
          options: { apiKey: TEST_KEY, baseURL: `${low.url}/v1`, ...FAST },
        },
        openaiAt('high', high!),
      ],
      strategy: 'usage',
    });
    const routes: string[] = [];
    for (let i = 0; i < 6; i++)
      routes.push((await router.complete({ prompt: `usage ${i}` })).route!.deployment);
    assert.equal(routes[0], 'low', 'nothing known yet: the group order');
    assert.deepEqual(routes.slice(1), ['high', 'high', 'high', 'high', 'high']);
  });

  test('a declared rpm is a budget: once spent, the next deployment takes the calls', async (t) => {
    const [a, b] = await emulators(t, {}, {});
    const router = routerFor(t, { deployments: [openaiAt('a', a!, { rpm: 2 }), openaiAt('b', b!)] });
    const routes: string[] = [];
    for (let i = 0; i < 4; i++)
      routes.push((await router.complete({ prompt: `rpm ${i}` })).route!.deployment);
    assert.deepEqual(routes, ['a', 'a', 'b', 'b']);
    assert.ok(router.health()[0]!.requestsPerMinute >= 2);
  });

  test('cost: the cheapest deployment for the request; unpriced ones last', async (t) => {
    const [a, b, c] = await emulators(t, {}, {}, {});
    const router = routerFor(t, {
      deployments: [
        openaiAt('unpriced', c!, { model: 'openai-compatible/house-model' }),
        openaiAt('gpt-4o', a!, { model: 'openai/gpt-4o' }),
        openaiAt('gpt-4o-mini', b!, { model: 'openai/gpt-4o-mini' }),
      ],
      strategy: 'cost',
    });
    assert.equal(
      (await router.complete({ prompt: 'cheap please', maxTokens: 50 })).route?.deployment,
      'gpt-4o-mini',
    );
  });

  test('priority levels come first; the strategy picks within a level', async (t) => {
    const [a, b, c] = await emulators(t, {}, {}, {});
    const router = routerFor(t, {
      deployments: [
        openaiAt('backup', a!, { priority: 2 }),
        openaiAt('main-1', b!, { priority: 1 }),
        openaiAt('main-2', c!, { priority: 1 }),
      ],
      strategy: 'weighted',
    });
    for (let i = 0; i < 20; i++) await router.complete({ prompt: `level ${i}` });
    assert.equal(chats(a!), 0);
    assert.ok(chats(b!) > 0 && chats(c!) > 0, `${chats(b!)} / ${chats(c!)}`);
  });
});
