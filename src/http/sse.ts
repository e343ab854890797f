/**
 * A `text/event-stream` decoder that takes bytes as they come: CRLF, CR or LF line ends, chunks split
 * anywhere (inside a line, inside a CRLF pair, inside a UTF-8 character), comments, multi-line `data`,
 * and a last event without its blank line. It does not interpret `data`; `[DONE]` and JSON are the
 * provider's business.
 */

import type { FrameDecoder, StreamFrame } from './frames.ts';

/** An SSE event: `event` is the `event:` field, or 'message' when there was none. */
export type SseEvent = StreamFrame;

export class SseDecoder implements FrameDecoder {
  readonly #decoder = new TextDecoder('utf-8');
  #buffer = '';
  #data: string[] = [];
  #event = '';
  #id: string | undefined;

  /** Feeds bytes (or text) and calls `onEvent` for every event they complete. */
  push(chunk: Uint8Array | string, onEvent: (event: SseEvent) => void): void {
    const text = typeof chunk === 'string' ? chunk : this.#decoder.decode(chunk, { stream: true });
    let buffer = this.#buffer + text;
    if (buffer.includes('\r')) {
      // Hold back a trailing CR: its LF may be the first byte of the next chunk.
      const held = buffer.endsWith('\r') ? '\r' : '';
      if (held) buffer = buffer.slice(0, -1);
      buffer = buffer.replace(/\r\n?/g, '\n');
      this.#scan(buffer, onEvent, held);
      return;
    }
    this.#scan(buffer, onEvent, '');
  }

  /** Flushes what is left at the end of the body. */
  end(onEvent: (event: SseEvent) => void): void {
    const rest = this.#decoder.decode();
    let buffer = (this.#buffer + rest).replace(/\r\n?/g, '\n');
    this.#buffer = '';
    if (buffer.length > 0 && !buffer.endsWith('\n')) buffer += '\n';
    this.#scan(buffer, onEvent, '');
    this.#dispatch(onEvent);
  }

  #scan(buffer: string, onEvent: (event: SseEvent) => void, held: string): void {
    let start = 0;
    for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n', start)) {
      this.#line(buffer.slice(start, newline), onEvent);
      start = newline + 1;
    }
    this.#buffer = (start === 0 ? buffer : buffer.slice(start)) + held;
  }

  #line(line: string, onEvent: (event: SseEvent) => void): void {
    if (line.length === 0) {
      this.#dispatch(onEvent);
      return;
    }
    if (line.charCodeAt(0) === 58 /* ':' comment */) return;
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
