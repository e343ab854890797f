/**
 * The fault matrix every provider must pass, written once: every fault kind the emulator injects,
 * streaming and not, on every attempt and on the first only, ends in a transparent retry or the right
 * typed error, with the right number of attempts, no unhandled rejection and no socket left open.
 * Each provider's `*-faults.test.ts` calls `describeFaultMatrix` and adds the details of its own wire.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Pool } from 'undici';
import { LLMClientFactory } from '../client/factory.ts';
import type { LLMClient } from '../client/llm-client.ts';
import type { ClientOptions } from '../client/options.ts';
import {
  type Emulator,
  type EmulatorOptions,
  FAULT_KINDS,
  type FaultKind,
  startEmulator,
} from '../emulator/index.ts';
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
import { preloadTokenizer } from './preload.ts';

export type ErrorClass = abstract new (...args: never[]) => LLMError;

export interface Expectation {
  /** Persistent fault: the error class and how many attempts it takes, or a success (a refusal). */
  persistent: { type: ErrorClass; attempts: number } | 'succeeds';
  /** Fault on the first attempt only: recovered transparently, or this error. */
  transient: 'recovers' | { type: ErrorClass; attempts: number };
}

export type Outcome =
  | { text: string; finishReason: string; rawFinishReason: string | undefined; requests: number }
  | LLMError;

/** Short timeouts and backoff so that the matrix runs in seconds. */
export const FAULT_CLIENT: ClientOptions = {
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
  // The server had the request and may be generating (or has generated) an answer it bills: not retried.
  hang: {
    persistent: { type: LLMTimeoutError, attempts: 1 },
    transient: { type: LLMTimeoutError, attempts: 1 },
  },
  stall: {
    persistent: { type: LLMTimeoutError, attempts: 1 },
    transient: { type: LLMTimeoutError, attempts: 1 },
  },
  reset: { persistent: { type: LLMConnectionError, attempts: 3 }, transient: 'recovers' },
  malformed: { persistent: { type: LLMInvalidResponseError, attempts: 3 }, transient: 'recovers' },
  'stream-error': { persistent: { type: LLMServerError, attempts: 3 }, transient: 'recovers' },
  // A refusal is an answer (finish reason content-filter), not an error, unless the provider says otherwise.
  'content-filter': { persistent: 'succeeds', transient: 'recovers' },
};

