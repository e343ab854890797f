/**
 * Chat Completions SSE → our stream events. One JSON.parse per event and no validation on the hot path;
 * only choice 0 is surfaced (as for the non-streaming text). Usage comes from the final `choices: []`
 * chunk that `stream_options.include_usage` asks for.
 *
 * Tool calls are assembled by their `index` (falling back to the `id`, then to the call in progress, for
 * compatible servers that omit or repeat indexes) and each ends — one `tool-call` event — when the
 * finish reason or `[DONE]` arrives, never when its arguments happen to parse.
 */
import type { SseEvent } from '../../http/sse.ts';
import type { FinishEvent, StreamEvent, Usage } from '../../spec/types.ts';
import { MessageAssembler } from '../message-assembly.ts';
import { finishEvent, parseFrameJson, streamEndedEarly } from '../parse-helpers.ts';
import type { CallContext, StreamParser } from '../provider.ts';
import { mapOpenAIStreamError } from './errors.ts';
import { mapOpenAIFinishReason, mapOpenAIUsage } from './response.ts';

interface ToolCallDelta {
  index?: number;
  id?: string;
  function?: { name?: string; arguments?: string | Record<string, unknown> };
}
interface Delta {
  content?: string | null;
  refusal?: string | null;
  reasoning_content?: string | null;
  reasoning?: string | null;
  tool_calls?: ToolCallDelta[];
}
interface Chunk {
  id?: string;
  model?: string;
  choices?: Array<{ index?: number; delta?: Delta; text?: string; finish_reason?: string | null }>;
  usage?: unknown;
  error?: unknown;
}

export class OpenAIStreamParser implements StreamParser {
  done = false;
  #finishReason: string | undefined;
  #refusal: string | undefined;
  #hasContent = false;
  #usage: Usage | undefined;
  #id: string | undefined;
  #model: string | undefined;
  readonly #context: CallContext;
  readonly #assembler = new MessageAssembler();
  /** Provider key → our key for each call, and the ids seen at each key. */
  readonly #callIds = new Map<string | number, string>();
  #latestCall: string | number | undefined;

  constructor(context: CallContext) {
    this.#context = context;
  }

  onEvent(event: SseEvent, out: StreamEvent[]): void {
    const data = event.data;
    if (data === '[DONE]') {
      this.done = true;
      this.#assembler.endOpenToolCalls(out);
      return;
    }
    const chunk = parseFrameJson(data, this.#context) as Chunk;
    if (chunk.error !== undefined || event.event === 'error') {
      throw mapOpenAIStreamError(chunk.error !== undefined ? chunk : { error: chunk }, this.#context);
    }
    if (chunk.id) this.#id = chunk.id;
    if (chunk.model) this.#model = chunk.model;
    if (chunk.usage) this.#usage = mapOpenAIUsage(chunk.usage);
    const choices = chunk.choices;
    if (!choices || choices.length === 0) return;
    for (const choice of choices) {
      if ((choice.index ?? 0) !== 0) continue;
      const delta = choice.delta;
      if (delta) {
        const reasoning = delta.reasoning_content ?? delta.reasoning;
        if (reasoning) this.#assembler.addReasoning(reasoning, out);
        if (delta.content) {
          this.#hasContent = true;
          this.#assembler.addText(delta.content, out);
        } else if (delta.refusal) {
          this.#refusal = (this.#refusal ?? '') + delta.refusal;
          this.#assembler.addText(delta.refusal, out);
        }
        if (delta.tool_calls) for (const call of delta.tool_calls) this.#toolCall(call, out);
      } else if (choice.text) this.#assembler.addText(choice.text, out); // legacy completions
      if (choice.finish_reason) {
        this.#finishReason = choice.finish_reason;
        this.#assembler.endOpenToolCalls(out);
      }
    }
  }

  #toolCall(call: ToolCallDelta, out: StreamEvent[]): void {
    const id = call.id || undefined; // some servers send `id: ""` on continuations
    let key: string | number | undefined = call.index ?? id ?? this.#latestCall;
    if (key === undefined) key = 0;
    const seen = this.#callIds.get(key);
    // A new id at an index already in use is a new call (servers that reuse index 0 for every call).
    if (id !== undefined && seen !== undefined && seen !== id) key = `${key}:${id}`;
    if (id !== undefined) this.#callIds.set(key, id);
    this.#latestCall = key;
    const name = call.function?.name || undefined;
    const args = call.function?.arguments;
    this.#assembler.startToolCall(key, id, name, out);
    const text = typeof args === 'string' ? args : args ? JSON.stringify(args) : '';
    this.#assembler.addToolCallArguments(key, text, out, name);
  }

  finish(): FinishEvent {
    if (!this.done && this.#finishReason === undefined) {
      throw streamEndedEarly(this.#context, 'no finish_reason, no [DONE]');
    }
    const refusedOnly = this.#refusal !== undefined && !this.#hasContent;
    return finishEvent(
      {
        finishReason: refusedOnly ? 'content-filter' : mapOpenAIFinishReason(this.#finishReason),
        rawFinishReason: this.#finishReason,
        usage: this.#usage,
        model: this.#model,
        id: this.#id,
        refusal: this.#refusal,
      },
      this.#context,
      this.#assembler,
    );
  }
}
