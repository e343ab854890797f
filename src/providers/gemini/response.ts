/**
 * Reads Gemini `GenerateContentResponse` and embeddings bodies. Lenient: unknown fields (grounding,
 * citations, logprobs, safety ratings with enum values not yet known) are ignored and kept in `raw`;
 * only a body with no usable shape is an error.
 */
import { isRecord, type Json } from '../../spec/json.ts';
import type { CompletionResult, FinishReason, ToolCall, Usage } from '../../spec/types.ts';
import { invalidEmbeddings, invalidResponse } from '../error-helpers.ts';
import { completionResult, nonEmptyString, noUsage } from '../parse-helpers.ts';
import type { CallContext } from '../provider.ts';
import { mapGeminiBodyError } from './errors.ts';

/** Gemini's `finishReason` → ours; the raw value is kept beside it in `rawFinishReason`. */
export function mapGeminiFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'STOP':
      return 'stop';
    case 'MAX_TOKENS':
      return 'length';
    case 'SAFETY':
    case 'RECITATION':
    case 'BLOCKLIST':
    case 'PROHIBITED_CONTENT':
    case 'SPII':
    case 'IMAGE_SAFETY':
    case 'IMAGE_PROHIBITED_CONTENT':
    case 'IMAGE_RECITATION':
      return 'content-filter';
    case 'MALFORMED_FUNCTION_CALL':
      return 'error';
    default:
      return 'other';
  }
}

/**
 * `usageMetadata` → usage. Output counts the thinking tokens too (they are billed as output); they are
 * also reported alone as `reasoningTokens`. Tool-use prompt tokens stay in `totalTokens` only.
 */
export function mapGeminiUsage(metadata: unknown): Usage {
  if (!isRecord(metadata)) return noUsage();
  const count = (value: unknown) => (typeof value === 'number' ? value : 0);
  const thoughts = metadata.thoughtsTokenCount;
  const inputTokens = count(metadata.promptTokenCount);
  const outputTokens = count(metadata.candidatesTokenCount) + count(thoughts);
  const usage: Usage = {
    inputTokens,
    outputTokens,
    totalTokens:
      typeof metadata.totalTokenCount === 'number' ? metadata.totalTokenCount : inputTokens + outputTokens,
  };
  if (typeof metadata.cachedContentTokenCount === 'number')
    usage.cachedInputTokens = metadata.cachedContentTokenCount;
  if (typeof thoughts === 'number') usage.reasoningTokens = thoughts;
  return usage;
}

/** The candidate we surface: the one with index 0 (a missing index counts as its position). */
export function firstCandidate(candidates: readonly unknown[]): Json | undefined {
  for (let position = 0; position < candidates.length; position++) {
    const candidate = candidates[position];
    if (!isRecord(candidate)) continue;
    const index = typeof candidate.index === 'number' ? candidate.index : position;
    if (index === 0) return candidate;
  }
  return undefined;
}

/** The parts of a candidate's content, or none. */
export function partsOf(candidate: Json): unknown[] {
  const content = candidate.content;
  return isRecord(content) && Array.isArray(content.parts) ? content.parts : [];
}

/** A complete `functionCall` → a tool call; `index` is its position among the response's calls. */
export function toolCallOf(call: Json, index: number): ToolCall {
  return {
    id: typeof call.id === 'string' && call.id ? call.id : `call_${index}`,
    name: typeof call.name === 'string' ? call.name : '',
    arguments: JSON.stringify(call.args ?? {}),
  };
}

/** Why a prompt was refused, when the response says it was (no candidates, `promptFeedback` set). */
export function blockReasonOf(body: Json): string | undefined {
  const feedback = body.promptFeedback;
  return isRecord(feedback) && typeof feedback.blockReason === 'string' ? feedback.blockReason : undefined;
}

/**
 * A `generateContent` response → our result. The text is the first candidate's text parts, thought parts
 * left out; `functionCall` parts become tool calls (finish reason `tool-calls`). A blocked prompt (no
 * candidates, `promptFeedback`) is an empty result with `content-filter` and the block reason as raw.
 */
export function parseGeminiResponse(body: unknown, context: CallContext): CompletionResult {
  if (isRecord(body) && isRecord(body.error)) throw mapGeminiBodyError(body, context, 'body');
  if (!isRecord(body) || (!Array.isArray(body.candidates) && !isRecord(body.promptFeedback))) {
    throw invalidResponse(context, 'returned a response without candidates or promptFeedback', { body });
  }
  const candidate = Array.isArray(body.candidates) ? firstCandidate(body.candidates) : undefined;
  let text = '';
  const toolCalls: ToolCall[] = [];
  for (const part of candidate ? partsOf(candidate) : []) {
    if (!isRecord(part) || part.thought === true) continue;
    if (typeof part.text === 'string') text += part.text;
    if (isRecord(part.functionCall)) toolCalls.push(toolCallOf(part.functionCall, toolCalls.length));
  }
  let rawFinishReason: string | undefined;
  let finishReason: FinishReason;
  if (candidate) {
    rawFinishReason = typeof candidate.finishReason === 'string' ? candidate.finishReason : undefined;
    finishReason = mapGeminiFinishReason(rawFinishReason);
    if (toolCalls.length > 0 && finishReason === 'stop') finishReason = 'tool-calls';
  } else {
    rawFinishReason = blockReasonOf(body);
    finishReason = isRecord(body.promptFeedback) ? 'content-filter' : 'other';
  }
  return completionResult(
    {
      text,
      finishReason,
      rawFinishReason,
      usage: mapGeminiUsage(body.usageMetadata),
      model: nonEmptyString(body.modelVersion),
      id: typeof body.responseId === 'string' ? body.responseId : undefined,
      toolCalls,
      raw: body,
    },
    context,
  );
}

/**
 * A `batchEmbedContents` response (`{embeddings:[{values}]}`, in request order) → vectors. A single
 * `embedContent` response (`{embedding:{values}}`) is read too, for one input.
 */
export function parseGeminiEmbeddings(body: unknown, expected: number, context: CallContext): number[][] {
  if (!isRecord(body)) throw invalidEmbeddings(context, 'not an object', body);
  const list = Array.isArray(body.embeddings)
    ? body.embeddings
    : isRecord(body.embedding)
      ? [body.embedding]
      : undefined;
  if (!list) throw invalidEmbeddings(context, 'no embeddings', body);
  if (list.length !== expected) {
    throw invalidEmbeddings(context, `expected ${expected} vectors, got ${list.length}`, body);
  }
  return list.map((item, index) => {
    const values = isRecord(item) ? item.values : undefined;
    if (!Array.isArray(values)) throw invalidEmbeddings(context, `item ${index} has no values`, body);
    return values as number[];
  });
}