const STREAMING: Record<FaultKind, Expectation> = {
  ...NON_STREAMING,
  // A stream's headers come at once: none in time means it never started, and a retry is safe.
  hang: { persistent: { type: LLMTimeoutError, attempts: 3 }, transient: 'recovers' },
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

/** Waits, one poll every 10 ms for up to 5 s, until `done()` holds; fails with `why()` if it never does. */
async function eventually(done: () => boolean, why: () => string): Promise<void> {
  for (let polls = 0; !done(); polls++) {
    if (polls === 500) assert.fail(why());
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export interface FaultRig {
  readonly emulator: Emulator;
  readonly factory: LLMClientFactory;
  /** One call with `x-emulator-fault: fault` through a fresh client; a typed error is returned, not thrown. */
  run(fault: string, stream: boolean, extra?: ClientOptions): Promise<Outcome>;
}

export interface RigSettings {
  provider: string;
  /** The provider's client for the emulator at `url`, with `options` applied. */
  client(factory: LLMClientFactory, url: string, options: ClientOptions): LLMClient;
  emulator?: EmulatorOptions;
  /** Changes to the standard expectations (e.g. Azure's content filter is an error). */
  nonStreaming?: Partial<Record<FaultKind, Expectation>>;
  streaming?: Partial<Record<FaultKind, Expectation>>;
}

/**
 * Registers the emulator's lifecycle, the matrix, and the final "nothing left open" test; returns the rig
 * for the file's own detail tests (register those between this call and the end of the file).
 */
export function describeFaultMatrix(settings: RigSettings): FaultRig {
  const factory = new LLMClientFactory({ env: {} });
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  let emulator: Emulator | undefined;
  let counter = 0;

  before(async () => {
    process.on('unhandledRejection', onUnhandled);
    preloadTokenizer();
    emulator = await startEmulator({ retryAfterMs: 10, ...settings.emulator });
  });
  after(async () => {
    process.off('unhandledRejection', onUnhandled);
    await factory.close();
    await emulator?.close();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(openPoolCount(), 0, 'every shared pool closed with its last client');
    const sockets = process
      .getActiveResourcesInfo()
      .filter((name) => /TCP|Socket|Pipe/.test(name) && name !== 'PipeWrap');
    assert.deepEqual(sockets, [], 'no TCP handle left open');
    assert.deepEqual(unhandled, [], 'no unhandled rejection');
  });

  const rig: FaultRig = {
    get emulator() {
      if (!emulator) throw new Error('the emulator starts in before()');
      return emulator;
    },
    factory,
    async run(fault, stream, extra = {}) {
      const client = settings.client(factory, rig.emulator.url, { ...FAULT_CLIENT, ...extra });
      // A distinct prompt per run, so the emulator's per-request fault counters start afresh.
      const request: CompletionRequest = {
        prompt: `fault ${fault} ${stream} ${counter++}`,
        headers: { 'x-emulator-fault': fault },
      };
      const before = rig.emulator.requests.length;
      try {
        if (!stream) {
          const result = await client.complete(request);
          return {
            text: result.text,
            finishReason: result.finishReason,
            rawFinishReason: result.rawFinishReason,
            requests: rig.emulator.requests.length - before,
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
        return { text, finishReason, rawFinishReason, requests: rig.emulator.requests.length - before };
      } catch (error) {
        assert.ok(isLLMError(error), `a typed error, not ${String(error)}`);
        return error;
      } finally {
        await client.close();
      }
    },
  };

  const check = (outcome: Outcome, expected: Expectation['persistent'] | Expectation['transient']) => {
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
    assert.equal(outcome.provider, settings.provider);
    assert.equal(outcome.attempts, expected.attempts, `attempts for ${outcome.message}`);
    assert.equal(outcome.attemptErrors.length, expected.attempts);
  };

  for (const [mode, table] of [
    ['non-streaming', { ...NON_STREAMING, ...settings.nonStreaming }],
    ['streaming', { ...STREAMING, ...settings.streaming }],
  ] as const) {
    describe(`${settings.provider} fault matrix, ${mode}`, () => {
      for (const kind of FAULT_KINDS) {
        test(`${kind} on every attempt`, async () => {
          check(await rig.run(kind, mode === 'streaming'), table[kind].persistent);
        });
        test(`${kind} on the first attempt only`, async () => {
          const outcome = await rig.run(`${kind}:1`, mode === 'streaming');
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
  describe(`${settings.provider} deadlines and cancellation`, () => {
    const client = () => settings.client(factory, rig.emulator.url, FAULT_CLIENT);

    test('a deadline bounds a hanging call, all attempts included', async () => {
      const outcome = await rig.run('hang', false, { timeoutMs: 10_000, deadlineMs: 300 });
      assert.ok(outcome instanceof LLMTimeoutError, 'the deadline ends in a timeout error');
      assert.match(outcome.message, /Deadline exceeded/);
    });

    test('a caller abort mid-stream ends the stream with LLMAbortError', async () => {
      const llm = client();
      const controller = new AbortController();
      let text = '';
      await assert.rejects(
        (async () => {
          const request = {
            prompt: 'abort me',
            signal: controller.signal,
            headers: { 'x-emulator-tokens-per-second': '50' },
          };
          for await (const event of llm.stream(request)) {
            if (event.type === 'text-delta') {
              text += event.text;
              controller.abort();
            }
          }
        })(),
        (error: unknown) => isLLMError(error) && error.code === 'aborted',
      );
      assert.ok(text.length > 0, 'output came before the abort');
      await llm.close();
    });

    test('breaking out of a stream early releases the connection', async () => {
      // A pool of one connection, and a stream the server stalls after its first deltas and never ends
      // (no idle timeout either): only the client breaking out can give that connection back.
      const pool = new Pool(rig.emulator.url, { connections: 1 });
      const llm = settings.client(factory, rig.emulator.url, {
        ...FAULT_CLIENT,
        streamIdleTimeoutMs: 60_000,
        dispatcher: pool,
      });
      try {
        let deltas = 0;
        for await (const event of llm.stream({
          prompt: 'break early',
          headers: { 'x-emulator-fault': 'stall' },
        })) {
          if (event.type === 'text-delta' && ++deltas === 1) break;
        }
        assert.equal(deltas, 1, 'output came before the break');
        await eventually(
          () => pool.stats.running === 0 && pool.stats.pending === 0,
          () => `the stalled stream still holds its connection: ${JSON.stringify(pool.stats)}`,
        );
        const result = await llm.complete({ prompt: 'still works after break' });
        assert.ok(result.text.startsWith('You asked: “still works after break'), result.text);
        assert.equal(pool.stats.running, 0);
      } finally {
        await llm.close();
        await pool.destroy(); // close() would wait for a connection that was never given back
      }
    });
  });
  return rig;
}
