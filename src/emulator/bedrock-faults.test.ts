/**
 * The fault matrix for Bedrock: every fault kind the emulator injects, streaming (binary eventstream) and
 * not, on every attempt and on the first attempt only, must end in a transparent retry or the right typed
 * error, with every attempt freshly SigV4-signed, no unhandled rejection and no socket left open.
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
import { GUARDRAIL_TEXT } from './bedrock-converse.ts';
import { type Emulator, FAULT_KINDS, type FaultKind, startEmulator } from './index.ts';

type ErrorClass = abstract new (...args: never[]) => LLMError;

interface Expectation {
  persistent: { type: ErrorClass; attempts: number } | 'succeeds';
  transient: 'recovers' | { type: ErrorClass; attempts: number };
}

const CLIENT: ClientOptions = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'EMULATORKEYID', secretAccessKey: 'emulator-secret' },
  maxRetries: 2,
  timeoutMs: 400,
  streamIdleTimeoutMs: 250,
  retry: { initialDelayMs: 5, maxDelayMs: 20 },
};

const NON_STREAMING: Record<FaultKind, Expectation> = {
  'rate-limit': { persistent: { type: LLMRateLimitError, attempts: 3 }, transient: 'recovers' },
  'server-error': { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  unavailable: { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  // Bedrock has no 529: overloaded is its 503 ServiceUnavailableException.
  overloaded: { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  hang: { persistent: { type: LLMTimeoutError, attempts: 3 }, transient: 'recovers' },
  stall: { persistent: { type: LLMTimeoutError, attempts: 3 }, transient: 'recovers' },
  reset: { persistent: { type: LLMConnectionError, attempts: 3 }, transient: 'recovers' },
  malformed: { persistent: { type: LLMInvalidResponseError, attempts: 3 }, transient: 'recovers' },
  'stream-error': { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  // A guardrail intervention is a result (stopReason guardrail_intervened), not an error.
  'content-filter': { persistent: 'succeeds', transient: 'recovers' },
};

const STREAMING: Record<FaultKind, Expectation> = {
  ...NON_STREAMING,
  // Output was delivered before the fault: never retried, a typed error at once.
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

interface Outcome {
  text: string;
  finishReason: string;
  rawFinishReason: string | undefined;
}

let counter = 0;
async function run(fault: string, stream: boolean, extra: ClientOptions = {}): Promise<Outcome | LLMError> {
  const client = factory.createClient('bedrock', { ...CLIENT, baseURL: emulator.url, ...extra });
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
    const outcome: Outcome = { text: '', finishReason: '', rawFinishReason: undefined };
    for await (const event of client.stream(request)) {
      if (event.type === 'text-delta') outcome.text += event.text;
      if (event.type === 'finish') {
        outcome.finishReason = event.finishReason;
        outcome.rawFinishReason = event.rawFinishReason;
      }
    }
    return outcome;
  } catch (error) {
    assert.ok(isLLMError(error), `a typed error, not ${String(error)}`);
    return error;
  } finally {
    await client.close();
  }
}

function check(outcome: Outcome | LLMError, expected: Expectation['persistent'] | Expectation['transient']) {
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
  assert.equal(outcome.provider, 'bedrock');
  assert.equal(outcome.attempts, expected.attempts, `attempts for ${outcome.message}`);
  assert.equal(outcome.attemptErrors.length, expected.attempts);
}

for (const [mode, table] of [
  ['non-streaming', NON_STREAMING],
  ['streaming', STREAMING],
] as const) {
  describe(`bedrock fault matrix, ${mode}`, () => {
    for (const kind of FAULT_KINDS) {
      test(`${kind} on every attempt`, async () => {
        const before = emulator.requests.length;
        const started = Date.now();
        check(await run(kind, mode === 'streaming'), table[kind].persistent);
        // rate-limit waits retry-after (1 s, Bedrock's hint is whole seconds) twice.
        assert.ok(Date.now() - started < 5_000, 'ends well within the timeouts × attempts');
        const expected = table[kind].persistent;
        const attempts = emulator.requests.slice(before);
        assert.equal(
          attempts.length,
          expected === 'succeeds' ? 1 : expected.attempts,
          'requests the server saw',
        );
        const signatures = attempts.map((attempt) => String(attempt.headers.authorization));
        assert.ok(
          signatures.every((value) => value.startsWith('AWS4-HMAC-SHA256 Credential=EMULATORKEYID/')),
        );
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

describe('bedrock fault outcomes in detail', () => {
  test('content-filter is the guardrail reply with stopReason guardrail_intervened, both ways', async () => {
    for (const stream of [false, true]) {
      const outcome = await run('content-filter', stream);
      assert.ok(!isLLMError(outcome));
      assert.deepEqual(outcome, {
        text: GUARDRAIL_TEXT,
        finishReason: 'content-filter',
        rawFinishReason: 'guardrail_intervened',
      });
    }
  });

  test('rate-limit is a ThrottlingException with retry-after in whole seconds', async () => {
    const outcome = await run('rate-limit', false, { maxRetries: 0 });
    assert.ok(outcome instanceof LLMRateLimitError);
    assert.equal(outcome.status, 429);
    assert.equal(outcome.providerCode, 'ThrottlingException');
    assert.equal(outcome.retryAfterMs, 1000, 'retryAfterMs 10 rounds up to retry-after: 1');
    assert.match(outcome.message, /Too many requests, please wait before trying again\./);
    assert.match(outcome.requestId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test('server-error, unavailable and overloaded carry their exception names', async () => {
    const cases: Array<[string, number, string]> = [
      ['server-error', 500, 'InternalServerException'],
      ['unavailable', 503, 'ServiceUnavailableException'],
      ['overloaded', 503, 'ServiceUnavailableException'],
      ['stream-error', 500, 'InternalServerException'],
    ];
    for (const [fault, status, name] of cases) {
      const outcome = await run(fault, false, { maxRetries: 0 });
      assert.ok(outcome instanceof LLMServerError, fault);
      assert.equal(outcome.status, status, fault);
      assert.equal(outcome.providerCode, name, fault);
    }
  });

  test('stream-error: two deltas, then a modelStreamErrorException frame', async () => {
    const client = factory.createClient('bedrock', { ...CLIENT, baseURL: emulator.url });
    const texts: string[] = [];
    const error = await (async () => {
      for await (const event of client.stream({
        prompt: 'stream error detail',
        headers: { 'x-emulator-fault': 'stream-error' },
      })) {
        if (event.type === 'text-delta') texts.push(event.text);
      }
    })().then(
      () => assert.fail('expected a stream error'),
      (caught: unknown) => caught,
    );
    await client.close();
    assert.equal(texts.length, 2);
    assert.ok(error instanceof LLMServerError);
    assert.equal(error.providerCode, 'modelStreamErrorException');
    assert.match(error.message, /^bedrock stream error modelStreamErrorException:/);
  });

  test('malformed stream: the first frame has a broken CRC', async () => {
    const outcome = await run('malformed', true, { maxRetries: 0 });
    assert.ok(outcome instanceof LLMInvalidResponseError);
    assert.match(outcome.message, /checksum/);
  });

  test('a deadline bounds a hanging call, all attempts included', async () => {
    const started = Date.now();
    const outcome = await run('hang', false, { timeoutMs: 10_000, deadlineMs: 300 });
    assert.ok(outcome instanceof LLMTimeoutError);
    assert.match(outcome.message, /Deadline exceeded/);
    assert.ok(Date.now() - started < 2_000);
  });

  test('a caller abort mid-stream ends the stream with LLMAbortError', async () => {
    const client = factory.createClient('bedrock', { ...CLIENT, baseURL: emulator.url });
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
    const client = factory.createClient('bedrock', { ...CLIENT, baseURL: emulator.url });
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
