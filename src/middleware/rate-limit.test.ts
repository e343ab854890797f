import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, test } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import { startEmulator } from '../emulator/index.ts';
import { type Clock, limiterFor, RateLimiter, resetInMs } from './rate-limit.ts';

/** A clock that only moves when someone sleeps on it. */
function manualClock(): Clock & { slept: number[] } {
  let now = 1_000_000;
  const slept: number[] = [];
  return {
    slept,
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
  };
}

describe('RateLimiter', () => {
  test('a request budget queues the call that would exceed it, for the time the bucket needs', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ requestsPerMinute: 2 }, clock);
    for (let i = 0; i < 3; i++) {
      await limiter.acquire(0);
      limiter.release();
    }
    assert.deepEqual(clock.slept, [30_000], 'the third of 2/min waits half a minute');
  });

  test('a token budget weighs calls by tokens, and settles with the real usage', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({ tokensPerMinute: 1000 }, clock);
    await limiter.acquire(800);
    limiter.release();
    limiter.settle(800, 200); // the call used far fewer: 600 tokens come back
    await limiter.acquire(900);
    limiter.release();
    assert.deepEqual(clock.slept, [6000], '900 needed, 800 available → 100 tokens = 6 s at 1000/min');
  });

  test('the provider saying the budget is spent pauses the queue until its reset', async () => {
    const clock = manualClock();
    const limiter = new RateLimiter({}, clock);
    limiter.observe({ 'x-ratelimit-remaining-requests': '0', 'x-ratelimit-reset-requests': '2.5s' });
    await limiter.acquire(0);
    limiter.release();
    assert.deepEqual(clock.slept, [2500]);
    limiter.observe({ 'x-ratelimit-remaining-requests': '5', 'x-ratelimit-reset-requests': '9s' });
    await limiter.acquire(0);
    assert.equal(clock.slept.length, 1, 'a budget with room left does not pause');
  });

  test('adaptive concurrency halves on 429 and grows back by one per window of successes', () => {
    const limiter = new RateLimiter({ maxConcurrency: 8 }, manualClock());
    limiter.onRateLimited(undefined);
    assert.equal(limiter.concurrency, 4);
    limiter.onRateLimited(undefined);
    limiter.onRateLimited(undefined);
    limiter.onRateLimited(undefined);
    assert.equal(limiter.concurrency, 1, 'never below one');
    limiter.onSuccess();
    assert.equal(limiter.concurrency, 2);
    for (let i = 0; i < 2; i++) limiter.onSuccess();
    assert.equal(limiter.concurrency, 3);
  });

  test('reset durations and times', () => {
    assert.equal(resetInMs('6ms', 0), 6);
    assert.equal(resetInMs('1s', 0), 1000);
    assert.equal(resetInMs('6m0s', 0), 360_000);
    assert.equal(resetInMs('1h2m3.5s', 0), 3_723_500);
    assert.equal(resetInMs('2026-11-25T12:00:05Z', Date.parse('2026-11-25T12:00:00Z')), 5000);
    assert.equal(resetInMs('soon', 0), undefined);
  });

  test("a wait on the real clock leaves no abort listener on the caller's signal once it wakes", async () => {
    const limiter = new RateLimiter({});
    const controller = new AbortController();
    limiter.onRateLimited(20); // the next acquire sleeps 20 ms with the caller's signal
    await limiter.acquire(0, controller.signal);
    limiter.release();
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });
});

describe('rate-limit layer in a client', () => {
  test('calls beyond the concurrency limit queue instead of failing', async (t) => {
    let open = 0;
    let peak = 0;
    let served = 0;
    // Answers each request with its own prompt, after a pause that lets the others pile up.
    const server = createServer(async (req, res) => {
      open++;
      peak = Math.max(peak, open);
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const { messages } = JSON.parse(Buffer.concat(chunks).toString()) as {
        messages: Array<{ content: string }>;
      };
      setTimeout(() => {
        open--;
        served++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({
            id: 'x',
            model: 'm',
            choices: [{ index: 0, message: { content: messages.at(-1)?.content }, finish_reason: 'stop' }],
          }),
        );
      }, 20);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise((resolve) => server.close(resolve)));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
    const client = new LLMClientFactory({ env: {} }).createClient('openai-compatible/queue-model', {
      baseURL: url,
      rateLimit: { maxConcurrency: 2 },
    });
    t.after(() => client.close());
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => client.complete({ prompt: `q${i}` })),
    );
    assert.deepEqual(
      results.map((result) => result.text),
      Array.from({ length: 8 }, (_, i) => `q${i}`),
      'each call got its own answer',
    );
    assert.equal(served, 8, 'one request each: none failed and was retried');
    assert.equal(peak, 2, 'never more than two in flight');
  });

  test('under 429s every call still succeeds, and concurrency backs off', async (t) => {
    const emulator = await startEmulator({ retryAfterMs: 5 });
    t.after(() => emulator.close());
    const rateLimit = { maxConcurrency: 16 };
    const client = new LLMClientFactory({ env: {} }).createClient('openai/gpt-4o-mini-adaptive', {
      apiKey: 'sk-x',
      baseURL: `${emulator.url}/v1`,
      rateLimit,
      maxRetries: 3,
    });
    t.after(() => client.close());
    const prompts = Array.from({ length: 12 }, (_, i) => `burst ${i}`);
    const results = await Promise.all(
      prompts.map((prompt) => client.complete({ prompt, headers: { 'x-emulator-fault': 'rate-limit:1' } })),
    );
    for (const [i, result] of results.entries()) assert.match(result.text, new RegExp(`“burst ${i}”`));
    const attempts = emulator.requests.map((request) =>
      JSON.stringify((request.body as { messages: unknown[] }).messages),
    );
    assert.equal(attempts.length, 24, 'each call: a 429, then a retry that succeeds');
    assert.equal(new Set(attempts).size, 12);
    const limiter = limiterFor({ provider: 'openai', model: 'gpt-4o-mini-adaptive' }, rateLimit);
    // All twelve were in flight when the 429s came back: 16 halves to 1 (and stays there), and no retry
    // can start until the last 429 has freed its slot. Then the 12 successes grow it by one after each
    // run of `limit` successes: 1 + 2 + 3 + 4 = 10 of them reach 5, the last 2 are not enough for 6.
    assert.equal(limiter.concurrency, 5);
    assert.equal(limiter.inFlight, 0, 'every slot released');
  });
});
