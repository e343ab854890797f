/**
 * OpenAI-family error bodies → typed errors. The body may be anything: the documented
 * `{error:{message,type,param,code}}`, a bare string, HTML from a proxy, or nothing at all. Every shape
 * yields the class its status and codes call for, with the text kept (redacted) in `body`.
 */
import { headerValue, retryAfterMsFromHeaders, shouldRetryFromHeaders } from '../../http/retry-timing.ts';
import {
  LLMAuthenticationError,
  LLMBadRequestError,
  LLMContentFilterError,
  LLMContextWindowError,
  LLMError,
  type LLMErrorOptions,
  LLMNotFoundError,
  LLMRateLimitError,
  LLMServerError,
  LLMTimeoutError,
} from '../../spec/errors.ts';
import { redact } from '../../spec/redact.ts';
import type { CallContext, ErrorResponse } from '../provider.ts';

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null;

export interface ParsedErrorBody {
  message?: string;
  type?: string;
  code?: string;
  param?: string;
  json?: unknown;
}

/** Pulls message, type and code out of whatever the body is. */
export function parseOpenAIErrorBody(bodyText: string): ParsedErrorBody {
  let json: unknown;
  try {
    json = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    return {};
  }
  const error = isObject(json) && 'error' in json ? json.error : json;
  if (typeof error === 'string') return { message: error, json };
  if (!isObject(error)) return { json };
  const str = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  const parsed: ParsedErrorBody = { json };
  const message = str(error.message);
  const type = str(error.type);
  const code = str(error.code) ?? (typeof error.code === 'number' ? String(error.code) : undefined);
  const param = str(error.param);
  if (message) parsed.message = message;
  if (type) parsed.type = type;
  if (code) parsed.code = code;
  if (param) parsed.param = param;
  return parsed;
}

const CONTEXT_WINDOW =
  /context[_ ]length[_ ]exceeded|maximum context length|context window|prompt is too long|too many tokens|reduce the length/i;

/** A short, single-line excerpt of a body that is not JSON (an HTML error page, say). */
function excerpt(text: string): string {
  const flat = text
    .replace(/<[^>]*>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > 200 ? `${flat.slice(0, 200)}…` : flat;
}

export type ErrorClass = new (message: string, options?: LLMErrorOptions) => LLMError;

/** The class and retryability a status and provider code call for. */
export function classifyOpenAIError(
  status: number,
  parsed: ParsedErrorBody,
): { type: ErrorClass; retryable: boolean } {
  const codes = `${parsed.code ?? ''} ${parsed.type ?? ''}`;
  if (/content_filter|content_policy_violation/.test(codes))
    return { type: LLMContentFilterError, retryable: false };
  if (
    /context_length_exceeded|string_above_max_length/.test(codes) ||
    CONTEXT_WINDOW.test(parsed.message ?? '')
  ) {
    if (status === 400 || status === 413 || status === 422)
      return { type: LLMContextWindowError, retryable: false };
  }
  if (status === 401 || status === 403) return { type: LLMAuthenticationError, retryable: false };
  if (status === 404) return { type: LLMNotFoundError, retryable: false };
  if (status === 408) return { type: LLMTimeoutError, retryable: true };
  if (status === 409) return { type: LLMServerError, retryable: true };
  if (status === 429) {
    // An exhausted quota or billing limit does not come back in seconds: retrying only burns time.
    const exhausted = /insufficient_quota|billing_hard_limit|quota_exceeded/.test(codes);
    return { type: LLMRateLimitError, retryable: !exhausted };
  }
  if (status >= 500) return { type: LLMServerError, retryable: true };
  if (status >= 400) return { type: LLMBadRequestError, retryable: false };
  return { type: LLMError, retryable: false };
}

export function mapOpenAIError(response: ErrorResponse, context: CallContext): LLMError {
  const { status, headers, bodyText } = response;
  const parsed = parseOpenAIErrorBody(bodyText);
  const { type, retryable } = classifyOpenAIError(status, parsed);
  const headerId = headerValue(headers, 'x-request-id') ?? headerValue(headers, 'apim-request-id');
  const requestId =
    context.requestId ?? (headerId === undefined ? undefined : redact(headerId, context.secrets));
  const detail = parsed.message ?? (bodyText ? excerpt(bodyText) : 'no body');
  const label = parsed.code ?? parsed.type;
  const message = redact(
    `${context.provider} ${status}${label ? ` ${label}` : ''}: ${detail} (model ${context.model}${requestId ? `, request ${requestId}` : ''})`,
    context.secrets,
  );
  const options: LLMErrorOptions = {
    provider: context.provider,
    model: context.model,
    status,
    retryable,
    body: redact(bodyText, context.secrets),
  };
  if (requestId !== undefined) options.requestId = requestId;
  if (parsed.code ?? parsed.type) options.providerCode = parsed.code ?? parsed.type;
  const retryAfterMs = retryAfterMsFromHeaders(headers);
  if (retryAfterMs !== undefined) options.retryAfterMs = retryAfterMs;
  const shouldRetry = shouldRetryFromHeaders(headers);
  if (shouldRetry !== undefined) options.shouldRetryHeader = shouldRetry;
  return new type(message, options);
}

/** An `{error:…}` object that arrives inside a 200 stream: typed like the same error as a response. */
export function mapOpenAIStreamError(payload: unknown, context: CallContext): LLMError {
  const bodyText = JSON.stringify(payload);
  const parsed = parseOpenAIErrorBody(bodyText);
  const code = `${parsed.code ?? ''} ${parsed.type ?? ''}`;
  let status = 500;
  if (/rate_limit/.test(code)) status = 429;
  else if (/invalid_request|content_filter|context_length/.test(code)) status = 400;
  const error = mapOpenAIError({ status, headers: {}, bodyText }, context);
  if (status === 500)
    error.message = error.message.replace(`${context.provider} 500`, `${context.provider} stream error`);
  return error;
}
