/**
 * One error hierarchy for every provider. Each error keeps everything a caller or an operator needs
 * (status, provider, model, request id, the raw body, the cause, every attempt) and leaks nothing:
 * messages and bodies pass through `redact` before they are stored.
 *
 * Match on `error.code` (a stable string) or `isLLMError(error)`, not only on `instanceof`, so that two
 * installed copies of this package still understand each other's errors.
 */

export type LLMErrorCode =
  | 'authentication'
  | 'rate_limit'
  | 'timeout'
  | 'connection'
  | 'bad_request'
  | 'context_window_exceeded'
  | 'content_filter'
  | 'not_found'
  | 'server_error'
  | 'invalid_response'
  | 'configuration'
  | 'aborted'
  | 'unsupported'
  | 'output_validation'
  | 'output_truncated'
  | 'refusal'
  | 'unknown';

import type { RouteInfo } from './types.ts';

const MARKER = Symbol.for('llm-factory.error');

export interface LLMErrorOptions {
  provider?: string;
  model?: string;
  status?: number;
  requestId?: string;
  retryable?: boolean;
  /** The raw response body as text, whatever its shape. */
  body?: string;
  /** The provider's own error code or type (e.g. `insufficient_quota`, `ResponsibleAIPolicyViolation`). */
  providerCode?: string;
  /** Server hint for when to try again, in milliseconds. */
  retryAfterMs?: number;
  /** `true`/`false` when the server said so with `x-should-retry`. */
  shouldRetryHeader?: boolean;
  cause?: unknown;
}

export class LLMError extends Error {
  readonly code: LLMErrorCode = 'unknown';
  readonly provider: string | undefined;
  readonly model: string | undefined;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  retryable: boolean;
  readonly body: string | undefined;
  readonly providerCode: string | undefined;
  readonly retryAfterMs: number | undefined;
  readonly shouldRetryHeader: boolean | undefined;
  /** How many attempts were made before this error was thrown (set by the retry policy). */
  attempts = 1;
  /** The error of every attempt, oldest first (set by the retry policy; this error is the last). */
  attemptErrors: LLMError[] = [];
  /** Set by a router: every deployment it tried for the call, this error's being the last. */
  route: RouteInfo | undefined;

  constructor(message: string, options: LLMErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.provider = options.provider;
    this.model = options.model;
    this.status = options.status;
    this.requestId = options.requestId;
    this.retryable = options.retryable ?? false;
    this.body = options.body;
    this.providerCode = options.providerCode;
    this.retryAfterMs = options.retryAfterMs;
    this.shouldRetryHeader = options.shouldRetryHeader;
    Object.defineProperty(this, MARKER, { value: true });
  }

  /** A plain object for logs: everything but the stack. */
  toJSON(): Record<string, unknown> {
    return {
      name: this.name,
      code: this.code,
      message: this.message,
      provider: this.provider,
      model: this.model,
      status: this.status,
      requestId: this.requestId,
      retryable: this.retryable,
      providerCode: this.providerCode,
      retryAfterMs: this.retryAfterMs,
      attempts: this.attempts,
      route: this.route,
      body: this.body,
    };
  }
}

export class LLMAuthenticationError extends LLMError {
  override readonly code = 'authentication';
}
export class LLMRateLimitError extends LLMError {
  override readonly code = 'rate_limit';
}
/**
 * Which wait ran out: `headers` (the request was sent and no response began), `body` (the response began,
 * then went silent for the idle timeout) or `deadline` (the whole call's `deadlineMs`). Undefined when the
 * server itself answered with a timeout (408).
 */
export type TimeoutPhase = 'headers' | 'body' | 'deadline';

export class LLMTimeoutError extends LLMError {
  override readonly code = 'timeout';
  readonly phase: TimeoutPhase | undefined;

  constructor(message: string, options: LLMErrorOptions & { phase?: TimeoutPhase } = {}) {
    super(message, options);
    this.phase = options.phase;
  }
}
export class LLMConnectionError extends LLMError {
  override readonly code = 'connection';
}
export class LLMBadRequestError extends LLMError {
  override readonly code: LLMErrorCode = 'bad_request';
}
export class LLMContextWindowError extends LLMBadRequestError {
  override readonly code = 'context_window_exceeded';
}
export class LLMContentFilterError extends LLMBadRequestError {
  override readonly code = 'content_filter';
}
export class LLMNotFoundError extends LLMError {
  override readonly code = 'not_found';
}
export class LLMServerError extends LLMError {
  override readonly code = 'server_error';
}
export class LLMInvalidResponseError extends LLMError {
  override readonly code = 'invalid_response';
}
export class LLMConfigurationError extends LLMError {
  override readonly code = 'configuration';
}
export class LLMAbortError extends LLMError {
  override readonly code = 'aborted';
}
export class LLMUnsupportedError extends LLMError {
  override readonly code = 'unsupported';
}

/** One way the model's output broke the schema: where, and what is wrong. */
export interface OutputIssue {
  /** `$`, `$.items.0.name`. */
  path: string;
  message: string;
}

/**
 * The model's structured output is not JSON, or does not validate against the schema. `text` is what the
 * model wrote; `issues` says what is wrong where.
 */
export class LLMOutputValidationError extends LLMError {
  override readonly code = 'output_validation';
  readonly text: string;
  readonly issues: OutputIssue[];
  constructor(
    message: string,
    details: { text: string; issues: OutputIssue[] },
    options: LLMErrorOptions = {},
  ) {
    super(message, options);
    this.text = details.text;
    this.issues = details.issues;
  }
  override toJSON(): Record<string, unknown> {
    return { ...super.toJSON(), text: this.text, issues: this.issues };
  }
}

/** The answer was cut (`finishReason: length`) before the structured output was complete: raise `maxTokens`. */
export class LLMOutputTruncatedError extends LLMError {
  override readonly code = 'output_truncated';
  /** What the model wrote before it was cut. */
  readonly text: string;
  constructor(message: string, text: string, options: LLMErrorOptions = {}) {
    super(message, options);
    this.text = text;
  }
}

/** The model refused to answer (OpenAI `message.refusal`, Anthropic `stop_reason: refusal`). */
export class LLMRefusalError extends LLMError {
  override readonly code = 'refusal';
  /** The model's explanation, when it gave one. */
  readonly refusal: string;
  constructor(message: string, refusal: string, options: LLMErrorOptions = {}) {
    super(message, options);
    this.refusal = refusal;
  }
}

/** True for any error of this hierarchy, even from another installed copy of the package. */
export function isLLMError(value: unknown): value is LLMError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
}
