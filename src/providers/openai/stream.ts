/**
 * Chat Completions SSE → our stream events. One JSON.parse per event and no validation on the hot path;
 * only choice 0 is surfaced (as for the non-streaming text). Usage comes from the final `choices: []`
 * chunk that `stream_options.include_usage` asks for.
 */
import type { SseEvent } from '../../http/sse.ts';
import type { FinishEvent, StreamEvent, Usage } from '../../spec/types.ts';
import { finishEvent, parseFrameJson, streamEndedEarly } from '../parse-helpers.ts';
import type { CallContext, StreamParser } from '../provider.ts';
import { mapOpenAIStreamError } from './errors.ts';
import { mapOpenAIFinishReason, mapOpenAIUsage } from './response.ts';

interface Delta {
  content?: string | null;
  refusal?: string | null;
  tool_calls?: Array<{ index?: number; id?: string; function?: { name?: string; arguments?: string } }>;
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
  #refused = false;
  #usage: Usage | undefined;
  #id: string | undefined;
  #model: string | undefined;
  readonly #context: CallContext;

  constructor(context: CallContext) {
    this.#context = context;
  }

  onEvent(event: SseEvent, out: StreamEvent[]): void {
    const data = event.data;
    if (data === '[DONE]') {
      this.done = true;
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
        if (delta.content) out.push({ type: 'text-delta', text: delta.content });
        else if (delta.refusal) {
          this.#refused = true;
          out.push({ type: 'text-delta', text: delta.refusal });
        }
        if (delta.tool_calls) {
          for (const call of delta.tool_calls) {
            const event: StreamEvent = {
              type: 'tool-call-delta',
              index: call.index ?? 0,
              argumentsDelta: call.function?.arguments ?? '',
            };
            if (call.id) event.id = call.id;
            if (call.function?.name) event.name = call.function.name;
            out.push(event);
          }
        }
      } else if (choice.text) out.push({ type: 'text-delta', text: choice.text }); // legacy completions
      if (choice.finish_reason) this.#finishReason = choice.finish_reason;
    }
  }

  finish(): FinishEvent {
    if (!this.done && this.#finishReason === undefined) {
      throw streamEndedEarly(this.#context, 'no finish_reason, no [DONE]');
    }
    return finishEvent(
      {
        finishReason: this.#refused ? 'content-filter' : mapOpenAIFinishReason(this.#finishReason),
        rawFinishReason: this.#finishReason,
        usage: this.#usage,
        model: this.#model,
        id: this.#id,
      },
      this.#context,
    );
  }
}
