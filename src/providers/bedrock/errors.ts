/**
 * Bedrock errors → typed errors. The exception name comes from the `x-amzn-errortype` header
 * (`ThrottlingException:http://internal.amazon.com/coral/…`, cut at ':') or the body's `__type`
 * (`com.amazon.coral.service#UnknownOperationException`, cut at '#'); the message from the body's `message`
 * or `Message`. The same names arrive inside ConverseStream as exception frames (`throttlingException`),
 * so names are compared without regard to case. A body of any other shape still gets its status's class.
 */

import { headerValue } from '../../http/retry-timing.ts';
import {
  LLMAuthenticationError,
  LLMBadRequestError,
  LLMContextWindowError,
  type LLMError,
  LLMNotFoundError,
  LLMRateLimitError,
  LLMServerError,
  LLMTimeoutError,
} from '../../spec/errors.ts';
import { isRecord } from '../../spec/json.ts';
import {
  buildError,
  CONTEXT_WINDOW_TEXT,
  classForStatus,
  type ErrorClass,
  inBandError,
  tryParseJson,
} from '../error-helpers.ts';
import type { CallContext, ErrorResponse } from '../provider.ts';

/** Where Bedrock puts the request id. */
export const BEDROCK_REQUEST_ID_HEADERS = ['x-amzn-requestid'] as const;

/** Bedrock's own wording when the input does not fit ("input length and `max_tokens` exceed context limit"). */
const BEDROCK_CONTEXT_TEXT = /exceeds? (?:the )?context limit|context limit exceeded/i;

/** `ThrottlingException:http://…` or `com.amazon.coral.service#X` → the bare exception name. */
export function exceptionName(raw: string): string {
  let name = raw.trim();
  if (name.includes(':')) name = name.slice(0, name.indexOf(':'));
  if (name.includes('#')) name = name.slice(name.lastIndexOf('#') + 1);
  return name;
}

export interface BedrockErrorBody {
  name?: string;
  message?: string;
}

/** Name and message from whatever the body is (`{message}`, `{Message}`, `{__type}`, coral's `{Output:{__type}}`). */
export function parseBedrockErrorBody(bodyText: string): BedrockErrorBody {
  const json = tryParseJson(bodyText);
  if (!isRecord(json)) return {};
  const str = (value: unknown) => (typeof value === 'string' && value ? value : undefined);
  const output = isRecord(json.Output) ? json.Output : {};
  const parsed: BedrockErrorBody = {};
  const type = str(json.__type) ?? str(json.code) ?? str(output.__type);
  const message = str(json.message) ?? str(json.Message) ?? str(output.message) ?? str(output.Message);
  if (type) parsed.name = exceptionName(type);
  if (message) parsed.message = message;
  return parsed;
}

const AUTHENTICATION = new Set([
  'accessdeniedexception',
  'unrecognizedclientexception',
  'invalidsignatureexception',
  'expiredtokenexception',
  'incompletesignatureexception',
  'missingauthenticationtokenexception',
]);
const SERVER = new Set([
  'internalserverexception',
  'serviceunavailableexception',
  'modelerrorexception',
  'modelstreamerrorexception',
  'modelnotreadyexception',
]);

/** The class and retryability an exception name (else the status) calls for. */
export function classifyBedrockError(
  status: number,
  name: string | undefined,
  message: string | undefined,
): { type: ErrorClass; retryable: boolean } {
  const key = name?.toLowerCase() ?? '';
  if (key === 'throttlingexception') return { type: LLMRateLimitError, retryable: true };
  // A quota (tokens per day, provisioned units) does not come back in seconds: a rate-limit error, not retried.
  if (key === 'servicequotaexceededexception') return { type: LLMRateLimitError, retryable: false };
  if (key === 'validationexception') {
    const text = message ?? '';
    if (CONTEXT_WINDOW_TEXT.test(text) || BEDROCK_CONTEXT_TEXT.test(text))
      return { type: LLMContextWindowError, retryable: false };
    return { type: LLMBadRequestError, retryable: false };
  }
  if (AUTHENTICATION.has(key)) return { type: LLMAuthenticationError, retryable: false };
  if (key === 'resourcenotfoundexception' || key === 'unknownoperationexception')
    return { type: LLMNotFoundError, retryable: false };
  if (key === 'modeltimeoutexception') return { type: LLMTimeoutError, retryable: true };
  if (SERVER.has(key)) return { type: LLMServerError, retryable: true };
  return classForStatus(status);
}

function hintFor(name: string | undefined): string | undefined {
  switch (name?.toLowerCase()) {
    case 'unknownoperationexception':
      return '(is `baseURL` the bedrock-runtime endpoint?)';
    case 'unrecognizedclientexception':
    case 'invalidsignatureexception':
      return '(check the AWS access key id, secret and region)';
    default:
      return undefined;
  }
}

/** A non-2xx Bedrock response → its typed error (never throws). */
export function mapBedrockError(response: ErrorResponse, context: CallContext): LLMError {
  const parsed = parseBedrockErrorBody(response.bodyText);
  const header = headerValue(response.headers, 'x-amzn-errortype');
  const name = header ? exceptionName(header) || parsed.name : parsed.name;
  return buildError(
    response,
    context,
    {
      ...classifyBedrockError(response.status, name, parsed.message),
      message: parsed.message,
      providerCode: name,
      hint: hintFor(name),
    },
    BEDROCK_REQUEST_ID_HEADERS,
  );
}

/** The HTTP status each stream exception has as a response: it is classed the same way in a stream. */
const STATUS_AS_RESPONSE: Readonly<Record<string, number>> = {
  throttlingexception: 429,
  validationexception: 400,
  modeltimeoutexception: 408,
  modelstreamerrorexception: 424,
  internalserverexception: 500,
  serviceunavailableexception: 503,
};

/**
 * An exception (`exception:<type>`, JSON payload) or error (`error:<code>`, the message) frame inside a
 * ConverseStream → the class the same exception gets as a response, with the response's real status.
 */
export function mapBedrockStreamException(event: string, data: string, context: CallContext): LLMError {
  const colon = event.indexOf(':');
  const kind = event.slice(0, colon);
  const name = event.slice(colon + 1);
  let message: string | undefined;
  if (kind === 'exception') {
    const payload = tryParseJson(data);
    if (isRecord(payload)) {
      const text = payload.message ?? payload.Message;
      message = typeof text === 'string' ? text : undefined;
      if (typeof payload.originalMessage === 'string') {
        const original =
          typeof payload.originalStatusCode === 'number' ? `${payload.originalStatusCode}: ` : '';
        message = `${message ?? name} (original ${original}${payload.originalMessage})`;
      }
    }
  } else if (data) {
    message = data;
  }
  const asResponse = STATUS_AS_RESPONSE[name.toLowerCase()] ?? 500;
  return inBandError(
    data,
    context,
    { ...classifyBedrockError(asResponse, name, message), message, providerCode: name },
    'stream',
  );
}
