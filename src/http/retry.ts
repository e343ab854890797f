/**
 * The retry policy, written once and used by every provider, streaming or not. The one loop that applies
 * it is the retry layer (`middleware/retry.ts`), which every call goes through.
 *
 * - Retries what the error marks `retryable` (408, 409, 429 except exhausted quota, 5xx, 529, connection
 *   failures, attempt timeouts), unless the server said `x-should-retry: false`; `x-should-retry: true`
 *   makes any error retryable.
 * - Waits what the server asked (`retry-after-ms`, `retry-after`) when that is within `maxRetryAfterMs`;
 *   a longer hint ends the retries at once so the caller can decide (the error carries `retryAfterMs`).
 * - Otherwise exponential backoff with jitter.
 * - Never waits past the deadline; the wait is cancelled by the caller's signal.
 */
import type { LLMError } from '../spec/errors.ts';
import { type BackoffOptions, backoffDelayMs } from './retry-timing.ts';

export interface RetryOptions extends BackoffOptions {
  /** Retries after the first attempt. Default 2, so 3 attempts in all. */
  maxRetries: number;
  /** Longest server-requested wait we honour. Default 60 000. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxRetries: 2,
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  jitter: 0.25,
  maxRetryAfterMs: 60_000,
};

/**
 * The wait before attempt `attempt + 1`, or undefined when `error` must not be retried.
 * `attempt` counts from 1.
 */
export function retryDelayMs(
  error: LLMError,
  attempt: number,
  policy: RetryOptions,
  deadlineAt?: number,
): number | undefined {
  const retryable = error.shouldRetryHeader ?? error.retryable;
  if (!retryable || attempt > policy.maxRetries) return undefined;
  let delay: number;
  if (error.retryAfterMs !== undefined) {
    if (error.retryAfterMs > policy.maxRetryAfterMs) return undefined;
    delay = error.retryAfterMs;
  } else {
    delay = backoffDelayMs(attempt, policy);
  }
  if (deadlineAt !== undefined && Date.now() + delay >= deadlineAt) return undefined;
  return delay;
}

/** Records the history on the error that ends the operation and says how many attempts were made. */
export function finalizeError(error: LLMError, attempt: number, history: LLMError[]): LLMError {
  error.attempts = attempt;
  error.attemptErrors = history.includes(error) ? history : [...history, error];
  if (attempt > 1 && !error.message.endsWith('attempts)')) {
    error.message = `${error.message} (after ${attempt} attempts)`;
  }
  return error;
}
