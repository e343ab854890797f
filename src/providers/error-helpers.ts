/**
 * The parts of error mapping every provider shares: which class a status calls for, how a body that is
 * not the expected shape is summarised, and how the error is built (request id, retry hints, redaction).
 * Each provider's `errors.ts` adds only what its error bodies say.
 */
import { headerValue, retryAfterMsFromHeaders, shouldRetryFromHeaders } from '../http/retry-timing.ts';
import {
  LLMAuthenticationError,
  LLMBadRequestError,
  LLMError,
  type LLMErrorOptions,
  LLMNotFoundError,
  LLMRateLimitError,
  LLMServerError,
  LLMTimeoutError,
} from '../spec/errors.ts';
import { redact } from '../spec/redact.ts';
import type { CallContext, ErrorResponse } from './provider.ts';

export type ErrorClass = new (message: string, options?: LLMErrorOptions) => LLMError;

/** The class and retryability a bare HTTP status calls for. */
export function classForStatus(status: number): { type: ErrorClass; retryable: boolean } {
  if (status === 401 || status === 403) return { type: LLMAuthenticationError, retryable: false };
  if (status === 404) return { type: LLMNotFoundError, retryable: false };
  if (status === 408) return { type: LLMTimeoutError, retryable: true };
  if (status === 409) return { type: LLMServerError, retryable: true };
  if (status === 429) return { type: LLMRateLimitError, retryable: true };
  if (status >= 500) return { type: LLMServerError, retryable: true };
  if (status >= 400) return { type: LLMBadRequestError, retryable: false };
  return { type: LLMError, retryable: false };
}

/** Phrases providers use when a prompt is too long for the model. */
export const CONTEXT_WINDOW_TEXT =
  /context[_ ]length[_ ]exceeded|maximum context length|context window|prompt is too long|too many (?:input )?tokens|input is too long|reduce the length|exceeds the maximum (?:number of )?tokens/i;

/** A short, single-line excerpt of a body that is not JSON (an HTML error page, say). */
export function excerpt(text: string): string {
  const flat = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

export function tryParseJson(text: string): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export interface ErrorDetails {
  type: ErrorClass;
  retryable: boolean;
  /** The provider's message, when the body had one. */
  message?: string | undefined;
  /** The provider's own code or type. */
  providerCode?: string | undefined;
  /** Overrides the request id found in the headers (some providers put it in the body). */
  requestId?: string | undefined;
  /** Overrides the retry hint found in the headers (e.g. Gemini's RetryInfo). */
  retryAfterMs?: number | undefined;
  /** Appended to the message: what to do about it. */
  hint?: string | undefined;
}

/**
 * Builds the error: "{provider} {status} {code}: {message} (model …, request …)", with the retry hints
 * from the headers, the raw body kept, and every secret redacted.
 */
export function buildError(
  response: ErrorResponse,
  context: CallContext,
  details: ErrorDetails,
  requestIdHeaders: readonly string[],
): LLMError {
  const { status, headers, bodyText } = response;
  let requestId = details.requestId ?? context.requestId;
  if (requestId === undefined) {
    for (const name of requestIdHeaders) {
      const value = headerValue(headers, name);
      if (value) {
        requestId = value;
        break;
      }
    }
  }
  if (requestId !== undefined) requestId = redact(requestId, context.secrets);
  const detail = details.message ?? (bodyText ? excerpt(bodyText) : 'no body');
  const code = details.providerCode ? ` ${details.providerCode}` : '';
  const where = `model ${context.model}${requestId ? `, request ${requestId}` : ''}`;
  const message = redact(
    `${context.provider} ${status}${code}: ${detail}${details.hint ? ` ${details.hint}` : ''} (${where})`,
    context.secrets,
  );
  const options: LLMErrorOptions = {
    provider: context.provider,
    model: context.model,
    status,
    retryable: details.retryable,
    body: redact(bodyText, context.secrets),
  };
  if (requestId !== undefined) options.requestId = requestId;
  if (details.providerCode) options.providerCode = details.providerCode;
  const retryAfterMs = details.retryAfterMs ?? retryAfterMsFromHeaders(headers);
  if (retryAfterMs !== undefined) options.retryAfterMs = retryAfterMs;
  const shouldRetry = shouldRetryFromHeaders(headers);
  if (shouldRetry !== undefined) options.shouldRetryHeader = shouldRetry;
  return new details.type(message, options);
}
