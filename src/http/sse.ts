/**
 * A `text/event-stream` decoder that takes bytes as they come: CRLF, CR or LF line ends, chunks split
 * anywhere (inside a line, inside a CRLF pair, inside a UTF-8 character), comments, multi-line `data`,
 * and a last event without its blank line. Linear in its input however long a line is (`LineReader`),
 * and an event over `maxEventBytes` ends the stream. It does not interpret `data`; `[DONE]` and JSON are
 * the provider's business.
 */

import type { FrameDecoder, FrameDecoderOptions, StreamFrame } from './frames.ts';
import { LineReader } from './line-reader.ts';

/** An SSE event: `event` is the `event:` field, or 'message' when there was none. */
export type SseEvent = StreamFrame;

export class SseDecoder implements FrameDecoder {
  readonly #decoder = new TextDecoder('utf-8');
  readonly #lines: LineReader;
  #data: string[] = [];
  #event = '';
  #id: string | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.#lines = new LineReader(true, options);
  }

  /** Feeds bytes (or text) and calls `onEvent` for every event they complete. */
  push(chunk: Uint8Array | string, onEvent: (event: SseEvent) => void): void {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    if (text.length === 0) return;
    this.#lines.push(text, (line) => this.#line(line, onEvent));
  }

  /** Flushes what is left at the end of the body. */
  end(onEvent: (event: SseEvent) => void): void {
    const onLine = (line: string) => this.#line(line, onEvent);
    const rest = this.#decoder.decode();
    if (rest) this.#lines.push(rest, onLine);
    this.#lines.end(onLine);
    this.#dispatch(onEvent);
  }

  /** One line; true when it was the blank line that ends an event. */
  #line(line: string, onEvent: (event: SseEvent) => void): boolean {
    if (line.length === 0) {
      this.#dispatch(onEvent);
      return true;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return false;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        this.#id = value;
        break;
      default:
        // `retry` and unknown fields are ignored, as the spec says.
        break;
    }
    return false;
  }

  #dispatch(onEvent: (event: SseEvent) => void): void {
    if (this.#data.length === 0) {
      this.#event = '';
      return;
    }
    const event: SseEvent = {
      event: this.#event || 'message',
      data: this.#data.length === 1 ? this.#data[0]! : this.#data.join('\n'),
    };
    if (this.#id !== undefined) event.id = this.#id;
    this.#data = [];
    this.#event = '';
    onEvent(event);
  }
}
