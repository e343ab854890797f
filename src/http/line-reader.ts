/**
 * Cuts decoded text into lines as it arrives, in time linear in its length whatever the chunking: only
 * the new text is scanned for line ends, and a line cut across chunks is kept as a list of pieces joined
 * once, when its end arrives (never re-scanned or re-flattened per chunk). It also counts the bytes of
 * the frame being assembled (the lines since the last one that ended a frame), so that a server sending
 * one endless line is stopped once it passes the limit, with memory bounded by it.
 */

import { DEFAULT_MAX_EVENT_BYTES, eventTooLargeError, type FrameDecoderOptions } from './frames.ts';

const LF = 10;

/** Called with each whole line (without its line end); returns true when that line ended a frame. */
export type OnLine = (line: string) => boolean;

/** UTF-8 bytes of `text[from, to)`. */
function utf8Length(text: string, from: number, to: number): number {
  return Buffer.byteLength(from === 0 && to === text.length ? text : text.slice(from, to), 'utf8');
}

export class LineReader {
  readonly #crEndsLine: boolean;
  readonly #maxFrameBytes: number;
  readonly #options: FrameDecoderOptions;
  /** The start of a line whose end has not arrived yet, in the pieces it came in. */
  #pieces: string[] = [];
  /**
   * The last text ended with a CR: the line before it (in `#pieces`) is held until the next text says
   * whether an LF follows, so that a CRLF split across chunks counts in full towards the line's frame.
   */
  #heldCR = false;
  /** Bytes of the frame under way that earlier texts (or earlier parts of this one) carried. */
  #frameBytes = 0;

  /**
   * `crEndsLine`: SSE's CR, LF and CRLF each end a line; NDJSON's only LF. A frame is at most
   * `options.maxEventBytes` long, in UTF-8 bytes with its line ends.
   */
  constructor(crEndsLine: boolean, options: FrameDecoderOptions) {
    this.#crEndsLine = crEndsLine;
    this.#maxFrameBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.#options = options;
  }

  /**
   * Feeds `text` and calls `onLine` for every line it completes. Throws an `LLMInvalidResponseError` as
   * soon as the frame under way passes the limit, counted exactly in UTF-8 bytes whatever the chunking.
   */
  push(text: string, onLine: OnLine): void {
    // Bytes of text[0, counted) are in #frameBytes, or belong to frames already ended.
    let counted = 0;
    let start = 0;
    if (this.#heldCR) {
      this.#heldCR = false;
      if (text.charCodeAt(0) === LF) {
        start = counted = 1;
        if (++this.#frameBytes > this.#maxFrameBytes) throw this.#tooLarge();
      }
      if (this.#completeLine('', onLine)) {
        this.#frameBytes = 0;
        counted = start;
      }
    }
    // The next LF and CR at or after `start`, each searched again only once passed: linear.
    let lf = text.indexOf('\n', start);
    let cr = this.#crEndsLine ? text.indexOf('\r', start) : -1;
    while (lf !== -1 || cr !== -1) {
      let end: number;
      let next: number;
      if (cr !== -1 && (lf === -1 || cr < lf)) {
        if (cr + 1 === text.length) {
          // Its LF, if any, is in the next text: hold the line until then.
          this.#pieces.push(text.slice(start, cr));
          this.#heldCR = true;
          start = text.length;
          break;
        }
        end = cr;
        next = text.charCodeAt(cr + 1) === LF ? cr + 2 : cr + 1;
      } else {
        end = lf;
        next = lf + 1;
      }
      // A UTF-16 unit is at most 3 UTF-8 bytes: count exactly only when that bound passes the limit,
      // and each character at most once.
      if (this.#frameBytes + (next - counted) * 3 > this.#maxFrameBytes) {
        this.#frameBytes += utf8Length(text, counted, next);
        counted = next;
        if (this.#frameBytes > this.#maxFrameBytes) throw this.#tooLarge();
      }
      if (this.#completeLine(text.slice(start, end), onLine)) {
        this.#frameBytes = 0;
        counted = next;
      }
      start = next;
      if (lf !== -1 && lf < start) lf = text.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = text.indexOf('\r', start);
    }
    if (start < text.length) this.#pieces.push(start === 0 ? text : text.slice(start));
    if (counted < text.length) {
      this.#frameBytes += utf8Length(text, counted, text.length);
      if (this.#frameBytes > this.#maxFrameBytes) throw this.#tooLarge();
    }
  }

  #tooLarge(): Error {
    return eventTooLargeError(this.#options, this.#maxFrameBytes);
  }

  /** At the end of the body: a last line without its line end is still a line. */
  end(onLine: OnLine): void {
    const held = this.#heldCR || this.#pieces.length > 0;
    this.#heldCR = false;
    this.#frameBytes = 0;
    if (held) this.#completeLine('', onLine);
  }

  /** Hands on the line whose last piece is `tail` (the pieces before it joined once); true if it ended a frame. */
  #completeLine(tail: string, onLine: OnLine): boolean {
    if (this.#pieces.length === 0) return onLine(tail);
    if (tail) this.#pieces.push(tail);
    const line = this.#pieces.length === 1 ? this.#pieces[0]! : this.#pieces.join('');
    this.#pieces = [];
    return onLine(line);
  }
}
