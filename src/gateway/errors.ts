/**
 * Errors the gateway answers with, in the client's own protocol: OpenAI's `{ error: { message, type, code,
 * param } }` or Anthropic's `{ type: 'error', error: { type, message } }`, with the status the official SDKs
 * map to the right class (401 unknown key, 403 model not allowed, 413 body too large, 429 rate limit or
 * budget with `Retry-After`, 400 malformed body, 502/503/504 upstream failures).
 */
import { isLLMError, type LLMError } from '../spec/errors.ts';
import { GatewayStateUnavailableError } from './state/errors.ts';
import { UNAVAILABLE_RETRY_MS } from './state/limits.ts';

/** What went wrong, independent of the protocol that reports it. */
export type GatewayErrorKind =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'budget_exceeded'
  | 'upstream_error'
  | 'overloaded_error'
  | 'timeout_error'
  | 'api_error';

export class GatewayError extends Error {
  readonly status: number;
  readonly kind: GatewayErrorKind;
  /** Seconds, for `Retry-After` (429, 503). */
  readonly retryAfterSeconds: number | undefined;
  /** A stable machine code (`budget_exceeded`, `model_not_allowed`, …), in OpenAI's `code`. */
  readonly code: string | undefined;
  /** The status an Anthropic client is answered with when it differs (529 for a provider that is overloaded). */
  readonly anthropicStatus: number;

  constructor(
    status: number,
    kind: GatewayErrorKind,
    message: string,
    options: {
      retryAfterMs?: number | undefined;
      code?: string | undefined;
      anthropicStatus?: number | undefined;
    } = {},
  ) {
    super(message);
    this.status = status;
    this.anthropicStatus = options.anthropicStatus ?? status;
    this.kind = kind;
    this.code = options.code;
    this.retryAfterSeconds =
      options.retryAfterMs === undefined ? undefined : Math.max(1, Math.ceil(options.retryAfterMs / 1000));
  }

  /** Headers the response carries (`Retry-After`). */
  headers(): Record<string, string> {
    return this.retryAfterSeconds === undefined ? {} : { 'retry-after': String(this.retryAfterSeconds) };
  }
}

/**
 * A library error (after the router's fallbacks) → what the client sees. Failures of the upstream that are
 * not the client's fault are 5xx: the gateway's own provider credentials failing is a 502, not the client's
 * 401. The message keeps the provider's words (already scrubbed of keys by the library).
 */
export function fromLLMError(error: LLMError): GatewayError {
  const message = error.message;
  const hint = { retryAfterMs: error.retryAfterMs, code: error.providerCode ?? error.code };
  switch (error.code) {
    case 'bad_request':
    case 'context_window_exceeded':
    case 'content_filter':
    case 'unsupported':
    case 'output_validation':
    case 'output_truncated':
    case 'refusal':
      return new GatewayError(400, 'invalid_request_error', message, hint);
    case 'rate_limit':
      return new GatewayError(429, 'rate_limit_error', message, hint);
    case 'timeout':
      return new GatewayError(504, 'timeout_error', message, hint);
    case 'server_error':
      if (error.status === 529 || error.providerCode === 'overloaded_error')
        // Anthropic's own word for it (its SDK's OverloadedError); OpenAI's clients know 503.
        return new GatewayError(503, 'overloaded_error', message, { ...hint, anthropicStatus: 529 });
      return error.status === 503
        ? new GatewayError(503, 'overloaded_error', message, hint)
        : new GatewayError(502, 'upstream_error', message, hint);
    case 'authentication':
    case 'not_found':
    case 'connection':
    case 'invalid_response':
      return new GatewayError(502, 'upstream_error', message, hint);
    case 'aborted':
      return new GatewayError(499, 'api_error', message, hint);
    default:
      return new GatewayError(500, 'api_error', message, hint);
  }
}

/** Any thrown value → a gateway error (a bug is a 500 that says nothing of its internals). */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  // The gateway's own state store, not the provider: a 503 to come back to, as a refused reservation is.
  if (error instanceof GatewayStateUnavailableError) {
    return new GatewayError(503, 'overloaded_error', error.message, {
      retryAfterMs: UNAVAILABLE_RETRY_MS,
      code: 'state_unavailable',
    });
  }
  if (isLLMError(error)) return fromLLMError(error);
  return new GatewayError(500, 'api_error', 'The gateway failed to handle this request');
}

const OPENAI_TYPE: Record<GatewayErrorKind, string> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  not_found_error: 'invalid_request_error',
  request_too_large: 'invalid_request_error',
  rate_limit_error: 'rate_limit_exceeded',
  budget_exceeded: 'insufficient_quota',
  upstream_error: 'api_error',
  overloaded_error: 'server_error',
  timeout_error: 'timeout',
  api_error: 'api_error',
};

export function openAIErrorBody(error: GatewayError): Record<string, unknown> {
  return {
    error: {
      message: error.message,
      type: OPENAI_TYPE[error.kind],
      param: null,
      code: error.code ?? error.kind,
    },
  };
}

const ANTHROPIC_TYPE: Record<GatewayErrorKind, string> = {
  invalid_request_error: 'invalid_request_error',
  authentication_error: 'authentication_error',
  permission_error: 'permission_error',
  not_found_error: 'not_found_error',
  request_too_large: 'request_too_large',
  rate_limit_error: 'rate_limit_error',
  budget_exceeded: 'rate_limit_error',
  upstream_error: 'api_error',
  overloaded_error: 'overloaded_error',
  timeout_error: 'api_error',
  api_error: 'api_error',
};

export function anthropicErrorBody(error: GatewayError): Record<string, unknown> {
  return { type: 'error', error: { type: ANTHROPIC_TYPE[error.kind], message: error.message } };
}

/** The error body of the protocol a path speaks: Anthropic's under `/v1/messages`, OpenAI's elsewhere. */
export function errorBodyFor(path: string, error: GatewayError): Record<string, unknown> {
  return path.startsWith('/v1/messages') ? anthropicErrorBody(error) : openAIErrorBody(error);
}

/** A failure after a stream began, as an event of the client's protocol: never a clean end. */
export function inBandError(protocol: 'openai' | 'anthropic', error: GatewayError): string {
  return protocol === 'openai'
    ? `data: ${JSON.stringify(openAIErrorBody(error))}\n\n`
    : `event: error\ndata: ${JSON.stringify(anthropicErrorBody(error))}\n\n`;
}
