/**
 * Hedging: a call that has not answered by `afterMs` (or by the deployment's latency percentile) is sent
 * to a second deployment too; the first answer wins, the other request is cancelled on the wire, and its
 * estimated prompt cost is still counted.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, type TestContext, test } from 'node:test';
import { SpendTracker } from '../pricing/spend-tracker.ts';
import type { FinishEvent } from '../spec/types.ts';
import { chats, drain, emulators, FAST, openaiAt, routerFor, TEST_KEY, until } from './test-support/rig.ts';

/** A server that takes requests and never answers; it notes each one the client gives up on. */
async function holdingServer(t: TestContext): Promise<{ url: string; received: number; cancelled: number }> {
  const state = { url: '', received: 0, cancelled: 0 };
  const server = createServer((request: IncomingMessage) => {
    state.received++;
    request.resume();
    request.socket.once('close', () => state.cancelled++);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return state;
}

describe('router: hedging', () => {
  test('afterMs: the fast deployment answers; the slow request is cancelled and its prompt still counted', async (t) => {
    const slow = await holdingServer(t);
    const [fast] = await emulators(t, {});
    const spend = new SpendTracker();
    const router = routerFor(t, {
      deployments: [
        {
          id: 'slow',
          model: 'openai/gpt-4o-mini',
          options: { apiKey: TEST_KEY, baseURL: slow.url, ...FAST, timeoutMs: 10_000 },
        },
        openaiAt('fast', fast!),
      ],
      hedge: { afterMs: 100 },
      defaults: { spend },
    });
    const result = await router.complete({ prompt: 'hedge me' });
    assert.equal(result.route?.deployment, 'fast');
    const [lost, won] = result.route!.attempts;
    assert.equal(lost?.deployment, 'slow');
    assert.equal(lost?.cancelled, true);
    assert.ok(lost!.costUsd! > 0, 'the cancelled prompt is priced');
    assert.equal(won?.hedge, true);
    await until(() => slow.cancelled >= 1, 'the slow server sees the request cancelled');
    assert.equal(slow.received, 1);
    assert.equal(spend.total().requests, 2, 'the answer and the cancelled request');
    assert.equal(router.health()[0]?.inFlight, 0);
  });

  test('an answer in time sends no hedge', async (t) => {
    const [a, b] = await emulators(t, {}, {});
    const router = routerFor(t, {
      deployments: [openaiAt('a', a!), openaiAt('b', b!)],
      hedge: { afterMs: 5_000 },
    });
    const result = await router.complete({ prompt: 'quick enough' });
    assert.equal(result.route?.attempts.length, 1);
    assert.equal(chats(b!), 0);
  });

  test('percentile: once the deployment has a latency record, a call slower than its p50 is hedged', async (t) => {
    const [a, b] = await emulators(t, {}, {});
    const router = routerFor(t, {
      deployments: [openaiAt('a', a!, {}, { timeoutMs: 10_000 }), openaiAt('b', b!)],
      hedge: { percentile: 50 },
    });
    // Twenty answers from a: some may be hedged already (half of them are slower than the median).
    for (let i = 0; i < 20; i++) await router.complete({ prompt: `record ${i}` });
    a!.setFault('hang');
    const result = await router.complete({ prompt: 'now a hangs' });
    assert.equal(result.route?.deployment, 'b');
    assert.equal(result.route?.attempts[0]?.cancelled, true);
  });

  test('streams: the first deployment to send an event wins; the other stream is cancelled', async (t) => {
    const [slow, fast] = await emulators(t, { timeToFirstTokenMs: 5_000 }, {});
    const router = routerFor(t, {
      deployments: [
        openaiAt('slow', slow!, {}, { timeoutMs: 10_000, streamIdleTimeoutMs: 10_000 }),
        openaiAt('fast', fast!),
      ],
      hedge: { afterMs: 100 },
    });
    const events = await drain(router.stream({ prompt: 'stream hedge' }));
    const finish = events.at(-1) as FinishEvent;
    assert.equal(finish.route?.deployment, 'fast');
    assert.equal(finish.route?.attempts[0]?.cancelled, true);
    await until(() => router.health()[0]!.inFlight === 0, 'the cancelled stream leaves flight');
  });

  test('a hedge that fails leaves the first request running, and its answer is taken', async (t) => {
    const [a, b] = await emulators(t, { latencyMs: 300 }, { fault: 'server-error' });
    const router = routerFor(t, {
      deployments: [openaiAt('a', a!), openaiAt('b', b!)],
      hedge: { afterMs: 50 },
    });
    const result = await router.complete({ prompt: 'hedge fails' });
    assert.equal(result.route?.deployment, 'a');
    assert.deepEqual(
      result.route?.attempts.map((attempt) => [attempt.deployment, attempt.error?.code, attempt.hedge]),
      [
        ['a', undefined, undefined],
        ['b', 'server_error', true],
      ],
    );
  });
});
