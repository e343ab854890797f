/**
 * Reads Anthropic Messages API responses into the assistant message: text, thinking with its signature,
 * redacted thinking, tool calls with their opaque fields. Lenient: unknown block types (server tools, web
 * search results) and unknown fields are kept in `raw`; only a body with no `content` array is an error.
 *
 * @see https://platform.claude.com/docs/en/api/messages/create
 */
import { isRecord } from '../../spec/json.ts';
import type { ProviderMetadata } from '../../spec/messages.ts';
import { redact } from '../../spec/redact.ts';
import type { CompletionResult, FinishReason, Usage } from '../../spec/types.ts';
import { invalidResponse } from '../error-helpers.ts';
import { MessageAssembler } from '../message-assembly.ts';
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

/** The fields of a `tool_use` block beyond the call itself (`caller`, …), kept to be sent back as they came. */
export function toolUseMetadata(block: Record<string, unknown>): ProviderMetadata | undefined {
  const { type: _type, id: _id, name: _name, input: _input, ...extra } = block;
  return Object.keys(extra).length > 0 ? { anthropic: extra } : undefined;
}

/** A thinking block's text and signature as one reasoning part (a part of its own, never merged). */
export function addThinking(assembler: MessageAssembler, text: string, signature: unknown): void {
  const before = assembler.parts.length;
  assembler.boundary();
  assembler.addReasoning(text);
  if (typeof signature !== 'string' || signature === '') return;
  if (assembler.parts.length > before) attachSignature(assembler, signature);
  else assembler.addOpaqueReasoning('anthropic', { signature });
}

/** Puts `signature` on the reasoning part just built (the stream's `signature_delta`). */
export function attachSignature(assembler: MessageAssembler, signature: string): void {
  const part = assembler.parts[assembler.parts.length - 1]!;
  part.providerMetadata = { ...part.providerMetadata, anthropic: { signature } };
}

/**
 * What the model said when it refused (`stop_reason: refusal`): the API's explanation when it gives one
 * (`stop_details.explanation`), else the text the model wrote, else a sentence saying so.
 */
export function refusalOf(stopDetails: unknown, text: string): string {
  const explanation = isRecord(stopDetails) ? stopDetails.explanation : undefined;
  if (typeof explanation === 'string' && explanation) return explanation;
  return text || 'The model declined to answer (stop_reason: refusal).';
}

/**
 * A message → our result: every block in order — text, thinking (with its signature), redacted thinking,
 * tool_use (with `caller` and any other field Anthropic adds) — through the shared assembler. Server tool
 * blocks (web search, code execution) run at Anthropic and stay in `raw`.
 */
export function parseAnthropicMessage(body: unknown, context: CallContext): CompletionResult {
  const content = isRecord(body) ? body.content : undefined;
  if (!isRecord(body) || !Array.isArray(content)) {
    throw invalidResponse(context, 'returned a message without a content array', { body });
  }
  const assembler = new MessageAssembler();
  for (const block of content) {
    if (!isRecord(block)) continue;
    switch (block.type) {
      case 'text':
        assembler.boundary();
        if (typeof block.text === 'string') assembler.addText(block.text);
        break;
      case 'thinking':
        addThinking(assembler, typeof block.thinking === 'string' ? block.thinking : '', block.signature);
        break;
      case 'redacted_thinking':
        if (typeof block.data === 'string')
          assembler.addOpaqueReasoning('anthropic', { redactedData: block.data });
        break;
      case 'tool_use':
        assembler.addToolCall(
          typeof block.id === 'string' ? block.id : undefined,
          typeof block.name === 'string' ? block.name : '',
          block.input === undefined || block.input === null ? '' : JSON.stringify(block.input),
          undefined,
          toolUseMetadata(block),
        );
        break;
    }
  }
  const rawFinishReason = typeof body.stop_reason === 'string' ? body.stop_reason : undefined;
  return completionResult(
    {
      finishReason: mapAnthropicFinishReason(rawFinishReason),
      rawFinishReason,
      usage: mapAnthropicUsage(body.usage),
      model: nonEmptyString(body.model),
      id: typeof body.id === 'string' ? body.id : undefined,
      // The body's own request id, when no header gave one.
      requestId:
        context.requestId ??
        (typeof body.request_id === 'string' ? redact(body.request_id, context.secrets) : undefined),
      refusal: rawFinishReason === 'refusal' ? refusalOf(body.stop_details, assembler.text) : undefined,
      raw: body,
    },
    context,
    assembler,
  );
}
