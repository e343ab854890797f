/**
 * The fault matrix on Anthropic's protocol: every fault kind the emulator injects, streaming and not,
 * on every attempt and on the first only, must end in a transparent retry or the right typed error, with
 * Anthropic's own shapes on the wire (429 rate_limit_error with retry-after and x-should-retry, 529
 * overloaded_error, `event: error` mid-stream, stop_reason refusal), no unhandled rejection and no socket
 * left open once everything is closed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import type { ClientOptions } from '../client/options.ts';
import { openPoolCount } from '../http/transport.ts';
import {
  isLLMError,
  LLMConnectionError,
  type LLMError,
  LLMInvalidResponseError,
  LLMRateLimitError,
  LLMServerError,
  LLMTimeoutError,
} from '../spec/errors.ts';
import type { CompletionRequest } from '../spec/types.ts';
import { ANTHROPIC_REFUSAL_TEXT } from './anthropic-messages.ts';
import { type Emulator, FAULT_KINDS, type FaultKind, startEmulator } from './index.ts';

type ErrorClass = abstract new (...args: never[]) => LLMError;

interface Expectation {
  /** Persistent fault: the error class and how many attempts it takes, or a (refused) success. */
  persistent: { type: ErrorClass; attempts: number } | 'succeeds';
  /** Fault on the first attempt only: recovered transparently, or this error. */
  transient: 'recovers' | { type: ErrorClass; attempts: number };
}

const KEY = 'sk-ant-fault-matrix-0000000000';
const CLIENT: ClientOptions = {
  apiKey: KEY,
  maxRetries: 2,
  timeoutMs: 400,
  streamIdleTimeoutMs: 250,
  retry: { initialDelayMs: 5, maxDelayMs: 20 },
};

