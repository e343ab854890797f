/**
 * Reads Ollama's native responses: `/api/chat` (and the `/api/generate` shape, whose text is in `response`)
 * and `/api/embed`. Lenient: unknown fields are ignored and kept in `raw`; counts that are missing are 0.
 */
import { isRecord, type Json } from '../../spec/json.ts';
import type { CompletionResult, FinishReason, ToolCall, Usage } from '../../spec/types.ts';
import { invalidEmbeddings, invalidResponse } from '../error-helpers.ts';
import { completionResult, nonEmptyString } from '../parse-helpers.ts';
import type { CallContext } from '../provider.ts';
import { mapOllamaBodyError } from './errors.ts';

/**
 * `done_reason` → our finish reason. Tool calls win (Ollama says `stop` when it made them); `load` and
 * `unload` (an empty request that only loads or unloads the model) are `other`. Servers before
 * `done_reason` existed sent only `done: true`, which meant the model stopped.
 */
export function mapOllamaDoneReason(reason: unknown, madeToolCalls: boolean): FinishReason {
  if (madeToolCalls) return 'tool-calls';
  switch (reason) {
    case undefined:
    case null:
    case 'stop':
      return 'stop';
    case 'length':
      return 'length';
    default:
      return 'other';
  }
}

/** `prompt_eval_count` / `eval_count` of a final object; either may be missing (a cached prompt, say). */
export function mapOllamaUsage(body: Json): Usage {
  const inputTokens = typeof body.prompt_eval_count === 'number' ? body.prompt_eval_count : 0;
  const outputTokens = typeof body.eval_count === 'number' ? body.eval_count : 0;
  return { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens };
}

/** One of `message.tool_calls` → our tool call. Ollama sends arguments as an object; we keep JSON text. */
export function ollamaToolCall(call: unknown, index: number): ToolCall {
  const entry = isRecord(call) ? call : {};
  const fn = isRecord(entry.function) ? entry.function : {};
  const args = fn.arguments;
  return {
    id: typeof entry.id === 'string' && entry.id ? entry.id : `call_${index}`,
    name: typeof fn.name === 'string' ? fn.name : '',
    arguments: typeof args === 'string' ? args : JSON.stringify(args ?? {}),
  };
}

/** The text of a chat object (`message.content`) or of a generate object (`response`). */
export function ollamaTextOf(body: Json): string {
  const message = isRecord(body.message) ? body.message : undefined;
  if (typeof message?.content === 'string') return message.content;
  return typeof body.response === 'string' ? body.response : '';
}

/**
 * A non-streaming chat object → our result. `message.thinking` (a reasoning model's thoughts) is not part
 * of the text; it stays in `raw`. A 200 body that is `{"error": …}` is thrown as the error it names.
 */
export function parseOllamaChat(body: unknown, context: CallContext): CompletionResult {
  if (isRecord(body) && typeof body.error === 'string') throw mapOllamaBodyError(body, context, 'body');
  if (!isRecord(body) || (!('message' in body) && !('response' in body) && !('done' in body))) {
    throw invalidResponse(context, 'returned a chat response without a message', { body });
  }
  const message = isRecord(body.message) ? body.message : {};
  const toolCalls = Array.isArray(message.tool_calls)
    ? message.tool_calls.map((call, index) => ollamaToolCall(call, index))
    : [];
  const rawFinishReason = typeof body.done_reason === 'string' ? body.done_reason : undefined;
  // Ollama gives a completion no id.
  return completionResult(
    {
      text: ollamaTextOf(body),
      finishReason: mapOllamaDoneReason(rawFinishReason, toolCalls.length > 0),
      rawFinishReason,
      usage: mapOllamaUsage(body),
      model: nonEmptyString(body.model),
      toolCalls,
      raw: body,
    },
    context,
  );
}

/**
 * An `/api/embed` body → vectors in input order (`embeddings` is in input order). The legacy
 * `/api/embeddings` shape, one `embedding`, is read too when one vector was asked for.
 */
export function parseOllamaEmbeddings(body: unknown, expected: number, context: CallContext): number[][] {
  const invalid = (why: string) => invalidEmbeddings(context, why, body);
  if (!isRecord(body)) throw invalid('not an object');
  const vectors =
    Array.isArray(body.embeddings) || expected !== 1 || !Array.isArray(body.embedding)
      ? body.embeddings
      : [body.embedding];
  if (!Array.isArray(vectors)) throw invalid('no embeddings array');
  if (vectors.length !== expected) throw invalid(`expected ${expected} vectors, got ${vectors.length}`);
  vectors.forEach((vector, index) => {
    if (!Array.isArray(vector)) throw invalid(`item ${index} is not a vector`);
  });
  return vectors as number[][];
}
