/** Newline-delimited JSON (Ollama's streams): one frame per non-empty line, split anywhere. */
import type { FrameDecoder, StreamFrame } from './frames.ts';

export class NdjsonDecoder implements FrameDecoder {
  readonly #decoder = new TextDecoder('utf-8');
  #buffer = '';

  push(chunk: Uint8Array, onFrame: (frame: StreamFrame) => void): void {
    const buffer = this.#buffer + this.#decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n', start)) {
      const line = buffer.slice(start, newline).trim();
      if (line) onFrame({ event: 'message', data: line });
      start = newline + 1;
    }
    this.#buffer = start === 0 ? buffer : buffer.slice(start);
  }

  end(onFrame: (frame: StreamFrame) => void): void {
    const line = (this.#buffer + this.#decoder.decode()).trim();
    this.#buffer = '';
    if (line) onFrame({ event: 'message', data: line });
  }
}
