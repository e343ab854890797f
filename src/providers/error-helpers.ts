/**
 * The parts of error mapping every provider shares: which class a status calls for, how a body that is
 * not the expected shape is summarised, and how the error is built (request id, retry hints, redaction) —
 * for an error response, an error inside a successful one, and a response that is not the protocol.
 * Each provider's `errors.ts` adds only what its error bodies say.
 */
import { headerValue, retryAfterMsFromHeaders, shouldRetryFromHeaders } from '../http/retry-timing.ts';
import {
  LLMAuthenticationError,
  LLMBadRequestError,
  LLMError,
  type LLMErrorOptions,
  LLMInvalidResponseError,
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
 * Builds the error of a non-2xx response: "{provider} {status} {code}: {message} (model …, request …)", with
 * the retry hints from the headers, the raw body kept, and every secret redacted.
 */
export function buildError(
  response: ErrorResponse,
  context: CallContext,
  details: ErrorDetails,
  requestIdHeaders: readonly string[],
): LLMError {
  return composeError(String(response.status), response.status, response, context, details, requestIdHeaders);
}

/** Where an error inside a successful response was found: a stream's event, or a whole (non-streamed) body. */
export type InBandPlace = 'stream' | 'body';

/**
 * The error a provider reports inside a successful response (an `error` event mid-stream, a 200 body that is
 * `{"error": …}`). Its class is the one `details` chose (the same error as a response would get); its `status`
 * is the real HTTP status of the response (`context.status`), never one made up from the error's type, which
 * goes in `providerCode`. "{provider} stream error {code}: {message} (model …, request …)".
 */
export function inBandError(
  bodyText: string,
  context: CallContext,
  details: ErrorDetails,
  place: InBandPlace,
): LLMError {
  const label = place === 'stream' ? 'stream error' : 'error in the response body';
  return composeError(label, context.status, { headers: {}, bodyText }, context, details, []);
}

function composeError(
  label: string,
  status: number | undefined,
  response: Pick<ErrorResponse, 'headers' | 'bodyText'>,
  context: CallContext,
  details: ErrorDetails,
  requestIdHeaders: readonly string[],
): LLMError {
  const { headers, bodyText } = response;
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
    `${context.provider} ${label}${code}: ${detail}${details.hint ? ` ${details.hint}` : ''} (${where})`,
    context.secrets,
  );
  const options: LLMErrorOptions = {
    provider: context.provider,
    model: context.model,
    retryable: details.retryable,
    body: redact(bodyText, context.secrets),
  };
  if (status !== undefined) options.status = status;
  if (requestId !== undefined) options.requestId = requestId;
  if (details.providerCode) options.providerCode = details.providerCode;
  const retryAfterMs = details.retryAfterMs ?? retryAfterMsFromHeaders(headers);
  if (retryAfterMs !== undefined) options.retryAfterMs = retryAfterMs;
  const shouldRetry = shouldRetryFromHeaders(headers);
  if (shouldRetry !== undefined) options.shouldRetryHeader = shouldRetry;
  return new details.type(message, options);
}

/** How much of a body an `LLMInvalidResponseError` keeps. */
const INVALID_BODY_CHARS = 4096;

/**
 * A response that is not the protocol: a body that is not JSON, JSON without the fields the protocol
 * promises, a stream cut short. `body` (text, or the parsed value) is kept redacted, like every error body,
 * and cut to 4 KiB. Always retryable, as the README's errors table says: the request is idempotent and such
 * bodies come from proxies and broken connections; the client retries only while nothing was delivered.
 */
export function invalidResponse(
  context: CallContext,
  message: string,
  options: { body?: unknown; cause?: unknown } = {},
): LLMInvalidResponseError {
  const errorOptions: LLMErrorOptions = {
    provider: context.provider,
    model: context.model,
    retryable: true,
  };
  if (context.status !== undefined) errorOptions.status = context.status;
  if (context.requestId !== undefined) errorOptions.requestId = context.requestId;
  if (options.cause !== undefined) errorOptions.cause = options.cause;
  if (options.body !== undefined) {
    const text = typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
    // Redacted before it is cut: a cut through a key would leave a piece no pattern recognises.
    if (text !== undefined) errorOptions.body = redact(text, context.secrets).slice(0, INVALID_BODY_CHARS);
  }
  return new LLMInvalidResponseError(redact(`${context.provider} ${message}`, context.secrets), errorOptions);
}

/** An embeddings response without the vectors asked for; `why` says what is wrong with it. */
export function invalidEmbeddings(context: CallContext, why: string, body: unknown): LLMInvalidResponseError {
  return invalidResponse(context, `returned an invalid embeddings response: ${why}`, { body });
}
