import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LLMBadRequestError, LLMRateLimitError, LLMServerError } from '../spec/errors.ts';
import { DEFAULT_RETRY, retryDelayMs } from './retry.ts';
import { backoffDelayMs, retryAfterMsFromHeaders, shouldRetryFromHeaders } from './retry-timing.ts';

const fast = { ...DEFAULT_RETRY, initialDelayMs: 1, maxDelayMs: 4 };

describe('retry hints', () => {
  test('retry-after-ms wins over retry-after', () => {
    assert.equal(retryAfterMsFromHeaders({ 'retry-after-ms': '250.5', 'retry-after': '9' }), 250.5);
  });
  test('retry-after in seconds, fractional too', () => {
    assert.equal(retryAfterMsFromHeaders({ 'retry-after': '2' }), 2000);
    assert.equal(retryAfterMsFromHeaders({ 'retry-after': '0.5' }), 500);
  });
  test('retry-after as an HTTP date', () => {
    const now = Date.parse('Wed, 25 Nov 2026 12:00:00 GMT');
    assert.equal(retryAfterMsFromHeaders({ 'retry-after': 'Wed, 25 Nov 2026 12:00:03 GMT' }, now), 3000);
    assert.equal(retryAfterMsFromHeaders({ 'retry-after': 'Wed, 25 Nov 2026 11:00:00 GMT' }, now), 0);
  });
  test('garbage and negatives are no hint', () => {
    assert.equal(retryAfterMsFromHeaders({ 'retry-after': 'soon' }), undefined);
    assert.equal(retryAfterMsFromHeaders({ 'retry-after-ms': '-5' }), undefined);
    assert.equal(retryAfterMsFromHeaders({}), undefined);
  });
  test('x-should-retry', () => {
    assert.equal(shouldRetryFromHeaders({ 'x-should-retry': 'true' }), true);
    assert.equal(shouldRetryFromHeaders({ 'x-should-retry': 'false' }), false);
    assert.equal(shouldRetryFromHeaders({}), undefined);
  });
  test('backoff grows exponentially to the cap, jitter only shortens it', () => {
    const options = { initialDelayMs: 500, maxDelayMs: 8000, jitter: 0.25 };
    assert.equal(
      backoffDelayMs(1, options, () => 0),
      500,
    );
    assert.equal(
      backoffDelayMs(3, options, () => 0),
      2000,
    );
    assert.equal(
      backoffDelayMs(10, options, () => 0),
      8000,
    );
    assert.equal(
      backoffDelayMs(1, options, () => 1),
      375,
    );
  });
});

describe('retry decisions', () => {
  const server = () => new LLMServerError('boom', { retryable: true });
  test('retryable errors are retried up to maxRetries', () => {
    assert.notEqual(retryDelayMs(server(), 1, fast), undefined);
    assert.notEqual(retryDelayMs(server(), 2, fast), undefined);
    assert.equal(retryDelayMs(server(), 3, fast), undefined);
  });
  test('x-should-retry overrides the status both ways', () => {
    assert.equal(
      retryDelayMs(new LLMServerError('x', { retryable: true, shouldRetryHeader: false }), 1, fast),
      undefined,
    );
    assert.notEqual(
      retryDelayMs(new LLMBadRequestError('x', { shouldRetryHeader: true }), 1, fast),
      undefined,
    );
  });
  test('the server hint is used as is when within the cap, and ends retries when beyond it', () => {
    assert.equal(
      retryDelayMs(new LLMRateLimitError('x', { retryable: true, retryAfterMs: 1234 }), 1, fast),
      1234,
    );
    assert.equal(
      retryDelayMs(new LLMRateLimitError('x', { retryable: true, retryAfterMs: 120_000 }), 1, fast),
      undefined,
    );
  });
  test('no wait that would pass the deadline', () => {
    const error = new LLMRateLimitError('x', { retryable: true, retryAfterMs: 5000 });
    assert.equal(retryDelayMs(error, 1, fast, Date.now() + 1000), undefined);
  });
});
