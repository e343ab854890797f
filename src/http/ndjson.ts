/**
 * Newline-delimited JSON (Ollama's streams): one frame per non-empty line, split anywhere. Linear in its
 * input however long a line is (`LineReader`); a line over `maxEventBytes` ends the stream.
 */
import type { FrameDecoder, FrameDecoderOptions, StreamFrame } from './frames.ts';
import { LineReader } from './line-reader.ts';

export class NdjsonDecoder implements FrameDecoder {
  readonly #decoder = new TextDecoder('utf-8');
  readonly #lines: LineReader;

  constructor(options: FrameDecoderOptions = {}) {
    this.#lines = new LineReader(false, options);
  }

  push(chunk: Uint8Array, onFrame: (frame: StreamFrame) => void): void {
    const text = this.#decoder.decode(chunk, { stream: true });
    if (text.length > 0) this.#lines.push(text, (line) => emitLine(line, onFrame));
  }

  end(onFrame: (frame: StreamFrame) => void): void {
    const onLine = (line: string) => emitLine(line, onFrame);
    const rest = this.#decoder.decode();
    if (rest) this.#lines.push(rest, onLine);
    this.#lines.end(onLine);
  }
}

/** Every line is a frame of its own (blank ones carry nothing). */
function emitLine(line: string, onFrame: (frame: StreamFrame) => void): boolean {
  const data = line.trim();
  if (data) onFrame({ event: 'message', data });
  return true;
}
