/**
 * Reads Ollama's native responses: `/api/chat` (and the `/api/generate` shape, whose text is in `response`)
 * and `/api/embed`. Lenient: unknown fields are ignored and kept in `raw`; counts that are missing are 0.
 */
import { isRecord, type Json } from '../../spec/json.ts';
import type { CompletionResult, FinishReason, StreamEvent, Usage } from '../../spec/types.ts';
import { invalidEmbeddings, invalidResponse } from '../error-helpers.ts';
import { MessageAssembler } from '../message-assembly.ts';
import { completionResult, nonEmptyString } from '../parse-helpers.ts';
import type { CallContext } from '../provider.ts';
import { mapOllamaBodyError } from './errors.ts';

/**
 * `done_reason` → our finish reason (the assembler turns it into `tool-calls` when the model called a tool:
 * Ollama says `stop` then). `load` and `unload` (an empty request that only loads or unloads the model) are
 * `other`. Servers before `done_reason` existed sent only `done: true`, which meant the model stopped.
 */
export function mapOllamaDoneReason(reason: unknown): FinishReason {
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

/**
 * Adds what one chat object carries (a whole body, or one line of a stream) to `assembler`, in the order a
 * model produces it: `thinking` (reasoning), `content` (text), `tool_calls` (each whole: Ollama never splits
 * a call). The `/api/generate` shape carries the same at the top level, its text in `response`. Tool-call
 * JSON that a model wrote as plain content stays text: only the server's parser makes it a call.
 */
export function addOllamaMessage(body: Json, assembler: MessageAssembler, out?: StreamEvent[]): void {
  const message = isRecord(body.message) ? body.message : body;
  if (typeof message.thinking === 'string' && message.thinking !== '') {
    assembler.addReasoning(message.thinking, out);
  }
  const text = typeof message.content === 'string' ? message.content : body.response;
  if (typeof text === 'string') assembler.addText(text, out);
  if (!Array.isArray(message.tool_calls)) return;
  for (const call of message.tool_calls) {
    const entry = isRecord(call) ? call : {};
    const fn = isRecord(entry.function) ? entry.function : {};
    const args = fn.arguments;
    assembler.addToolCall(
      // Current servers give `call_…` ids; older ones none (the assembler makes one up).
      nonEmptyString(entry.id),
      typeof fn.name === 'string' ? fn.name : '',
      // An object on Ollama's wire; a JSON string from some proxies and forks.
      typeof args === 'string' ? args : args === undefined || args === null ? '' : JSON.stringify(args),
      out,
    );
  }
}

/**
 * A non-streaming chat object → our result: thinking as a reasoning part, text, and tool calls with their
 * arguments as JSON text. A 200 body that is `{"error": …}` is thrown as the error it names. Thoughts a
 * model writes inline (`<think>…</think>` in `content`, when `think` was not set) stay in the text: Ollama
 * itself separates thinking into `thinking` when asked to, and a tag in an answer may be the answer.
 */
export function parseOllamaChat(body: unknown, context: CallContext): CompletionResult {
  if (isRecord(body) && typeof body.error === 'string') throw mapOllamaBodyError(body, context, 'body');
  if (!isRecord(body) || (!('message' in body) && !('response' in body) && !('done' in body))) {
    throw invalidResponse(context, 'returned a chat response without a message', { body });
  }
  const assembler = new MessageAssembler();
  addOllamaMessage(body, assembler);
  const rawFinishReason = typeof body.done_reason === 'string' ? body.done_reason : undefined;
  // Ollama gives a completion no id.
  return completionResult(
    {
      finishReason: mapOllamaDoneReason(rawFinishReason),
      rawFinishReason,
      usage: mapOllamaUsage(body),
      model: nonEmptyString(body.model),
      raw: body,
    },
    context,
    assembler,
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
