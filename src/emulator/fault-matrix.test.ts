/**
 * The fault matrix: every fault kind the emulator injects, streaming and not, transient and persistent,
 * must end in a transparent retry or the right typed error, within the deadline, with no unhandled
 * rejection and no socket left open once everything is closed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import type { ClientOptions } from '../client/options.ts';
import { openPoolCount } from '../http/transport.ts';
import {
  isLLMError,
  LLMConnectionError,
  LLMContentFilterError,
  type LLMError,
  LLMInvalidResponseError,
  LLMRateLimitError,
  LLMServerError,
  LLMTimeoutError,
} from '../spec/errors.ts';
import type { CompletionRequest } from '../spec/types.ts';
import { type Emulator, FAULT_KINDS, type FaultKind, startEmulator } from './index.ts';

type ErrorClass = abstract new (...args: never[]) => LLMError;

interface Expectation {
  /** Persistent fault: the error class, and how many attempts it takes. */
  persistent: { type: ErrorClass; attempts: number } | 'succeeds';
  /** Fault on the first attempt only: recovered transparently, or this error. */
  transient: 'recovers' | { type: ErrorClass; attempts: number };
}

const CLIENT: ClientOptions = {
  apiKey: 'sk-fault-matrix-000000000000',
  maxRetries: 2,
  timeoutMs: 400,
  streamIdleTimeoutMs: 250,
  retry: { initialDelayMs: 5, maxDelayMs: 20 },
};

