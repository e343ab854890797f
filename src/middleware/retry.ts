/**
 * Retry as a layer, the one retry loop of the library: below logging, tracing, metrics, spend and the cache,
 * which see one call however many attempts it took; above the rate limiter, which sees every attempt (each
 * takes a slot and budget, each 429 reaches its adaptive limit). The policy itself — what is retryable, how
 * long to wait — is written once in `http/retry.ts`.
 */
import { sleep } from '../http/abort.ts';
import { finalizeError, type RetryOptions, retryDelayMs } from '../http/retry.ts';
import { isLLMError, type LLMError } from '../spec/errors.ts';
import type { StreamEvent } from '../spec/types.ts';
import type { CallInfo, Middleware } from './types.ts';

export interface RetryObserver {
  /** Called before each wait with the error that caused it. */
  onRetry?(call: CallInfo, error: LLMError, attempt: number, delayMs: number): void;
}

export function retryMiddleware(policy: RetryOptions, observer: RetryObserver = {}): Middleware {
  async function run<T>(
    call: CallInfo,
    attemptFn: (attempt: number) => Promise<T>,
    operation = call.operation,
  ): Promise<T> {
    const history: LLMError[] = [];
    for (let attempt = 1; ; attempt++) {
      try {
        return await attemptFn(attempt);
      } catch (error) {
        if (!isLLMError(error)) throw error;
        history.push(error);
        const delay = retryDelayMs(error, attempt, policy, call.deadlineAt, operation);
        if (delay === undefined) throw finalizeError(error, attempt, history);
        observer.onRetry?.(call, error, attempt, delay);
        await sleep(delay, call.signal);
      }
    }
  }

  return {
    name: 'retry',
    // The call object is made per call by the client, so the attempt number is set on it in place.
    complete: (request, call, next) =>
      run(call, (attempt) => {
        call.attempt = attempt;
        return next(request, call);
      }),
    embed: (batch, call, next) =>
      run(call, (attempt) => next(batch, attempt === 1 ? call : { ...call, attempt })),
    countTokens: (request, call, next) =>
      run(call, (attempt) => {
        call.attempt = attempt;
        return next(request, call);
      }),
    // A native call is retried until its response starts (a whole answer: until it is read); what comes
    // back is the caller's. A generation's timeouts are held back as a completion's and a stream's are.
    forward: (native, call, next) =>
      run(
        call,
        (attempt) => {
          call.attempt = attempt;
          return next(native, call);
        },
        native.protocol === 'openai-chat' || native.protocol === 'anthropic-messages'
          ? native.stream
            ? 'stream'
            : 'complete'
          : call.operation,
      ),
    async *stream(request, call, next) {
      const history: LLMError[] = [];
      for (let attempt = 1; ; attempt++) {
        let produced = false;
        try {
          for await (const event of next(request, { ...call, attempt })) {
            produced = true;
            yield event as StreamEvent;
          }
          return;
        } catch (error) {
          if (!isLLMError(error)) throw error;
          history.push(error);
          // Once the caller has seen output, a retry would repeat it: never.
          const delay = produced
            ? undefined
            : retryDelayMs(error, attempt, policy, call.deadlineAt, call.operation);
          if (delay === undefined) throw finalizeError(error, attempt, history);
          observer.onRetry?.(call, error, attempt, delay);
          await sleep(delay, call.signal);
        }
      }
    },
  };
}
