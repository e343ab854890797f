/**
 * The fault matrix for Gemini: every fault kind the emulator injects, on `generateContent` and
 * `streamGenerateContent?alt=sse`, on every attempt and on the first only, must end in a transparent retry
 * or the right typed error after the right number of attempts, with no unhandled rejection and no socket
 * left open once everything is closed. Plus the Gemini-specific answers: RetryInfo, the refusal shape,
 * auth, unknown models and the context window.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import type { ClientOptions } from '../client/options.ts';
import { openPoolCount } from '../http/transport.ts';
import {
  isLLMError,
  LLMAuthenticationError,
  LLMConnectionError,
  LLMContextWindowError,
  type LLMError,
  LLMInvalidResponseError,
  LLMNotFoundError,
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
  apiKey: 'gemini-fault-matrix-key-000000',
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
  // Gemini reports a blocked answer as a result (finishReason SAFETY), not an error.
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

type Outcome = { text: string; finishReason: string; rawFinishReason: string | undefined } | LLMError;

let counter = 0;
async function run(fault: string, stream: boolean, extra: ClientOptions = {}): Promise<Outcome> {
  const client = factory.createClient('gemini/gemini-2.5-flash', {
    ...CLIENT,
    baseURL: emulator.url,
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
      return {
        text: result.text,
        finishReason: result.finishReason,
        rawFinishReason: result.rawFinishReason,
      };
    }
    let text = '';
    let finishReason = '';
    let rawFinishReason: string | undefined;
    for await (const event of client.stream(request)) {
      if (event.type === 'text-delta') text += event.text;
      if (event.type === 'finish') {
        finishReason = event.finishReason;
        rawFinishReason = event.rawFinishReason;
      }
    }
    return { text, finishReason, rawFinishReason };
  } catch (error) {
    assert.ok(isLLMError(error), `a typed error, not ${String(error)}`);
    return error;
  } finally {
    await client.close();
  }
}

function check(outcome: Outcome, expected: Expectation['persistent'] | Expectation['transient']) {
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
  describe(`gemini fault matrix, ${mode}`, () => {
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

describe('gemini fault outcomes in detail', () => {
  test('rate-limit: RetryInfo says the wait, and the retries wait it', async () => {
    const outcome = await run('rate-limit', false, { maxRetries: 0 });
    assert.ok(outcome instanceof LLMRateLimitError);
    assert.equal(outcome.retryAfterMs, 10, 'from the RetryInfo detail ("0.01s")');
    assert.equal(outcome.providerCode, 'RESOURCE_EXHAUSTED');
    assert.match(outcome.body ?? '', /"@type": ?"type\.googleapis\.com\/google\.rpc\.RetryInfo"/);

    const before = emulator.requests.length;
    assert.ok(!isLLMError(await run('rate-limit:2', false)));
    const attempts = emulator.requests.slice(before);
    assert.equal(attempts.length, 3);
    for (let i = 1; i < attempts.length; i++) {
      assert.ok(
        attempts[i]!.receivedAt - attempts[i - 1]!.receivedAt >= 9,
        'waited about the RetryInfo delay (10 ms)',
      );
    }
  });

  test('content-filter: an empty answer with finish reason content-filter (SAFETY), both ways', async () => {
    for (const stream of [false, true]) {
      const outcome = await run('content-filter', stream);
      assert.ok(!isLLMError(outcome));
      assert.deepEqual(outcome, { text: '', finishReason: 'content-filter', rawFinishReason: 'SAFETY' });
    }
  });

  test('stream-error: the text before the failure is delivered, then INTERNAL as a typed error', async () => {
    const client = factory.createClient('gemini/gemini-2.5-flash', { ...CLIENT, baseURL: emulator.url });
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const event of client.stream({
          prompt: 'stream error detail',
          headers: { 'x-emulator-fault': 'stream-error' },
        })) {
          if (event.type === 'text-delta') text += event.text;
        }
      })(),
      (error: unknown) => error instanceof LLMServerError && error.providerCode === 'INTERNAL',
    );
    assert.equal(text, 'You asked:', 'two chunks, then the error');
    await client.close();
  });

  test('overloaded is a 529 whose body says UNAVAILABLE', async () => {
    const outcome = await run('overloaded', false, { maxRetries: 0 });
    assert.ok(outcome instanceof LLMServerError);
    assert.equal(outcome.status, 529);
    assert.equal(outcome.providerCode, 'UNAVAILABLE');
    assert.equal(outcome.retryable, true);
  });

  test('a deadline bounds a hanging call, all attempts included', async () => {
    const started = Date.now();
    const outcome = await run('hang', false, { timeoutMs: 10_000, deadlineMs: 300 });
    assert.ok(outcome instanceof LLMTimeoutError);
    assert.match(outcome.message, /Deadline exceeded/);
    assert.ok(Date.now() - started < 2_000);
  });

  test('a caller abort mid-stream ends with LLMAbortError; breaking out early frees the connection', async () => {
    const client = factory.createClient('gemini/gemini-2.5-flash', { ...CLIENT, baseURL: emulator.url });
    const controller = new AbortController();
    await assert.rejects(
      (async () => {
        for await (const event of client.stream({
          prompt: 'abort me',
          signal: controller.signal,
          headers: { 'x-emulator-tokens-per-second': '50' },
        })) {
          if (event.type === 'text-delta') controller.abort();
        }
      })(),
      (error: unknown) => isLLMError(error) && error.code === 'aborted',
    );
    for await (const event of client.stream({
      prompt: 'break early',
      headers: { 'x-emulator-tokens-per-second': '100' },
    })) {
      if (event.type === 'text-delta') break;
    }
    assert.ok((await client.complete({ prompt: 'still works after break' })).text.length > 0);
    await client.close();
  });
});

describe('gemini emulator refusals', () => {
  test('a wrong key is 400 API_KEY_INVALID, a missing one 403; both LLMAuthenticationError, not retried', async () => {
    const keyed = await startEmulator({ apiKeys: ['the-right-key'] });
    const wrong = factory.createClient('gemini', { ...CLIENT, apiKey: 'the-wrong-key', baseURL: keyed.url });
    await assert.rejects(wrong.complete({ prompt: 'x' }), (error: unknown) => {
      return error instanceof LLMAuthenticationError && error.status === 400 && error.attempts === 1;
    });
    await wrong.close();
    const missing = await fetch(`${keyed.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      body: '{"contents":[{"parts":[{"text":"x"}]}]}',
    });
    assert.equal(missing.status, 403);
    assert.equal(((await missing.json()) as { error: { status: string } }).error.status, 'PERMISSION_DENIED');
    const byQuery = await fetch(
      `${keyed.url}/v1beta/models/gemini-2.5-flash:generateContent?key=the-right-key`,
      {
        method: 'POST',
        body: '{"contents":[{"parts":[{"text":"x"}]}]}',
      },
    );
    assert.equal(byQuery.status, 200, 'the key query parameter is accepted too');
    await keyed.close();
  });

  test('a model the emulator does not serve is LLMNotFoundError; a prompt over the window is LLMContextWindowError', async () => {
    const strict = await startEmulator({ models: ['gemini-2.5-flash'], contextWindow: 20 });
    const other = factory.createClient('gemini/gemini-9-ultra', { ...CLIENT, baseURL: strict.url });
    await assert.rejects(other.complete({ prompt: 'x' }), (error: unknown) => {
      return (
        error instanceof LLMNotFoundError &&
        /models\/gemini-9-ultra is not found for API version v1beta/.test(error.message)
      );
    });
    await other.close();
    const served = factory.createClient('gemini/gemini-2.5-flash', { ...CLIENT, baseURL: strict.url });
    await assert.rejects(served.complete({ prompt: 'word '.repeat(50) }), (error: unknown) => {
      return (
        error instanceof LLMContextWindowError &&
        /The input token count \(\d+\) exceeds the maximum number of tokens allowed \(20\)/.test(
          error.message,
        )
      );
    });
    assert.ok((await served.complete({ prompt: 'short' })).text.length > 0);
    await served.close();
    await strict.close();
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
