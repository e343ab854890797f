/**
 * Reads Gemini `GenerateContentResponse` and embeddings bodies. Lenient: unknown fields (grounding,
 * citations, logprobs, safety ratings with enum values not yet known) are ignored and kept in `raw`;
 * only a body with no usable shape is an error.
 *
 * A candidate's parts become the assistant message in order: thought summaries (`thought: true`) as
 * reasoning, text, and `functionCall`s as tool calls; a part's `thoughtSignature` stays on the part it came
 * on (`providerMetadata.gemini.thoughtSignature`), and one on an empty text part — how streams end — goes
 * to the text before it. Code execution parts are not text and are left in `raw`.
 */
import { isRecord, type Json } from '../../spec/json.ts';
import type { CompletionResult, FinishReason, StreamEvent, Usage } from '../../spec/types.ts';
import { invalidEmbeddings, invalidResponse } from '../error-helpers.ts';
import { MessageAssembler } from '../message-assembly.ts';
import { completionResult, nonEmptyString, noUsage } from '../parse-helpers.ts';
import type { CallContext } from '../provider.ts';
import { mapGeminiBodyError } from './errors.ts';
import { StreamedToolCalls } from './stream-tool-calls.ts';

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
    case 'UNEXPECTED_TOOL_CALL':
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

/** Why a prompt was refused, when the response says it was (no candidates, `promptFeedback` set). */
export function blockReasonOf(body: Json): string | undefined {
  const feedback = body.promptFeedback;
  return isRecord(feedback) && typeof feedback.blockReason === 'string' ? feedback.blockReason : undefined;
}

/** A candidate's parts, whole or streamed, into one assistant message. */
export class GeminiPartReader {
  readonly assembler = new MessageAssembler();
  readonly #calls = new StreamedToolCalls(this.assembler);

  /**
   * One part. `whole`: the part is complete (a response body), so it is a part of its own; streamed text
   * continues the text before it until a signature closes it.
   */
  read(part: unknown, whole: boolean, out?: StreamEvent[]): void {
    if (!isRecord(part)) return;
    const signature =
      typeof part.thoughtSignature === 'string' && part.thoughtSignature !== ''
        ? part.thoughtSignature
        : undefined;
    if (isRecord(part.functionCall)) {
      this.#calls.onFunctionCall(part.functionCall, signature, out);
      return;
    }
    this.#calls.close(out);
    if (typeof part.text !== 'string') return;
    const type = part.thought === true ? 'reasoning' : 'text';
    if (whole && part.text !== '') this.assembler.boundary();
    if (type === 'reasoning') this.assembler.addReasoning(part.text, out);
    else this.assembler.addText(part.text, out);
    if (signature) {
      this.assembler.annotate(type, 'gemini', { thoughtSignature: signature });
      this.assembler.boundary();
    }
  }

  /** The response ended: a call still in pieces ends too. */
  end(out?: StreamEvent[]): void {
    this.#calls.close(out);
  }
}

/**
 * A `generateContent` response → our result: the first candidate's parts as the message (finish reason
 * `tool-calls` when it called a tool: Gemini says STOP). A blocked prompt (no candidates,
 * `promptFeedback`) is an empty result with `content-filter` and the block reason as raw.
 */
export function parseGeminiResponse(body: unknown, context: CallContext): CompletionResult {
  if (isRecord(body) && isRecord(body.error)) throw mapGeminiBodyError(body, context, 'body');
  if (!isRecord(body) || (!Array.isArray(body.candidates) && !isRecord(body.promptFeedback))) {
    throw invalidResponse(context, 'returned a response without candidates or promptFeedback', { body });
  }
  const candidate = Array.isArray(body.candidates) ? firstCandidate(body.candidates) : undefined;
  const reader = new GeminiPartReader();
  for (const part of candidate ? partsOf(candidate) : []) reader.read(part, true);
  reader.end();
  const { assembler } = reader;
  let rawFinishReason: string | undefined;
  let finishReason: FinishReason;
  if (candidate) {
    rawFinishReason = typeof candidate.finishReason === 'string' ? candidate.finishReason : undefined;
    finishReason = assembler.finishReason(mapGeminiFinishReason(rawFinishReason));
  } else {
    rawFinishReason = blockReasonOf(body);
    finishReason = isRecord(body.promptFeedback) ? 'content-filter' : 'other';
  }
  return completionResult(
    {
      finishReason,
      rawFinishReason,
      usage: mapGeminiUsage(body.usageMetadata),
      model: nonEmptyString(body.modelVersion),
      id: typeof body.responseId === 'string' ? body.responseId : undefined,
      raw: body,
    },
    context,
    assembler,
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
