/**
 * What every provider's response and stream parsers share: reading one frame's JSON, the error for a stream
 * cut short, the closing `finish` event, the non-streamed result, and the usage of a response that reported
 * none. Each provider's
 * `response.ts` and `stream.ts` add only what its own bodies and events say.
 */
import type { LLMInvalidResponseError } from '../spec/errors.ts';
import type { CompletionResult, FinishEvent, FinishReason, ToolCall, Usage } from '../spec/types.ts';
import { invalidResponse } from './error-helpers.ts';
import type { CallContext } from './provider.ts';

/**
 * `data` parsed as JSON; a frame that is not JSON is an invalid response (retried while nothing was
 * delivered: such corruption is usually transient). `what` names the frame in the message.
 */
export function parseFrameJson(data: string, context: CallContext, what = 'a stream event'): unknown {
  try {
    return JSON.parse(data);
  } catch (cause) {
    throw invalidResponse(context, `sent ${what} that is not JSON`, { body: data, cause });
  }
}

/** The body ended before the provider's end marker: `missing` says what never came. */
export function streamEndedEarly(context: CallContext, missing: string): LLMInvalidResponseError {
  return invalidResponse(context, `stream ended before the model finished (${missing})`);
}

/** The usage of a response that reported none. */
export const noUsage = (): Usage => ({ inputTokens: 0, outputTokens: 0, totalTokens: 0 });

export interface FinishParts {
  finishReason: FinishReason;
  /** The provider's own value, when it sent one. */
  rawFinishReason?: string | undefined;
  /** Zero counts when the stream reported none. */
  usage?: Usage | undefined;
  model?: string | undefined;
  id?: string | undefined;
}

/** The stream's closing event, with the request id the response headers gave. */
export function finishEvent(parts: FinishParts, context: CallContext): FinishEvent {
  const event: FinishEvent = {
    type: 'finish',
    finishReason: parts.finishReason,
    usage: parts.usage ?? noUsage(),
  };
  if (parts.rawFinishReason !== undefined) event.rawFinishReason = parts.rawFinishReason;
  if (parts.model !== undefined) event.model = parts.model;
  if (parts.id !== undefined) event.id = parts.id;
  if (context.requestId !== undefined) event.requestId = context.requestId;
  return event;
}

/** A string field of a parsed body, when it is one and not empty. */
export const nonEmptyString = (value: unknown): string | undefined =>
  typeof value === 'string' && value !== '' ? value : undefined;

export interface ResultParts {
  text: string;
  finishReason: FinishReason;
  /** The provider's own value, when it sent one. */
  rawFinishReason?: string | undefined;
  usage: Usage;
  /** The model that answered, when the body names it; else the one asked for. */
  model?: string | undefined;
  /** The completion's id, when the provider gives one. */
  id?: string | undefined;
  /** Overrides the request id of the response headers (some providers put it in the body). */
  requestId?: string | undefined;
  toolCalls?: ToolCall[] | undefined;
  /** The whole parsed body, kept as it came. */
  raw: unknown;
}

/** A non-streamed completion's result, every provider's the same way. */
export function completionResult(parts: ResultParts, context: CallContext): CompletionResult {
  const result: CompletionResult = {
    text: parts.text,
    finishReason: parts.finishReason,
    usage: parts.usage,
    model: parts.model ?? context.model,
    id: parts.id ?? '',
    provider: context.provider,
    raw: parts.raw,
  };
  if (parts.rawFinishReason !== undefined) result.rawFinishReason = parts.rawFinishReason;
  const requestId = parts.requestId ?? context.requestId;
  if (requestId !== undefined) result.requestId = requestId;
  if (parts.toolCalls && parts.toolCalls.length > 0) result.toolCalls = parts.toolCalls;
  return result;
}
