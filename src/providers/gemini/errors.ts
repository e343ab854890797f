/**
 * Gemini error bodies → typed errors. The API answers with a `google.rpc.Status`
 * (`{error:{code, message, status, details:[…]}}`), some endpoints with an array of one; proxies with
 * HTML or nothing. The canonical `status` name decides the class where there is one, the HTTP status
 * otherwise; a `RetryInfo` detail gives the wait.
 */
import {
  LLMAuthenticationError,
  LLMBadRequestError,
  LLMContextWindowError,
  type LLMError,
  LLMNotFoundError,
  LLMRateLimitError,
  LLMServerError,
} from '../../spec/errors.ts';
import { isRecord, type Json } from '../../spec/json.ts';
import {
  buildError,
  CONTEXT_WINDOW_TEXT,
  classForStatus,
  type ErrorClass,
  type InBandPlace,
  inBandError,
} from '../error-helpers.ts';
import type { CallContext, ErrorResponse } from '../provider.ts';

/** Response headers that may carry a request id (the API sends none; proxies and gateways do). */
export const GEMINI_REQUEST_ID_HEADERS: readonly string[] = ['x-request-id'];

/** What a `google.rpc.Status` body says, as far as it says it. */
export interface GoogleStatus {
  /** The numeric code in the body (the HTTP status, or a gRPC-style one such as 499 mid-stream). */
  code?: number;
  message?: string;
  /** The canonical name: `INVALID_ARGUMENT`, `RESOURCE_EXHAUSTED`, … */
  status?: string;
  details: Json[];
}

const RETRY_INFO = 'type.googleapis.com/google.rpc.RetryInfo';
const DURATION = /^\s*(\d+(?:\.\d+)?)s\s*$/;

/** A `google.rpc.Status` from a parsed body: `{error:{…}}`, `[{error:{…}}]`, or the status itself. */
export function googleStatusOf(json: unknown): GoogleStatus | undefined {
  const first = Array.isArray(json) ? json[0] : json;
  const error = isRecord(first) && 'error' in first ? first.error : first;
  if (typeof error === 'string' && error) return { message: error, details: [] };
  if (!isRecord(error)) return undefined;
  const parsed: GoogleStatus = {
    details: Array.isArray(error.details) ? (error.details.filter(isRecord) as Json[]) : [],
  };
  if (typeof error.code === 'number') parsed.code = error.code;
  if (typeof error.message === 'string' && error.message) parsed.message = error.message;
  if (typeof error.status === 'string' && error.status) parsed.status = error.status;
  return parsed;
}

/** Pulls the status out of whatever the body is; an empty status when it is not JSON. */
export function parseGeminiErrorBody(bodyText: string): GoogleStatus {
  let json: unknown;
  try {
    json = bodyText ? JSON.parse(bodyText) : undefined;
  } catch {
    return { details: [] };
  }
  return googleStatusOf(json) ?? { details: [] };
}

/** The wait a `RetryInfo` detail asks for, in ms: `retryDelay` is a protobuf Duration ("30s", "1.5s"). */
export function retryInfoDelayMs(details: readonly Json[]): number | undefined {
  for (const detail of details) {
    if (detail['@type'] !== RETRY_INFO) continue;
    const delay = detail.retryDelay;
    const match = typeof delay === 'string' ? DURATION.exec(delay) : null;
    if (match) return Math.round(Number(match[1]) * 1000);
    if (isRecord(delay) && (delay.seconds !== undefined || delay.nanos !== undefined)) {
      return Math.round(Number(delay.seconds ?? 0) * 1000 + Number(delay.nanos ?? 0) / 1e6);
    }
  }
  return undefined;
}

function reasonsOf(details: readonly Json[]): string[] {
  return details.flatMap((detail) => (typeof detail.reason === 'string' ? [detail.reason] : []));
}

/** The class and retryability a status name (or, without one, the HTTP status) calls for. */
export function classifyGeminiError(
  httpStatus: number,
  parsed: GoogleStatus,
): { type: ErrorClass; retryable: boolean } {
  // `API_KEY_INVALID` comes as a 400 INVALID_ARGUMENT; every `API_KEY_*` reason is a credential problem.
  if (reasonsOf(parsed.details).some((reason) => reason.startsWith('API_KEY_'))) {
    return { type: LLMAuthenticationError, retryable: false };
  }
  const tooLong = CONTEXT_WINDOW_TEXT.test(parsed.message ?? '');
  switch (parsed.status) {
    case 'RESOURCE_EXHAUSTED':
      return { type: LLMRateLimitError, retryable: true };
    case 'INVALID_ARGUMENT':
    case 'FAILED_PRECONDITION':
    case 'OUT_OF_RANGE':
      return { type: tooLong ? LLMContextWindowError : LLMBadRequestError, retryable: false };
    case 'UNAUTHENTICATED':
    case 'PERMISSION_DENIED':
      return { type: LLMAuthenticationError, retryable: false };
    case 'NOT_FOUND':
      return { type: LLMNotFoundError, retryable: false };
    case 'INTERNAL':
    case 'UNAVAILABLE':
    case 'DEADLINE_EXCEEDED':
    case 'UNKNOWN':
    case 'ABORTED':
    case 'CANCELLED':
      return { type: LLMServerError, retryable: true };
    default:
      if (tooLong && (httpStatus === 400 || httpStatus === 413)) {
        return { type: LLMContextWindowError, retryable: false };
      }
      return classForStatus(httpStatus);
  }
}

/** A non-2xx response → a typed error, with the RetryInfo wait when there is one. Never throws. */
export function mapGeminiError(response: ErrorResponse, context: CallContext): LLMError {
  const parsed = parseGeminiErrorBody(response.bodyText);
  return buildError(
    response,
    context,
    {
      ...classifyGeminiError(response.status, parsed),
      message: parsed.message,
      providerCode: parsed.status,
      retryAfterMs: retryInfoDelayMs(parsed.details),
    },
    GEMINI_REQUEST_ID_HEADERS,
  );
}

/**
 * An `{error:…}` object that arrives inside a 200 (mid-stream, or as a whole body): classed by its status
 * name, else by its `code` as if that were the response's status (500 when it has none). The error keeps the
 * response's real status; the status name goes in `providerCode`, and the body keeps the `code`.
 */
export function mapGeminiBodyError(payload: unknown, context: CallContext, place: InBandPlace): LLMError {
  const bodyText = typeof payload === 'string' ? payload : JSON.stringify(payload);
  const parsed = googleStatusOf(typeof payload === 'string' ? undefined : payload) ?? { details: [] };
  const code = parsed.code !== undefined && parsed.code >= 400 && parsed.code < 600 ? parsed.code : 500;
  return inBandError(
    bodyText,
    context,
    {
      ...classifyGeminiError(code, parsed),
      message: parsed.message,
      providerCode: parsed.status,
      retryAfterMs: retryInfoDelayMs(parsed.details),
    },
    place,
  );
}