const NON_STREAMING: Record<FaultKind, Expectation> = {
  'rate-limit': { persistent: { type: LLMRateLimitError, attempts: 3 }, transient: 'recovers' },
  'server-error': { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  unavailable: { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  overloaded: { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  hang: { persistent: { type: LLMTimeoutError, attempts: 3 }, transient: 'recovers' },
  stall: { persistent: { type: LLMTimeoutError, attempts: 3 }, transient: 'recovers' },
  reset: { persistent: { type: LLMConnectionError, attempts: 3 }, transient: 'recovers' },
  malformed: { persistent: { type: LLMInvalidResponseError, attempts: 3 }, transient: 'recovers' },
  'stream-error': { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  // OpenAI reports a filtered answer as a result with finish reason content-filter, not an error.
  'content-filter': { persistent: 'succeeds', transient: 'recovers' },
};

const STREAMING: Record<FaultKind, Expectation> = {
  ...NON_STREAMING,
  // Output was produced before the fault: never retried, a typed error at once.
  stall: {
    persistent: { type: LLMTimeoutError, attempts: 1 },
    transient: { type: LLMTimeoutError, attempts: 1 },
  },
  'stream-error': {
    persistent: { type: LLMServerError, attempts: 1 },
    transient: { type: LLMServerError, attempts: 1 },
  },
};

let emulator: Emulator;
const factory = new LLMClientFactory({ env: {} });
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

before(async () => {
  process.on('unhandledRejection', onUnhandled);
  emulator = await startEmulator({ retryAfterMs: 10 });
});

after(async () => {
  process.off('unhandledRejection', onUnhandled);
});

let counter = 0;
async function run(
  fault: string,
  stream: boolean,
  extra: ClientOptions = {},
): Promise<{ text: string; finishReason: string } | LLMError> {
  const client = factory.createClient('openai/gpt-4o-mini', {
    ...CLIENT,
    baseURL: `${emulator.url}/v1`,
    ...extra,
  });
  // A distinct prompt per run, so the emulator's per-request fault counters start afresh.
  const request: CompletionRequest = {
    prompt: `fault ${fault} ${stream} ${counter++}`,
    headers: { 'x-emulator-fault': fault },
  };
  try {
    if (!stream) {
      const result = await client.complete(request);
      return { text: result.text, finishReason: result.finishReason };
    }
    let text = '';
    let finishReason = '';
    for await (const event of client.stream(request)) {
      if (event.type === 'text-delta') text += event.text;
      if (event.type === 'finish') finishReason = event.finishReason;
    }
    return { text, finishReason };
  } catch (error) {
    assert.ok(isLLMError(error), `a typed error, not ${String(error)}`);
    return error;
  } finally {
    await client.close();
  }
}

function check(
  outcome: Awaited<ReturnType<typeof run>>,
  expected: Expectation['persistent'] | Expectation['transient'],
) {
  if (expected === 'recovers' || expected === 'succeeds') {
    assert.ok(
      !isLLMError(outcome),
      `expected success, got ${isLLMError(outcome) ? `${outcome.name}: ${outcome.message}` : ''}`,
    );
    return;
  }
  assert.ok(isLLMError(outcome), `expected ${expected.type.name}, got success`);
  assert.ok(
    outcome instanceof expected.type,
    `expected ${expected.type.name}, got ${outcome.name}: ${outcome.message}`,
  );
  assert.equal(outcome.attempts, expected.attempts, `attempts for ${outcome.message}`);
  assert.equal(outcome.attemptErrors.length, expected.attempts);
}

for (const [mode, table] of [
  ['non-streaming', NON_STREAMING],
  ['streaming', STREAMING],
] as const) {
  describe(`fault matrix, ${mode}`, () => {
    for (const kind of FAULT_KINDS) {
      test(`${kind} on every attempt`, async () => {
        const started = Date.now();
        check(await run(kind, mode === 'streaming'), table[kind].persistent);
        assert.ok(Date.now() - started < 5_000, 'ends well within the timeouts × attempts');
      });
      test(`${kind} on the first attempt only`, async () => {
        const outcome = await run(`${kind}:1`, mode === 'streaming');
        check(outcome, table[kind].transient);
        if (table[kind].transient === 'recovers' && kind !== 'content-filter') {
          assert.ok(!isLLMError(outcome) && outcome.text.length > 0 && outcome.finishReason === 'stop');
        }
      });
    }
  });
}

describe('fault outcomes in detail', () => {
  test('content-filter on OpenAI gives an empty result with finish reason content-filter', async () => {
    const outcome = await run('content-filter', false);
    assert.ok(!isLLMError(outcome));
    assert.equal(outcome.finishReason, 'content-filter');
  });

  test('content-filter on Azure is a typed LLMContentFilterError', async () => {
    const client = factory.createClient('azure', {
      ...CLIENT,
      endpoint: emulator.url,
      model: 'gpt-4o-deployment',
    });
    await assert.rejects(
      client.complete({ prompt: 'filtered', headers: { 'x-emulator-fault': 'content-filter' } }),
      (error: unknown) =>
        error instanceof LLMContentFilterError && error.status === 400 && error.retryable === false,
    );
    await client.close();
  });

  test('a deadline bounds a hanging call, all attempts included', async () => {
    const started = Date.now();
    const outcome = await run('hang', false, { timeoutMs: 10_000, deadlineMs: 300 });
    const elapsed = Date.now() - started;
    assert.ok(outcome instanceof LLMTimeoutError, 'deadline ends in a timeout error');
    assert.match(outcome.message, /Deadline exceeded/);
    assert.ok(elapsed < 2_000, `ended after ${elapsed} ms`);
  });

  test('rate-limit retries wait the retry-after-ms the server asked for', async () => {
    const before = emulator.requests.length;
    const outcome = await run('rate-limit:2', false);
    assert.ok(!isLLMError(outcome));
    const attempts = emulator.requests.slice(before);
    assert.equal(attempts.length, 3);
    for (let i = 1; i < attempts.length; i++) {
      assert.ok(
        attempts[i]!.receivedAt - attempts[i - 1]!.receivedAt >= 9,
        'waited about retry-after-ms (10 ms)',
      );
    }
  });

  test('a caller abort mid-stream ends the stream with LLMAbortError and frees the socket', async () => {
    const client = factory.createClient('openai/gpt-4o-mini', { ...CLIENT, baseURL: `${emulator.url}/v1` });
    const controller = new AbortController();
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const event of client.stream({
          prompt: 'abort me',
          signal: controller.signal,
          headers: { 'x-emulator-tokens-per-second': '50' },
        })) {
          if (event.type === 'text-delta') {
            text += event.text;
            controller.abort();
          }
        }
      })(),
      (error: unknown) => isLLMError(error) && error.code === 'aborted',
    );
    assert.ok(text.length > 0);
    await client.close();
  });

  test('breaking out of a stream early releases the connection', async () => {
    const client = factory.createClient('openai/gpt-4o-mini', { ...CLIENT, baseURL: `${emulator.url}/v1` });
    for await (const event of client.stream({
      prompt: 'break early',
      headers: { 'x-emulator-tokens-per-second': '100' },
    })) {
      if (event.type === 'text-delta') break;
    }
    const result = await client.complete({ prompt: 'still works after break' });
    assert.ok(result.text.length > 0);
    await client.close();
  });
});

test('after everything is closed: no pool, no socket, no unhandled rejection', async () => {
  await factory.close();
  await emulator.close();
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(openPoolCount(), 0, 'every shared pool closed with its last client');
  const sockets = process
    .getActiveResourcesInfo()
    .filter((name) => /TCP|Socket|Pipe/.test(name) && name !== 'PipeWrap');
  assert.deepEqual(sockets, [], 'no TCP handle left open');
  assert.deepEqual(unhandled, []);
});
