/**
 * What a failed attempt means, written once: whether the call moves to another deployment, and what it
 * does to the deployment's health. Decided on `error.code` only, so errors from another installed copy of
 * the library are judged the same.
 *
 * - Moves on (by default): rate limits, server errors (5xx, 529 overloaded), timeouts, connection failures
 *   and broken responses — the next deployment may well answer; a context window that is too small (only
 *   to a larger window) and a content filter (only to another provider).
 * - Never moves on by default: bad requests (they would fail everywhere), authentication and not-found
 *   (a configuration problem, surfaced rather than hidden), and the caller's own cancellation (never).
 * - Health: 401/403/404 cool the deployment at once; a 429 that says when to come back cools it for that
 *   long; server errors, timeouts, connection failures, broken responses and 429s without a hint count
 *   toward `allowedFails`. Request-shaped failures (bad request, context window, content filter) say
 *   nothing about the deployment and are not counted.
 */
import { isLLMError, type LLMErrorCode } from '../spec/errors.ts';
import { redact } from '../spec/redact.ts';
import type { RouteAttempt } from '../spec/types.ts';

export const DEFAULT_FALLBACKS: readonly LLMErrorCode[] = [
  'rate_limit',
  'server_error',
  'timeout',
  'connection',
  'invalid_response',
  'context_window_exceeded',
  'content_filter',
];

const COUNTED: ReadonlySet<LLMErrorCode> = new Set<LLMErrorCode>([
  'rate_limit',
  'server_error',
  'timeout',
  'connection',
  'invalid_response',
  'unknown',
]);

export interface Verdict {
  /** The call may try another deployment. */
  fallback: boolean;
  /** Cool the deployment down now for this many ms, whatever its failure count. */
  coolForMs: number | undefined;
  /** The failure counts toward `allowedFails`. */
  counted: boolean;
}

const NOT_OURS: Verdict = { fallback: false, coolForMs: undefined, counted: false };

export function judge(error: unknown, fallbacks: ReadonlySet<string>, cooldownMs: number): Verdict {
  if (!isLLMError(error) || error.code === 'aborted') return NOT_OURS;
  const fallback = fallbacks.has(error.code);
  switch (error.code) {
    case 'authentication':
    case 'not_found':
      return { fallback, coolForMs: cooldownMs, counted: false };
    case 'rate_limit':
      if (error.retryAfterMs !== undefined && error.retryAfterMs > 0)
        return { fallback, coolForMs: error.retryAfterMs, counted: false };
      return { fallback, coolForMs: undefined, counted: true };
    default:
      return { fallback, coolForMs: undefined, counted: COUNTED.has(error.code) };
  }
}

/** What a route attempt keeps of an error: enough to see why, nothing that pins the error in memory. */
export function summarize(error: unknown): NonNullable<RouteAttempt['error']> {
  if (isLLMError(error)) {
    const summary: NonNullable<RouteAttempt['error']> = { code: error.code, message: error.message };
    if (error.status !== undefined) summary.status = error.status;
    return summary;
  }
  return { code: 'unknown', message: redact(error instanceof Error ? error.message : String(error)) };
}
