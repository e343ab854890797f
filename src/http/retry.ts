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
 * - A generation that timed out once the server had its request is not retried (unless
 *   `generationTimeouts`): the provider is probably still generating, and bills a retry as a second answer.
 */
import type { LLMError, LLMTimeoutError } from '../spec/errors.ts';
import { type BackoffOptions, backoffDelayMs } from './retry-timing.ts';

export interface RetryOptions extends BackoffOptions {
  /** Retries after the first attempt. Default 2, so 3 attempts in all. */
  maxRetries: number;
  /** Longest server-requested wait we honour. Default 60 000. */
  maxRetryAfterMs: number;
  /**
   * Retry a generation that timed out once the server had the request (see `isGenerationTimeout`).
   * Default false: it is probably still generating, and would bill a retry as a second answer.
   */
  generationTimeouts: boolean;
}

export const DEFAULT_RETRY: RetryOptions = {
  maxRetries: 2,
  initialDelayMs: 500,
  maxDelayMs: 8_000,
  jitter: 0.25,
  maxRetryAfterMs: 60_000,
  generationTimeouts: false,
};

/**
 * True when `error` is a timeout that fired while the server held the request of a generation
 * (`operation` 'complete' or 'stream', before any output reached the caller): a non-streaming completion
 * that got no response (its answer only comes once generated), or a response that began and went silent.
 * The provider has probably generated, or is still generating, an answer it bills; a retry pays again.
 * A stream that gets no headers is not one of these: a stream's headers come at once.
 */
export function isGenerationTimeout(error: LLMError, operation: string | undefined): boolean {
  if (error.code !== 'timeout' || (operation !== 'complete' && operation !== 'stream')) return false;
  const phase = (error as LLMTimeoutError).phase;
  return phase === 'body' || (phase === 'headers' && operation === 'complete');
}

/** Why a generation timeout is not retried, and what to do instead; appended to its message. */
function holdBack(error: LLMError): void {
  error.retryable = false;
  const why =
    (error as LLMTimeoutError).phase === 'headers'
      ? `the request had been sent, so ${error.provider ?? 'the provider'} is probably still generating the answer and would bill a retry as a second one. Raise \`timeoutMs\`, stream the answer,`
      : `the response had begun, so the answer is being (or was) generated and a retry would be billed as a second one. Raise \`streamIdleTimeoutMs\``;
  error.message = `${error.message}; not retried: ${why} or set \`retry.generationTimeouts: true\` to retry anyway`;
}

/**
 * The wait before attempt `attempt + 1`, or undefined when `error` must not be retried. `attempt`
 * counts from 1; `operation` is the call's (`CallInfo.operation`). A generation timeout held back is
 * marked not retryable and its message says why.
 */
export function retryDelayMs(
  error: LLMError,
  attempt: number,
  policy: RetryOptions,
  deadlineAt?: number,
  operation?: string,
): number | undefined {
  const retryable = error.shouldRetryHeader ?? error.retryable;
  if (!retryable || attempt > policy.maxRetries) return undefined;
  if (!policy.generationTimeouts && isGenerationTimeout(error, operation)) {
    holdBack(error);
    return undefined;
  }
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
