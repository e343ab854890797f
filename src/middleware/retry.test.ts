/**
 * The one retry loop (the retry layer) on its own: what it retries, what it keeps of every attempt, and
 * what ends it. Each case drives the layer's `countTokens`, whose `next` fails as each case needs.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_RETRY } from '../http/retry.ts';
import type { NormalizedRequest, RequestTokenCount } from '../providers/provider.ts';
import { LLMAbortError, LLMBadRequestError, LLMRateLimitError, LLMServerError } from '../spec/errors.ts';
import { type RetryObserver, retryMiddleware } from './retry.ts';
import type { CallInfo } from './types.ts';

const fast = { ...DEFAULT_RETRY, initialDelayMs: 1, maxDelayMs: 4 };
const request: NormalizedRequest = {
  model: 'm',
  messages: [{ role: 'user', content: [{ type: 'text', text: 'count me' }] }],
};
const COUNT: RequestTokenCount = { inputTokens: 3, exact: true, source: 'endpoint' };

/** Runs `attempt` (given the attempt number) under the retry layer. */
function retried(
  attempt: (number: number) => Promise<RequestTokenCount>,
  options: { policy?: typeof fast; observer?: RetryObserver; signal?: AbortSignal } = {},
): Promise<RequestTokenCount> {
  const call: CallInfo = {
    provider: 'anthropic',
    model: 'm',
    operation: 'count-tokens',
    credentialHash: 'test',
    signal: options.signal,
    attempt: 1,
  };
  const layer = retryMiddleware(options.policy ?? fast, options.observer);
  return layer.countTokens!(request, call, (_request, inner) => attempt(inner.attempt));
}

describe('the retry loop', () => {
  test('succeeds after transient failures, reports each retry and numbers each attempt', async () => {
    const seen: number[] = [];
    const attempts: number[] = [];
    const result = await retried(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw new LLMServerError(`fail ${attempt}`, { retryable: true });
        return COUNT;
      },
      { observer: { onRetry: (_call, _error, attempt) => seen.push(attempt) } },
    );
    assert.equal(result, COUNT);
    assert.deepEqual(seen, [1, 2]);
    assert.deepEqual(attempts, [1, 2, 3]);
  });

  test('the final error counts the attempts and keeps every attempt’s error', async () => {
    const error = await retried(async (attempt) => {
      throw new LLMServerError(`fail ${attempt}`, { retryable: true });
    }).catch((e: unknown) => e as LLMServerError);
    assert.ok(error instanceof LLMServerError);
    assert.equal(error.attempts, 3);
    assert.deepEqual(
      error.attemptErrors.map((e) => e.message.replace(/ \(after.*/, '')),
      ['fail 1', 'fail 2', 'fail 3'],
    );
    assert.match(error.message, /after 3 attempts/);
  });

  test('non-retryable errors are thrown at once', async () => {
    let calls = 0;
    await assert.rejects(
      retried(async () => {
        calls++;
        throw new LLMBadRequestError('bad');
      }),
      LLMBadRequestError,
    );
    assert.equal(calls, 1);
  });

  test('an abort during the backoff wait ends it at once with LLMAbortError', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = retried(
      async () => {
        throw new LLMRateLimitError('slow down', { retryable: true, retryAfterMs: 30_000 });
      },
      { policy: DEFAULT_RETRY, signal: controller.signal },
    );
    setTimeout(() => controller.abort(), 20);
    await assert.rejects(pending, LLMAbortError);
    assert.ok(Date.now() - started < 10_000, 'did not wait out the 30 s hint');
  });

  test('bugs (non-LLM errors) are not retried', async () => {
    let calls = 0;
    await assert.rejects(
      retried(async () => {
        calls++;
        throw new TypeError('bug');
      }),
      TypeError,
    );
    assert.equal(calls, 1);
  });
});
