/**
 * Ollama's NDJSON stream → our stream events. Each line is a whole chat object: `message.content` is the
 * next piece of text, `message.tool_calls` whole calls (Ollama does not split their arguments), and the
 * line with `done: true` carries `done_reason` and the counts. A line `{"error": "…"}` is the server's
 * mid-stream failure (the HTTP status stays 200). One JSON.parse per line, nothing validated.
 */
import type { StreamFrame } from '../../http/frames.ts';
import { LLMInvalidResponseError } from '../../spec/errors.ts';
import type { FinishEvent, StreamEvent, Usage } from '../../spec/types.ts';
import type { CallContext, StreamParser } from '../provider.ts';
import { mapOllamaStreamError } from './errors.ts';
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
    let line: Line;
    try {
      line = JSON.parse(frame.data) as Line;
    } catch (cause) {
      throw new LLMInvalidResponseError(`${this.#context.provider} sent a stream line that is not JSON`, {
        provider: this.#context.provider,
        model: this.#context.model,
        requestId: this.#context.requestId,
        body: frame.data.slice(0, 2048),
        // Retried only when nothing was produced yet (the client decides): corruption is usually transient.
        retryable: true,
        cause,
      });
    }
    if (line === null || typeof line !== 'object') return;
    if (line.error !== undefined) throw mapOllamaStreamError(line, this.#context);
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
    if (!this.done) {
      throw new LLMInvalidResponseError(
        `${this.#context.provider} stream ended before the model finished (no line with done: true)`,
        {
          provider: this.#context.provider,
          model: this.#context.model,
          requestId: this.#context.requestId,
          retryable: true,
        },
      );
    }
    const event: FinishEvent = {
      type: 'finish',
      finishReason: mapOllamaDoneReason(this.#doneReason, this.#toolCalls > 0),
      usage: this.#usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
    };
    if (this.#doneReason !== undefined) event.rawFinishReason = this.#doneReason;
    if (this.#model !== undefined) event.model = this.#model;
    if (this.#context.requestId !== undefined) event.requestId = this.#context.requestId;
    return event;
  }
}
