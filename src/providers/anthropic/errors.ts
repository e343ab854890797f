/**
 * Anthropic error bodies → typed errors. The documented body is
 * `{type:'error', error:{type, message}, request_id?}`; its `error.type` names the class. Bodies of any
 * other shape (HTML from a proxy, OpenAI-style JSON from a gateway, nothing at all) get the class their
 * status calls for, with the text kept (redacted) in `body`.
 */
import { type HeaderMap, headerValue, retryAfterMsFromHeaders } from '../../http/retry-timing.ts';
import { LLMContextWindowError, type LLMError, LLMRateLimitError } from '../../spec/errors.ts';
import { isRecord } from '../../spec/json.ts';
import {
  buildError,
  CONTEXT_WINDOW_TEXT,
  classForStatus,
  type ErrorClass,
  type ErrorDetails,
  inBandError,
} from '../error-helpers.ts';
import type { CallContext, ErrorResponse } from '../provider.ts';

/** Response headers that carry Anthropic's request id. */
export const ANTHROPIC_REQUEST_ID_HEADERS = ['request-id', 'x-request-id'] as const;

/** The HTTP status each documented error type comes with. */
export const ANTHROPIC_ERROR_STATUS: Readonly<Record<string, number>> = {
  invalid_request_error: 400,
  authentication_error: 401,
  billing_error: 402,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

export interface ParsedAnthropicError {
  type?: string;
  message?: string;
  /** The body's top-level `request_id`. */
  requestId?: string;
}

/** Pulls type, message and request id out of whatever the body is. */
export function parseAnthropicErrorBody(bodyText: string): ParsedAnthropicError {
  let json: unknown;
  try {
    json = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    return {};
  }
  if (!isRecord(json)) return {};
  const parsed: ParsedAnthropicError = {};
  if (typeof json.request_id === 'string' && json.request_id) parsed.requestId = json.request_id;
  const error = json.error;
  if (typeof error === 'string' && error) parsed.message = error;
  else if (isRecord(error)) {
    if (typeof error.type === 'string' && error.type) parsed.type = error.type;
    if (typeof error.message === 'string' && error.message) parsed.message = error.message;
  }
  return parsed;
}

/** The class and retryability an error type calls for; the HTTP status when the type is unknown. */
export function classifyAnthropicError(
  status: number,
  parsed: ParsedAnthropicError,
): { type: ErrorClass; retryable: boolean } {
  const typeStatus = parsed.type === undefined ? undefined : ANTHROPIC_ERROR_STATUS[parsed.type];
  const effective = typeStatus ?? status;
  if (
    (parsed.type === 'invalid_request_error' || (typeStatus === undefined && status === 400)) &&
    CONTEXT_WINDOW_TEXT.test(parsed.message ?? '')
  ) {
    return { type: LLMContextWindowError, retryable: false };
  }
  // 529 (overloaded_error) is ≥ 500: a retryable LLMServerError, like a 503.
  return classForStatus(effective);
}

/**
 * When a 429 carries no `retry-after`, the earliest `anthropic-ratelimit-*-reset` (RFC 3339) still in the
 * future says when a limit refills. Undefined when there is none.
 */
export function rateLimitResetMs(headers: HeaderMap, now = Date.now()): number | undefined {
  let earliest: number | undefined;
  for (const name of Object.keys(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith('anthropic-ratelimit-') || !lower.endsWith('-reset')) continue;
    const at = Date.parse(headerValue(headers, name) ?? '');
    if (Number.isNaN(at) || at <= now) continue;
    const wait = at - now;
    if (earliest === undefined || wait < earliest) earliest = wait;
  }
  return earliest;
}

export function mapAnthropicError(response: ErrorResponse, context: CallContext): LLMError {
  const parsed = parseAnthropicErrorBody(response.bodyText);
  const classified = classifyAnthropicError(response.status, parsed);
  const details: ErrorDetails = {
    ...classified,
    message: parsed.message,
    providerCode: parsed.type,
    requestId: context.requestId ?? parsed.requestId,
  };
  if (classified.type === LLMRateLimitError && retryAfterMsFromHeaders(response.headers) === undefined) {
    details.retryAfterMs = rateLimitResetMs(response.headers);
  }
  return buildError(response, context, details, ANTHROPIC_REQUEST_ID_HEADERS);
}

/**
 * An `event: error` inside a 200 stream, classed like the same error type as a response (overloaded_error →
 * retryable LLMServerError, rate_limit_error → LLMRateLimitError, an unknown type → a server error), with
 * the response's real status and the type in `providerCode`. `data` is kept as the body.
 */
export function mapAnthropicStreamError(data: string, context: CallContext): LLMError {
  const parsed = parseAnthropicErrorBody(data);
  return inBandError(
    data,
    context,
    {
      ...classifyAnthropicError(500, parsed),
      message: parsed.message,
      providerCode: parsed.type,
      requestId: context.requestId ?? parsed.requestId,
    },
    'stream',
  );
}
