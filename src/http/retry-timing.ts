/**
 * Reading the server's retry hints, and the backoff used when there is none. Written down once here;
 * the retry policy and the rate limiter both use it.
 */

export type HeaderMap = Record<string, string | string[] | undefined>;

export function headerValue(headers: HeaderMap, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/**
 * The delay the server asked for, in milliseconds: `retry-after-ms` (OpenAI), then `retry-after` as
 * seconds or as an HTTP date. Undefined when there is no usable hint.
 */
export function retryAfterMsFromHeaders(headers: HeaderMap, now = Date.now()): number | undefined {
  const ms = headerValue(headers, 'retry-after-ms');
  if (ms !== undefined) {
    const value = Number.parseFloat(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headerValue(headers, 'retry-after');
  if (after === undefined || after.trim() === '') return undefined;
  const seconds = Number(after);
  if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
  const date = Date.parse(after);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - now);
}

/** `x-should-retry: true|false` as a boolean, or undefined when absent. */
export function shouldRetryFromHeaders(headers: HeaderMap): boolean | undefined {
  const value = headerValue(headers, 'x-should-retry');
  if (value === 'true') return true;
  if (value === 'false') return false;
  return undefined;
}

export interface BackoffOptions {
  /** Delay before the first retry, before jitter. */
  initialDelayMs: number;
  /** Ceiling for the exponential delay. */
  maxDelayMs: number;
  /** Fraction of the delay removed at random (0 = none, 1 = full jitter). */
  jitter: number;
}

/** Exponential backoff with jitter for retry number `retry` (1 for the first retry). */
export function backoffDelayMs(retry: number, options: BackoffOptions, random = Math.random): number {
  const base = Math.min(options.initialDelayMs * 2 ** (retry - 1), options.maxDelayMs);
  return base * (1 - options.jitter * random());
}
