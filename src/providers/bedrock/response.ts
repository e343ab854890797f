/**
 * Reads Bedrock Converse responses. Lenient: unknown fields are ignored and kept in `raw`; reasoning blocks
 * (`reasoningContent`) are not part of the text. Bedrock sends no completion id and does not echo the
 * model, so the id is the request id (`x-amzn-requestid`) and the model is the one asked for.
 */
import { isRecord } from '../../spec/json.ts';
import type { CompletionResult, FinishReason, ToolCall, Usage } from '../../spec/types.ts';
import { invalidResponse } from '../error-helpers.ts';
import { completionResult, noUsage } from '../parse-helpers.ts';
import type { CallContext } from '../provider.ts';

/** Converse `stopReason` → our finish reason (the raw value is kept in `rawFinishReason`). */
export function mapBedrockStopReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'end_turn':
    case 'stop_sequence':
      return 'stop';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool-calls';
    case 'guardrail_intervened':
    case 'content_filtered':
      return 'content-filter';
    default:
      return 'other';
  }
}

/**
 * Converse `usage` → ours. Bedrock reports cache reads and writes beside `inputTokens`, not inside it;
 * our `inputTokens` is everything the prompt cost (as for Anthropic), with the cached and written parts
 * in `cachedInputTokens` and `cacheWriteInputTokens` so they can be priced apart.
 */
export function mapBedrockUsage(usage: unknown): Usage {
  if (!isRecord(usage)) return noUsage();
  const count = (value: unknown) => (typeof value === 'number' ? value : 0);
  const read = count(usage.cacheReadInputTokens);
  const written = count(usage.cacheWriteInputTokens);
  const inputTokens = count(usage.inputTokens) + read + written;
  const outputTokens = count(usage.outputTokens);
  const result: Usage = {
    inputTokens,
    outputTokens,
    totalTokens:
      read + written > 0 || typeof usage.totalTokens !== 'number'
        ? inputTokens + outputTokens
        : usage.totalTokens,
  };
  if (typeof usage.cacheReadInputTokens === 'number') result.cachedInputTokens = read;
  if (written > 0) result.cacheWriteInputTokens = written;
  return result;
}

/** A Converse response → our result: text blocks joined, `toolUse` blocks as tool calls. */
export function parseBedrockConverse(body: unknown, context: CallContext): CompletionResult {
  const output = isRecord(body) ? body.output : undefined;
  if (!isRecord(body) || !isRecord(output)) {
    throw invalidResponse(context, 'returned a Converse response without output', { body });
  }
  const message = isRecord(output.message) ? output.message : {};
  const content = Array.isArray(message.content) ? message.content : [];
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const block of content) {
    if (!isRecord(block)) continue;
    if (typeof block.text === 'string') text += block.text;
    else if (isRecord(block.toolUse)) {
      const use = block.toolUse;
      toolCalls.push({
        id: typeof use.toolUseId === 'string' ? use.toolUseId : '',
        name: typeof use.name === 'string' ? use.name : '',
        arguments: JSON.stringify(use.input ?? {}),
      });
    }
  }
  const rawFinishReason = typeof body.stopReason === 'string' ? body.stopReason : undefined;
  // Bedrock neither names the model nor ids the message: the model asked for, and the request id.
  return completionResult(
    {
      text,
      finishReason: mapBedrockStopReason(rawFinishReason),
      rawFinishReason,
      usage: mapBedrockUsage(body.usage),
      id: context.requestId,
      toolCalls,
      raw: body,
    },
    context,
  );
}
