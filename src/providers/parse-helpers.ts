/**
 * What every provider's response and stream parsers share: reading one frame's JSON, the error for a stream
 * cut short, the closing `finish` event, the non-streamed result, and the usage of a response that reported
 * none. Each provider's
 * `response.ts` and `stream.ts` add only what its own bodies and events say.
 */
import type { LLMInvalidResponseError } from '../spec/errors.ts';
import type { CompletionResult, FinishEvent, FinishReason, Usage } from '../spec/types.ts';
import { invalidResponse } from './error-helpers.ts';
import type { MessageAssembler } from './message-assembly.ts';
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
  /** The model's refusal, when it refused. */
  refusal?: string | undefined;
}

/**
 * The stream's closing event: the whole assistant message from `assembler`, `tool-calls` as the finish
 * reason whenever the model called a tool, and the request id the response headers gave.
 */
export function finishEvent(
  parts: FinishParts,
  context: CallContext,
  assembler: MessageAssembler,
): FinishEvent {
  const event: FinishEvent = {
    type: 'finish',
    finishReason: assembler.finishReason(parts.finishReason),
    usage: parts.usage ?? noUsage(),
    message: assembler.message(),
  };
  if (parts.refusal !== undefined) event.refusal = parts.refusal;
  if (assembler.warnings.length > 0) event.warnings = assembler.warnings;
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
  /** The model's refusal, when it refused. */
  refusal?: string | undefined;
  /** The whole parsed body, kept as it came. */
  raw: unknown;
}

/**
 * A non-streamed completion's result, every provider's the same way: text, message, tool calls, reasoning
 * and warnings from `assembler`, `tool-calls` as the finish reason whenever the model called a tool.
 */
export function completionResult(
  parts: ResultParts,
  context: CallContext,
  assembler: MessageAssembler,
): CompletionResult {
  const result: CompletionResult = {
    text: assembler.text,
    message: assembler.message(),
    toolCalls: assembler.toolCalls(),
    finishReason: assembler.finishReason(parts.finishReason),
    usage: parts.usage,
    model: parts.model ?? context.model,
    id: parts.id ?? '',
    provider: context.provider,
    raw: parts.raw,
  };
  if (assembler.reasoning !== undefined) result.reasoning = assembler.reasoning;
  if (parts.refusal !== undefined) result.refusal = parts.refusal;
  if (assembler.warnings.length > 0) result.warnings = assembler.warnings;
  if (parts.rawFinishReason !== undefined) result.rawFinishReason = parts.rawFinishReason;
  const requestId = parts.requestId ?? context.requestId;
  if (requestId !== undefined) result.requestId = requestId;
  return result;
}
