/**
 * Ollama's NDJSON stream → our stream events. Each line is a whole chat object: `message.content` is the
 * next piece of text, `message.tool_calls` whole calls (Ollama does not split their arguments), and the
 * line with `done: true` carries `done_reason` and the counts. A line `{"error": "…"}` is the server's
 * mid-stream failure (the HTTP status stays 200). One JSON.parse per line, nothing validated.
 */
import type { StreamFrame } from '../../http/frames.ts';
import type { FinishEvent, StreamEvent, Usage } from '../../spec/types.ts';
import { finishEvent, parseFrameJson, streamEndedEarly } from '../parse-helpers.ts';
import type { CallContext, StreamParser } from '../provider.ts';
import { mapOllamaBodyError } from './errors.ts';
import { mapOllamaDoneReason, mapOllamaUsage, ollamaToolCall } from './response.ts';

interface Line {
  model?: string;
  message?: { content?: string; thinking?: string; tool_calls?: unknown[] };
  /** `/api/generate` lines carry their text here. */
  response?: string;
  done?: boolean;
  done_reason?: string;
  error?: unknown;
}

/** One streamed `/api/chat` body, line by line (the adapter's `createStreamParser`). */
export class OllamaStreamParser implements StreamParser {
  done = false;
  #doneReason: string | undefined;
  #usage: Usage | undefined;
  #model: string | undefined;
  #toolCalls = 0;
  readonly #context: CallContext;

  constructor(context: CallContext) {
    this.#context = context;
  }

  onEvent(frame: StreamFrame, out: StreamEvent[]): void {
    const line = parseFrameJson(frame.data, this.#context, 'a stream line') as Line | null;
    if (line === null || typeof line !== 'object') return;
    if (line.error !== undefined) throw mapOllamaBodyError(line, this.#context, 'stream');
    if (line.model) this.#model = line.model;
    const message = line.message;
    const text = message ? message.content : line.response;
    if (text) out.push({ type: 'text-delta', text });
    if (message?.tool_calls) {
      for (const raw of message.tool_calls) {
        const index = this.#toolCalls++;
        const call = ollamaToolCall(raw, index);
        out.push({
          type: 'tool-call-delta',
          index,
          id: call.id,
          name: call.name,
          argumentsDelta: call.arguments,
        });
      }
    }
    if (line.done === true) {
      this.done = true;
      this.#doneReason = line.done_reason;
      this.#usage = mapOllamaUsage(line as Record<string, unknown>);
    }
  }

  finish(): FinishEvent {
    if (!this.done) throw streamEndedEarly(this.#context, 'no line with done: true');
    return finishEvent(
      {
        finishReason: mapOllamaDoneReason(this.#doneReason, this.#toolCalls > 0),
        rawFinishReason: this.#doneReason,
        usage: this.#usage,
        model: this.#model,
      },
      this.#context,
    );
  }
}
