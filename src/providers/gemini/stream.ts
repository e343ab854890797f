/**
 * `streamGenerateContent` frames → our stream events. Every event is a whole `GenerateContentResponse`:
 * the first candidate's parts become reasoning deltas (thought summaries), text deltas and tool calls (one
 * `tool-call` per `functionCall` part, which arrives whole; Vertex's streamed arguments when their closing
 * piece comes), usage is the last `usageMetadata` seen. A `thoughtSignature` on the trailing empty text
 * part goes to the text before it. Older models repeat `finishReason` on every
 * chunk, so the last one counts. Gemini sends no end marker: the stream is complete when the body ends
 * after a finish reason (or a prompt block) was seen, and cut short otherwise.
 */
import type { StreamFrame } from '../../http/frames.ts';
import { isRecord } from '../../spec/json.ts';
import type { FinishEvent, FinishReason, StreamEvent, Usage } from '../../spec/types.ts';
import { finishEvent, parseFrameJson, streamEndedEarly } from '../parse-helpers.ts';
import type { CallContext, StreamParser } from '../provider.ts';
import { mapGeminiBodyError } from './errors.ts';
import {
  blockReasonOf,
  firstCandidate,
  GeminiPartReader,
  mapGeminiFinishReason,
  mapGeminiUsage,
  partsOf,
} from './response.ts';
import { RAW_FRAME_EVENT } from './stream-decoder.ts';

/** One streamed response's frames → reasoning, text and tool-call events, then one finish event. */
export class GeminiStreamParser implements StreamParser {
  /** Gemini has no end-of-stream event: the client reads to the end of the body. */
  readonly done = false;
  #finishReason: string | undefined;
  #blockReason: string | undefined;
  #blocked = false;
  #usage: Usage | undefined;
  #id: string | undefined;
  #model: string | undefined;
  readonly #parts = new GeminiPartReader();
  readonly #context: CallContext;

  constructor(context: CallContext) {
    this.#context = context;
  }

  onEvent(frame: StreamFrame, out: StreamEvent[]): void {
    const payload = parseFrameJson(frame.data, this.#context);
    // Without `alt=sse` the body is one JSON array of responses.
    if (frame.event === RAW_FRAME_EVENT && Array.isArray(payload)) {
      for (const item of payload) this.#chunk(item, out);
    } else this.#chunk(payload, out);
  }

  #chunk(chunk: unknown, out: StreamEvent[]): void {
    if (!isRecord(chunk)) return;
    if (chunk.error !== undefined) throw mapGeminiBodyError(chunk, this.#context, 'stream');
    if (typeof chunk.modelVersion === 'string' && chunk.modelVersion) this.#model = chunk.modelVersion;
    if (typeof chunk.responseId === 'string' && chunk.responseId) this.#id = chunk.responseId;
    if (chunk.usageMetadata !== undefined) this.#usage = mapGeminiUsage(chunk.usageMetadata);
    const candidates = chunk.candidates;
    if (!Array.isArray(candidates) || candidates.length === 0) {
      if (isRecord(chunk.promptFeedback)) {
        this.#blocked = true;
        this.#blockReason = blockReasonOf(chunk) ?? this.#blockReason;
      }
      return;
    }
    const candidate = firstCandidate(candidates);
    if (!candidate) return;
    for (const part of partsOf(candidate)) this.#parts.read(part, false, out);
    if (typeof candidate.finishReason === 'string') {
      this.#finishReason = candidate.finishReason;
      this.#parts.end(out);
    }
  }

  finish(): FinishEvent {
    if (this.#finishReason === undefined && !this.#blocked) {
      throw streamEndedEarly(this.#context, 'no finishReason');
    }
    let finishReason: FinishReason;
    let rawFinishReason: string | undefined;
    if (this.#finishReason !== undefined) {
      rawFinishReason = this.#finishReason;
      finishReason = mapGeminiFinishReason(rawFinishReason);
    } else {
      rawFinishReason = this.#blockReason;
      finishReason = 'content-filter';
    }
    return finishEvent(
      { finishReason, rawFinishReason, usage: this.#usage, model: this.#model, id: this.#id },
      this.#context,
      this.#parts.assembler,
    );
  }
}
