/**
 * Reads OpenAI Chat Completions and Embeddings responses. Lenient: unknown fields are ignored and kept in
 * `raw`; missing optional fields get neutral values; only a body with no usable shape is an error.
 */
import { isRecord, type Json } from '../../spec/json.ts';
import type { CompletionResult, FinishReason, Usage } from '../../spec/types.ts';
import { invalidEmbeddings, invalidResponse } from '../error-helpers.ts';
import { MessageAssembler } from '../message-assembly.ts';
import { completionResult, nonEmptyString, noUsage } from '../parse-helpers.ts';
import type { CallContext } from '../provider.ts';

export function mapOpenAIFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    case 'content_filter':
      return 'content-filter';
    case 'tool_calls':
    case 'function_call':
      return 'tool-calls';
    case 'error':
      return 'error';
    default:
      return 'other';
  }
}

export function mapOpenAIUsage(usage: unknown): Usage {
  if (!isRecord(usage)) return noUsage();
  const inputTokens = typeof usage.prompt_tokens === 'number' ? usage.prompt_tokens : 0;
  const outputTokens = typeof usage.completion_tokens === 'number' ? usage.completion_tokens : 0;
  const result: Usage = {
    inputTokens,
    outputTokens,
    totalTokens: typeof usage.total_tokens === 'number' ? usage.total_tokens : inputTokens + outputTokens,
  };
  const cached = isRecord(usage.prompt_tokens_details)
    ? usage.prompt_tokens_details.cached_tokens
    : undefined;
  if (typeof cached === 'number') result.cachedInputTokens = cached;
  const reasoning = isRecord(usage.completion_tokens_details)
    ? usage.completion_tokens_details.reasoning_tokens
    : undefined;
  if (typeof reasoning === 'number') result.reasoningTokens = reasoning;
  return result;
}

/**
 * A chat completion → our result, from its first choice: text, refusal, tool calls and (from compatible
 * servers that return it) reasoning, in the order a model produces them.
 */
export function parseOpenAIChatCompletion(body: unknown, context: CallContext): CompletionResult {
  const choices = isRecord(body) ? body.choices : undefined;
  if (!isRecord(body) || !Array.isArray(choices)) {
    throw invalidResponse(context, 'returned a completion without choices', { body });
  }
  const choice = (choices.find((c) => isRecord(c) && (c.index ?? 0) === 0) ?? choices[0]) as Json | undefined;
  const message = isRecord(choice?.message) ? choice.message : {};
  const assembler = new MessageAssembler();
  // vLLM, DeepSeek and llama.cpp call it `reasoning_content`; Ollama's /v1 and OpenRouter `reasoning`.
  const reasoning = message.reasoning_content ?? message.reasoning;
  if (typeof reasoning === 'string' && reasoning.length > 0) assembler.addReasoning(reasoning);
  // Legacy `/v1/completions` choices carry `text` instead of a message; read both.
  const content =
    typeof message.content === 'string'
      ? message.content
      : typeof choice?.text === 'string'
        ? choice.text
        : '';
  const refusal =
    typeof message.refusal === 'string' && message.refusal.length > 0 ? message.refusal : undefined;
  // A refusal with no content is the answer's text too (and `refusal` says it was one).
  assembler.addText(content || refusal || '');
  if (Array.isArray(message.tool_calls)) {
    for (const call of message.tool_calls) {
      if (!isRecord(call)) continue;
      const fn = isRecord(call.function) ? call.function : {};
      const args = fn.arguments;
      assembler.addToolCall(
        typeof call.id === 'string' ? call.id : undefined,
        typeof fn.name === 'string' ? fn.name : '',
        // Some compatible servers send the arguments as an object.
        typeof args === 'string' ? args : args === undefined || args === null ? '' : JSON.stringify(args),
      );
    }
  }
  const rawFinishReason = typeof choice?.finish_reason === 'string' ? choice.finish_reason : undefined;
  return completionResult(
    {
      finishReason: refusal && !content ? 'content-filter' : mapOpenAIFinishReason(rawFinishReason),
      rawFinishReason,
      usage: mapOpenAIUsage(body.usage),
      model: nonEmptyString(body.model),
      id: typeof body.id === 'string' ? body.id : undefined,
      refusal,
      raw: body,
    },
    context,
    assembler,
  );
}

/** Little-endian float32 vectors, as `encoding_format: base64` sends them. */
export function decodeBase64Embedding(encoded: string): number[] {
  const bytes = Buffer.from(encoded, 'base64');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Array<number>(bytes.byteLength >>> 2);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

/** An embeddings response → vectors in input order (by each item's `index`). */
export function parseOpenAIEmbeddings(body: unknown, expected: number, context: CallContext): number[][] {
  const data = isRecord(body) ? body.data : undefined;
  const invalid = (why: string) => invalidEmbeddings(context, why, body);
  if (!Array.isArray(data)) throw invalid('no data array');
  if (data.length !== expected) throw invalid(`expected ${expected} vectors, got ${data.length}`);
  const vectors = new Array<number[]>(expected);
  for (let position = 0; position < data.length; position++) {
    const item = data[position] as Json;
    const index = typeof item?.index === 'number' ? item.index : position;
    const embedding = item?.embedding;
    if (index < 0 || index >= expected) throw invalid(`index ${index} out of range`);
    if (typeof embedding === 'string') vectors[index] = decodeBase64Embedding(embedding);
    else if (Array.isArray(embedding)) vectors[index] = embedding as number[];
    else throw invalid(`item ${position} has no embedding`);
  }
  for (let i = 0; i < expected; i++) if (!vectors[i]) throw invalid(`no vector for input ${i}`);
  return vectors;
}