const NON_STREAMING: Record<FaultKind, Expectation> = {
  // retry-after is whole seconds on Anthropic (1 s here): the retries wait it.
  'rate-limit': { persistent: { type: LLMRateLimitError, attempts: 3 }, transient: 'recovers' },
  'server-error': { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  unavailable: { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  overloaded: { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  hang: { persistent: { type: LLMTimeoutError, attempts: 3 }, transient: 'recovers' },
  stall: { persistent: { type: LLMTimeoutError, attempts: 3 }, transient: 'recovers' },
  reset: { persistent: { type: LLMConnectionError, attempts: 3 }, transient: 'recovers' },
  malformed: { persistent: { type: LLMInvalidResponseError, attempts: 3 }, transient: 'recovers' },
  'stream-error': { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  // Anthropic reports a refusal as a message with stop_reason "refusal", not as an error.
  'content-filter': { persistent: 'succeeds', transient: 'recovers' },
};

const STREAMING: Record<FaultKind, Expectation> = {
  ...NON_STREAMING,
  // Output was produced before the fault: never retried, a typed error at once.
  stall: {
    persistent: { type: LLMTimeoutError, attempts: 1 },
    transient: { type: LLMTimeoutError, attempts: 1 },
  },
  // `event: error` with overloaded_error after two text deltas: retryable in itself, but too late.
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

after(() => {
  process.off('unhandledRejection', onUnhandled);
});

let counter = 0;
async function run(
  fault: string,
  stream: boolean,
  extra: ClientOptions = {},
): Promise<{ text: string; finishReason: string; requests: number } | LLMError> {
  const client = factory.createClient('anthropic/claude-sonnet-4-5', {
    ...CLIENT,
    baseURL: emulator.url,
    ...extra,
  });
  // A distinct prompt per run, so the emulator's per-request fault counters start afresh.
  const request: CompletionRequest = {
    prompt: `fault ${fault} ${stream} ${counter++}`,
    headers: { 'x-emulator-fault': fault },
  };
  const before = emulator.requests.length;
  try {
    if (!stream) {
      const result = await client.complete(request);
      return {
        text: result.text,
        finishReason: result.finishReason,
        requests: emulator.requests.length - before,
      };
    }
    let text = '';
    let finishReason = '';
    for await (const event of client.stream(request)) {
      if (event.type === 'text-delta') text += event.text;
      if (event.type === 'finish') finishReason = event.finishReason;
    }
    return { text, finishReason, requests: emulator.requests.length - before };
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
  assert.equal(outcome.provider, 'anthropic');
  assert.equal(outcome.attempts, expected.attempts, `attempts for ${outcome.message}`);
  assert.equal(outcome.attemptErrors.length, expected.attempts);
}

for (const [mode, table] of [
  ['non-streaming', NON_STREAMING],
  ['streaming', STREAMING],
] as const) {
  describe(`anthropic fault matrix, ${mode}`, () => {
    for (const kind of FAULT_KINDS) {
      test(`${kind} on every attempt`, async () => {
        check(await run(kind, mode === 'streaming'), table[kind].persistent);
      });
      test(`${kind} on the first attempt only`, async () => {
        const outcome = await run(`${kind}:1`, mode === 'streaming');
        check(outcome, table[kind].transient);
        if (table[kind].transient === 'recovers' && kind !== 'content-filter') {
          assert.ok(!isLLMError(outcome));
          assert.ok(outcome.text.startsWith('You asked: “fault'), outcome.text);
          assert.equal(outcome.finishReason, 'stop');
          assert.equal(outcome.requests, 2, 'one failed attempt, one good one');
        }
      });
    }
  });
}

describe('anthropic fault outcomes in detail', () => {
  for (const stream of [false, true]) {
    test(`content-filter is a refusal: the refusal text with finish reason content-filter${stream ? ', streamed' : ''}`, async () => {
      const outcome = await run('content-filter', stream);
      assert.ok(!isLLMError(outcome));
      assert.equal(outcome.finishReason, 'content-filter');
      assert.equal(outcome.text, ANTHROPIC_REFUSAL_TEXT);
      assert.equal(outcome.requests, 1, 'a refusal is not retried');
    });
  }

  test('rate-limit: 429 rate_limit_error with retry-after, x-should-retry and the rate-limit headers', async () => {
    const response = await fetch(`${emulator.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': KEY,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
        'x-emulator-fault': 'rate-limit',
      },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    const body = (await response.json()) as { type: string; error: { type: string }; request_id: string };
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), '1', '10 ms rounded up to whole seconds');
    assert.equal(response.headers.get('x-should-retry'), 'true');
    assert.equal(response.headers.get('anthropic-ratelimit-requests-remaining'), '0');
    assert.ok(!Number.isNaN(Date.parse(response.headers.get('anthropic-ratelimit-requests-reset') ?? '')));
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'rate_limit_error');
    assert.equal(body.request_id, response.headers.get('request-id'));
    assert.match(body.request_id, /^req_/);
  });

  test('a rate-limit error carries the retry-after the server asked for', async () => {
    const outcome = await run('rate-limit', false, { maxRetries: 0 });
    assert.ok(outcome instanceof LLMRateLimitError);
    assert.equal(outcome.retryAfterMs, 1000);
    assert.equal(outcome.shouldRetryHeader, true);
    assert.equal(outcome.providerCode, 'rate_limit_error');
    assert.match(outcome.requestId ?? '', /^req_/);
  });

  test('overloaded is a 529 overloaded_error; server-error a 500 api_error', async () => {
    const overloaded = await run('overloaded', false, { maxRetries: 0 });
    assert.ok(isLLMError(overloaded));
    assert.equal(overloaded.status, 529);
    assert.equal(overloaded.providerCode, 'overloaded_error');
    assert.equal(overloaded.retryable, true);
    const server = await run('server-error', false, { maxRetries: 0 });
    assert.ok(isLLMError(server));
    assert.equal(server.status, 500);
    assert.equal(server.providerCode, 'api_error');
  });

  test('stream-error: event: error with overloaded_error after exactly two text deltas', async () => {
    const response = await fetch(`${emulator.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': KEY,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
        'x-emulator-fault': 'stream-error',
      },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: 'stream then fail' }],
      }),
    });
    const sse = await response.text();
    const events = [...sse.matchAll(/^event: (\S+)$/gm)].map((match) => match[1]);
    assert.deepEqual(events, [
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'error',
    ]);
    assert.match(sse, /"type":"overloaded_error","message":"Overloaded"/);
    const streamed = await run('stream-error', true, { maxRetries: 0 });
    assert.ok(streamed instanceof LLMServerError);
    assert.equal(streamed.providerCode, 'overloaded_error');
    assert.match(streamed.message, /anthropic stream error/);
  });

  test('a deadline bounds a hanging call, all attempts included', async () => {
    const outcome = await run('hang', false, { timeoutMs: 10_000, deadlineMs: 300 });
    assert.ok(outcome instanceof LLMTimeoutError, 'deadline ends in a timeout error');
    assert.match(outcome.message, /Deadline exceeded/);
  });

  test('a caller abort mid-stream ends the stream with LLMAbortError', async () => {
    const client = factory.createClient('anthropic/claude-sonnet-4-5', { ...CLIENT, baseURL: emulator.url });
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
    const client = factory.createClient('anthropic/claude-sonnet-4-5', { ...CLIENT, baseURL: emulator.url });
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
