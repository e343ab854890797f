/**
 * OpenAI-family error bodies → typed errors. The body may be anything: the documented
 * `{error:{message,type,param,code}}`, a bare string, HTML from a proxy, or nothing at all. Every shape
 * yields the class its status and codes call for, with the text kept (redacted) in `body`.
 */
import {
  LLMContentFilterError,
  LLMContextWindowError,
  type LLMError,
  LLMRateLimitError,
} from '../../spec/errors.ts';
import { isRecord } from '../../spec/json.ts';
import {
  buildError,
  CONTEXT_WINDOW_TEXT,
  classForStatus,
  type ErrorClass,
  inBandError,
} from '../error-helpers.ts';
import type { CallContext, ErrorResponse } from '../provider.ts';

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
  const error = isRecord(json) && 'error' in json ? json.error : json;
  if (typeof error === 'string') return { message: error, json };
  if (!isRecord(error)) return { json };
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
    CONTEXT_WINDOW_TEXT.test(parsed.message ?? '')
  ) {
    if (status === 400 || status === 413 || status === 422)
      return { type: LLMContextWindowError, retryable: false };
  }
  if (status === 429) {
    // An exhausted quota or billing limit does not come back in seconds: retrying only burns time.
    const exhausted = /insufficient_quota|billing_hard_limit|quota_exceeded/.test(codes);
    return { type: LLMRateLimitError, retryable: !exhausted };
  }
  return classForStatus(status);
}

export function mapOpenAIError(response: ErrorResponse, context: CallContext): LLMError {
  const parsed = parseOpenAIErrorBody(response.bodyText);
  return buildError(
    response,
    context,
    {
      ...classifyOpenAIError(response.status, parsed),
      message: parsed.message,
      providerCode: parsed.code ?? parsed.type,
    },
    ['x-request-id', 'apim-request-id'],
  );
}

/**
 * An `{error:…}` object that arrives inside a 200 stream: classed like the same error as a response (a
 * rate limit as a 429, an invalid request as a 400, anything else as a 500), with the response's real status.
 */
export function mapOpenAIStreamError(payload: unknown, context: CallContext): LLMError {
  const bodyText = JSON.stringify(payload);
  const parsed = parseOpenAIErrorBody(bodyText);
  const codes = `${parsed.code ?? ''} ${parsed.type ?? ''}`;
  const asResponse = /rate_limit/.test(codes)
    ? 429
    : /invalid_request|content_filter|context_length/.test(codes)
      ? 400
      : 500;
  return inBandError(
    bodyText,
    context,
    {
      ...classifyOpenAIError(asResponse, parsed),
      message: parsed.message,
      providerCode: parsed.code ?? parsed.type,
    },
    'stream',
  );
}
