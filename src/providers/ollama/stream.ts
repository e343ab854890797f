/**
 * Ollama's NDJSON stream → our stream events. Each line is a whole chat object: `message.thinking` is the
 * next piece of reasoning, `message.content` the next piece of text, `message.tool_calls` whole calls
 * (Ollama never splits a call's arguments, so each call is one `tool-call-delta` and its `tool-call` at
 * once), and the line with `done: true` carries `done_reason` and the counts. A line `{"error": "…"}` is
 * the server's mid-stream failure (the HTTP status stays 200). One JSON.parse per line, nothing validated.
 */
import type { StreamFrame } from '../../http/frames.ts';
import { isRecord, type Json } from '../../spec/json.ts';
import type { FinishEvent, StreamEvent, Usage } from '../../spec/types.ts';
import { MessageAssembler } from '../message-assembly.ts';
import { finishEvent, parseFrameJson, streamEndedEarly } from '../parse-helpers.ts';
import type { CallContext, StreamParser } from '../provider.ts';
import { mapOllamaBodyError } from './errors.ts';
import { addOllamaMessage, mapOllamaDoneReason, mapOllamaUsage } from './response.ts';

/** One streamed `/api/chat` body, line by line (the adapter's `createStreamParser`). */
export class OllamaStreamParser implements StreamParser {
  done = false;
  #doneReason: string | undefined;
  #usage: Usage | undefined;
  #model: string | undefined;
  readonly #context: CallContext;
  readonly #assembler = new MessageAssembler();

  constructor(context: CallContext) {
    this.#context = context;
  }

  onEvent(frame: StreamFrame, out: StreamEvent[]): void {
    const line = parseFrameJson(frame.data, this.#context, 'a stream line');
    if (!isRecord(line)) return;
    if (line.error !== undefined) throw mapOllamaBodyError(line, this.#context, 'stream');
    if (typeof line.model === 'string' && line.model) this.#model = line.model;
    addOllamaMessage(line, this.#assembler, out);
    if (line.done === true) {
      this.done = true;
      this.#doneReason = typeof line.done_reason === 'string' ? line.done_reason : undefined;
      this.#usage = mapOllamaUsage(line as Json);
    }
  }

  finish(): FinishEvent {
    if (!this.done) throw streamEndedEarly(this.#context, 'no line with done: true');
    return finishEvent(
      {
        finishReason: mapOllamaDoneReason(this.#doneReason),
        rawFinishReason: this.#doneReason,
        usage: this.#usage,
        model: this.#model,
      },
      this.#context,
      this.#assembler,
    );
  }
}
