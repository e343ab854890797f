/**
 * Ollama error bodies → typed errors. The native API answers `{"error": "…"}` with a status; unknown paths
 * get Go's plain-text `404 page not found`; proxies may send anything. Every shape yields the class its
 * status and wording call for, with the body kept (redacted).
 */
import {
  LLMContextWindowError,
  type LLMError,
  LLMNotFoundError,
  LLMRateLimitError,
} from '../../spec/errors.ts';
import {
  buildError,
  CONTEXT_WINDOW_TEXT,
  classForStatus,
  type ErrorClass,
  type InBandPlace,
  inBandError,
  tryParseJson,
} from '../error-helpers.ts';
import type { CallContext, ErrorResponse } from '../provider.ts';

/** Ollama's own wording for an input longer than the context (`/api/embed` with `truncate: false`, …). */
const OLLAMA_CONTEXT_TEXT = /exceeds the context length|exceeds (?:the )?maximum context length/i;
/** `model "llama3" not found, try pulling it first` (older) and `model 'llama3' not found` (current). */
const MODEL_NOT_FOUND = /model ["']([^"']+)["'] not found/i;
/** Ollama's hosted service: a plan's usage limit does not come back in seconds. */
const USAGE_LIMIT = /usage limit|upgrade to|quota/i;

/** The message of `{"error": "…"}`, or of `{"error": {"message": …}}` from an OpenAI-style proxy. */
export function ollamaErrorMessage(bodyText: string): string | undefined {
  const json = tryParseJson(bodyText) as { error?: unknown } | undefined;
  const error = typeof json === 'object' && json !== null ? json.error : undefined;
  if (typeof error === 'string' && error) return error;
  const nested =
    typeof error === 'object' && error !== null ? (error as { message?: unknown }).message : undefined;
  return typeof nested === 'string' && nested ? nested : undefined;
}

/** What an error response is: its class, whether retrying can help, and what to do about it. */
export interface OllamaErrorClass {
  type: ErrorClass;
  retryable: boolean;
  /** Appended to the message (`— run \`ollama pull x\``). */
  hint?: string | undefined;
}

/** The class, retryability and hint a status and message call for. */
export function classifyOllamaError(
  status: number,
  message: string | undefined,
  bodyText = '',
): OllamaErrorClass {
  const text = message ?? '';
  if (
    (OLLAMA_CONTEXT_TEXT.test(text) || CONTEXT_WINDOW_TEXT.test(text)) &&
    [400, 413, 422, 500].includes(status)
  ) {
    // Older servers answered an over-long input with a 500; retrying it cannot help.
    return { type: LLMContextWindowError, retryable: false };
  }
  const missingModel = MODEL_NOT_FOUND.exec(text);
  if (missingModel && (status === 404 || status === 400 || status === 500)) {
    return { type: LLMNotFoundError, retryable: false, hint: `— run \`ollama pull ${missingModel[1]}\`` };
  }
  if (status === 404 && /^\s*404 page not found\s*$/i.test(bodyText)) {
    return {
      type: LLMNotFoundError,
      retryable: false,
      hint: '— the server has no such path; `baseURL` is the Ollama host (e.g. http://127.0.0.1:11434), without /api or /v1',
    };
  }
  if (status === 429) return { type: LLMRateLimitError, retryable: !USAGE_LIMIT.test(text) };
  return classForStatus(status);
}

/** A non-2xx response → the typed error, with body, hints and retry-after kept (the adapter's `mapError`). */
export function mapOllamaError(response: ErrorResponse, context: CallContext): LLMError {
  const message = ollamaErrorMessage(response.bodyText);
  const { type, retryable, hint } = classifyOllamaError(response.status, message, response.bodyText);
  return buildError(response, context, { type, retryable, message, hint }, ['x-request-id']);
}

/**
 * `{"error": "…"}` inside a 200 (a line of a stream, or a whole body): classed like the same error sent as a
 * response (an over-long input as a 400, a missing model as a 404, anything else as a 500), with the
 * response's real status. A model failure mid-stream is a server error (retryable, though never after output).
 */
export function mapOllamaBodyError(payload: unknown, context: CallContext, place: InBandPlace): LLMError {
  const bodyText = JSON.stringify(payload);
  const message = ollamaErrorMessage(bodyText);
  const text = message ?? '';
  const asResponse =
    OLLAMA_CONTEXT_TEXT.test(text) || CONTEXT_WINDOW_TEXT.test(text)
      ? 400
      : MODEL_NOT_FOUND.test(text)
        ? 404
        : 500;
  const { type, retryable, hint } = classifyOllamaError(asResponse, message, bodyText);
  return inBandError(bodyText, context, { type, retryable, message, hint }, place);
}
