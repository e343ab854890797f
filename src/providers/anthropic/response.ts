/**
 * Reads Anthropic Messages API responses. Lenient: unknown block types (thinking, server tools, web
 * search results) and unknown fields are ignored and kept in `raw`; only a body with no `content` array
 * is an error.
 */
import { isRecord } from '../../spec/json.ts';
import { redact } from '../../spec/redact.ts';
import type { CompletionResult, FinishReason, ToolCall, Usage } from '../../spec/types.ts';
import { invalidResponse } from '../error-helpers.ts';
import { completionResult, nonEmptyString } from '../parse-helpers.ts';
import type { CallContext } from '../provider.ts';

const count = (value: unknown): number => (typeof value === 'number' && Number.isFinite(value) ? value : 0);

export function mapAnthropicFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool-calls';
    case 'refusal':
      return 'content-filter';
    default:
      // pause_turn (a server tool paused a long turn) and anything newer.
      return 'other';
  }
}

/** The token counts Anthropic reports, as it splits them. */
export interface AnthropicUsage {
  input: number;
  cacheCreation: number;
  /** Undefined when the response did not say. */
  cacheRead: number | undefined;
  output: number;
  /** `output_tokens_details.thinking_tokens` (API version 2026-10-21), when given. */
  thinking: number | undefined;
}

/** Reads a `usage` object; `previous` supplies what this one leaves out (a stream's later events). */
export function readAnthropicUsage(usage: unknown, previous?: AnthropicUsage): AnthropicUsage {
  const base: AnthropicUsage = previous ?? {
    input: 0,
    cacheCreation: 0,
    cacheRead: undefined,
    output: 0,
    thinking: undefined,
  };
  if (!isRecord(usage)) return base;
  const has = (name: string) => typeof usage[name] === 'number';
  const details = usage.output_tokens_details;
  const thinking = isRecord(details) ? details.thinking_tokens : undefined;
  return {
    input: has('input_tokens') ? count(usage.input_tokens) : base.input,
    cacheCreation: has('cache_creation_input_tokens')
      ? count(usage.cache_creation_input_tokens)
      : base.cacheCreation,
    cacheRead: has('cache_read_input_tokens') ? count(usage.cache_read_input_tokens) : base.cacheRead,
    output: has('output_tokens') ? count(usage.output_tokens) : base.output,
    thinking: typeof thinking === 'number' ? count(thinking) : base.thinking,
  };
}

/**
 * Our usage: input is everything the prompt cost (uncached + cache writes + cache reads), so it compares
 * with other providers' `inputTokens`; `cachedInputTokens` is the part read from the cache and
 * `cacheWriteInputTokens` the part written to it (priced apart).
 */
export function toUsage(usage: AnthropicUsage): Usage {
  const inputTokens = usage.input + usage.cacheCreation + (usage.cacheRead ?? 0);
  const result: Usage = {
    inputTokens,
    outputTokens: usage.output,
    totalTokens: inputTokens + usage.output,
  };
  if (usage.cacheRead !== undefined) result.cachedInputTokens = usage.cacheRead;
  if (usage.cacheCreation > 0) result.cacheWriteInputTokens = usage.cacheCreation;
  if (usage.thinking !== undefined) result.reasoningTokens = usage.thinking;
  return result;
}

export const mapAnthropicUsage = (usage: unknown): Usage => toUsage(readAnthropicUsage(usage));

/** `tool_use` blocks (tools the caller runs). Server tools (`server_tool_use`) run at Anthropic: not ours. */
function toolCallsOf(content: unknown[]): ToolCall[] | undefined {
  const calls: ToolCall[] = [];
  for (const block of content) {
    if (!isRecord(block) || block.type !== 'tool_use') continue;
    calls.push({
      id: typeof block.id === 'string' ? block.id : '',
      name: typeof block.name === 'string' ? block.name : '',
      arguments: JSON.stringify(block.input ?? {}),
    });
  }
  return calls.length > 0 ? calls : undefined;
}

/** A message → our result: the text blocks concatenated, tool_use blocks as tool calls. */
export function parseAnthropicMessage(body: unknown, context: CallContext): CompletionResult {
  const content = isRecord(body) ? body.content : undefined;
  if (!isRecord(body) || !Array.isArray(content)) {
    throw invalidResponse(context, 'returned a message without a content array', { body });
  }
  let text = '';
  for (const block of content) {
    if (isRecord(block) && block.type === 'text' && typeof block.text === 'string') text += block.text;
  }
  const rawFinishReason = typeof body.stop_reason === 'string' ? body.stop_reason : undefined;
  return completionResult(
    {
      text,
      finishReason: mapAnthropicFinishReason(rawFinishReason),
      rawFinishReason,
      usage: mapAnthropicUsage(body.usage),
      model: nonEmptyString(body.model),
      id: typeof body.id === 'string' ? body.id : undefined,
      // The body's own request id, when no header gave one.
      requestId:
        context.requestId ??
        (typeof body.request_id === 'string' ? redact(body.request_id, context.secrets) : undefined),
      toolCalls: toolCallsOf(content),
      raw: body,
    },
    context,
  );
}
