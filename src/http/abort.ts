import { LLMAbortError } from '../spec/errors.ts';

/** Waits `ms`, or rejects with an `LLMAbortError` as soon as `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(abortError(signal));
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortError(signal!));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortError(
  signal: AbortSignal,
  context: { provider?: string; model?: string } = {},
): LLMAbortError {
  const reason = signal.reason as unknown;
  const detail = reason instanceof Error && reason.name !== 'AbortError' ? `: ${reason.message}` : '';
  return new LLMAbortError(`Request aborted by the caller${detail}`, { ...context, cause: reason });
}
