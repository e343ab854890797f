/**
 * The frame decoder for `streamGenerateContent?alt=sse`: SSE (CRLF-framed) handed to the shared
 * `SseDecoder`, plus what Gemini sends outside SSE framing. A failure mid-stream can arrive as a bare,
 * pretty-printed `{"error":…}` object after the events, and a body without `alt=sse` is a JSON array;
 * neither is SSE, and an SSE decoder alone would drop them silently. Such text is collected and handed on
 * as one frame with event `raw`, once it parses (an object) or at the end of the body.
 *
 * The hot path stays one regular-expression scan per chunk: a line that starts with `{` or `[` cannot be
 * SSE (a JSON string holds no raw newline), so only that switches to collecting.
 */
import type { FrameDecoder, StreamFrame } from '../../http/frames.ts';
import { SseDecoder } from '../../http/sse.ts';

/** The event name of a frame that carries JSON sent outside SSE framing. */
export const RAW_FRAME_EVENT = 'raw';

const RAW_AFTER_NEWLINE = /[\r\n][{[]/;

function startsRaw(code: number): boolean {
  return code === 123 /* { */ || code === 91 /* [ */;
}

/** Cuts a `streamGenerateContent` body into SSE frames and `raw` frames (JSON outside SSE framing). */
export class GeminiStreamDecoder implements FrameDecoder {
  readonly #sse = new SseDecoder();
  readonly #text = new TextDecoder('utf-8');
  #atLineStart = true;
  /** Text outside SSE framing, once some has been seen. */
  #raw: string | undefined;

  push(chunk: Uint8Array, onFrame: (frame: StreamFrame) => void): void {
    this.#take(this.#text.decode(chunk, { stream: true }), onFrame);
  }

  end(onFrame: (frame: StreamFrame) => void): void {
    const rest = this.#text.decode();
    if (rest) this.#take(rest, onFrame);
    if (this.#raw !== undefined) {
      const raw = this.#raw.trim();
      this.#raw = undefined;
      if (raw) onFrame({ event: RAW_FRAME_EVENT, data: raw });
      return;
    }
    this.#sse.end(onFrame);
  }

  #take(text: string, onFrame: (frame: StreamFrame) => void): void {
    if (text.length === 0) return;
    if (this.#raw === undefined) {
      let at = -1;
      if (this.#atLineStart && startsRaw(text.charCodeAt(0))) at = 0;
      else {
        const match = RAW_AFTER_NEWLINE.exec(text);
        if (match) at = match.index + 1;
      }
      if (at === -1) {
        const last = text.charCodeAt(text.length - 1);
        this.#atLineStart = last === 10 || last === 13;
        this.#sse.push(text, onFrame);
        return;
      }
      // Events before the bare JSON are delivered first, whole.
      if (at > 0) this.#sse.push(text.slice(0, at), onFrame);
      this.#sse.end(onFrame);
      this.#raw = text.slice(at);
    } else {
      this.#raw += text;
    }
    this.#flushObject(onFrame);
  }

  /** A bare object is handed on as soon as it is complete; an array waits for the end of the body. */
  #flushObject(onFrame: (frame: StreamFrame) => void): void {
    const raw = this.#raw!.trim();
    if (raw.charCodeAt(0) !== 123 || raw.charCodeAt(raw.length - 1) !== 125) return;
    try {
      JSON.parse(raw);
    } catch {
      return; // not complete yet
    }
    this.#raw = undefined;
    this.#atLineStart = true;
    onFrame({ event: RAW_FRAME_EVENT, data: raw });
  }
}
