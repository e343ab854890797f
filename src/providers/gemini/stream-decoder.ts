/**
 * The frame decoder for `streamGenerateContent?alt=sse`: SSE (CRLF-framed) handed to the shared
 * `SseDecoder`, plus what Gemini sends outside SSE framing. A failure mid-stream can arrive as a bare,
 * pretty-printed `{"error":…}` object after the events, and a body without `alt=sse` is a JSON array;
 * neither is SSE, and an SSE decoder alone would drop them silently. Such text is collected and handed on
 * as one frame with event `raw`: an object as soon as its closing brace arrives, an array at the end of
 * the body.
 *
 * The hot path stays one regular-expression scan per chunk: a line that starts with `{` or `[` cannot be
 * SSE (a JSON string holds no raw newline), so only that switches to collecting. Collected text is kept
 * in pieces and only the new piece is scanned for the object's end, so a long one costs linear time; it
 * counts against `maxEventBytes` like any other frame.
 */
import {
  DEFAULT_MAX_EVENT_BYTES,
  eventTooLargeError,
  type FrameDecoder,
  type FrameDecoderOptions,
  type StreamFrame,
} from '../../http/frames.ts';
import { SseDecoder } from '../../http/sse.ts';

/** The event name of a frame that carries JSON sent outside SSE framing. */
export const RAW_FRAME_EVENT = 'raw';

const RAW_AFTER_NEWLINE = /[\r\n][{[]/;
const OPEN_BRACE = 123;
const CLOSE_BRACE = 125;
const OPEN_BRACKET = 91;
const CLOSE_BRACKET = 93;
const QUOTE = 34;
const BACKSLASH = 92;

function startsRaw(code: number): boolean {
  return code === OPEN_BRACE || code === OPEN_BRACKET;
}

/** JSON text outside SSE framing, collected in pieces until it is complete. */
interface RawText {
  pieces: string[];
  bytes: number;
  /** An array is complete only at the end of the body; an object when its braces balance. */
  isObject: boolean;
  depth: number;
  inString: boolean;
  escaped: boolean;
}

/** Cuts a `streamGenerateContent` body into SSE frames and `raw` frames (JSON outside SSE framing). */
export class GeminiStreamDecoder implements FrameDecoder {
  readonly #sse: SseDecoder;
  readonly #text = new TextDecoder('utf-8');
  readonly #options: FrameDecoderOptions;
  readonly #maxEventBytes: number;
  #atLineStart = true;
  /** Text outside SSE framing, once some has been seen. */
  #raw: RawText | undefined;

  constructor(options: FrameDecoderOptions = {}) {
    this.#options = options;
    this.#maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
    this.#sse = new SseDecoder(options);
  }

  push(chunk: Uint8Array, onFrame: (frame: StreamFrame) => void): void {
    this.#take(this.#text.decode(chunk, { stream: true }), onFrame);
  }

  end(onFrame: (frame: StreamFrame) => void): void {
    const rest = this.#text.decode();
    if (rest) this.#take(rest, onFrame);
    if (this.#raw !== undefined) {
      const raw = this.#raw.pieces.join('').trim();
      this.#raw = undefined;
      if (raw) onFrame({ event: RAW_FRAME_EVENT, data: raw });
      return;
    }
    this.#sse.end(onFrame);
  }

  #take(text: string, onFrame: (frame: StreamFrame) => void): void {
    let rest = text;
    while (rest.length > 0) {
      if (this.#raw === undefined) {
        let at = -1;
        if (this.#atLineStart && startsRaw(rest.charCodeAt(0))) at = 0;
        else {
          const match = RAW_AFTER_NEWLINE.exec(rest);
          if (match) at = match.index + 1;
        }
        if (at === -1) {
          const last = rest.charCodeAt(rest.length - 1);
          this.#atLineStart = last === 10 || last === 13;
          this.#sse.push(rest, onFrame);
          return;
        }
        // Events before the bare JSON are delivered first, whole.
        if (at > 0) this.#sse.push(rest.slice(0, at), onFrame);
        this.#sse.end(onFrame);
        this.#raw = {
          pieces: [],
          bytes: 0,
          isObject: rest.charCodeAt(at) === OPEN_BRACE,
          depth: 0,
          inString: false,
          escaped: false,
        };
        rest = rest.slice(at);
      }
      rest = this.#collect(this.#raw, rest, onFrame);
    }
  }

  /**
   * Adds `text` to the raw JSON; hands a bare object on as soon as its closing brace arrives and
   * returns the text after it (SSE may follow). Only `text` is scanned, never what came before.
   */
  #collect(raw: RawText, text: string, onFrame: (frame: StreamFrame) => void): string {
    const end = raw.isObject ? objectEnd(raw, text) : -1;
    const piece = end === -1 ? text : text.slice(0, end);
    raw.bytes += Buffer.byteLength(piece, 'utf8');
    if (raw.bytes > this.#maxEventBytes) throw eventTooLargeError(this.#options, this.#maxEventBytes);
    raw.pieces.push(piece);
    if (end === -1) return '';
    this.#raw = undefined;
    this.#atLineStart = true;
    onFrame({ event: RAW_FRAME_EVENT, data: raw.pieces.join('') });
    return text.slice(end);
  }
}

/**
 * Scans `text` for the end of the object `raw` holds, carrying the scan's state across calls; returns
 * the index just after the closing brace, or -1 when the object goes on.
 */
function objectEnd(raw: RawText, text: string): number {
  let { depth, inString, escaped } = raw;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (inString) {
      if (escaped) escaped = false;
      else if (code === BACKSLASH) escaped = true;
      else if (code === QUOTE) inString = false;
    } else if (code === QUOTE) inString = true;
    else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
    else if ((code === CLOSE_BRACE || code === CLOSE_BRACKET) && --depth === 0) return i + 1;
  }
  raw.depth = depth;
  raw.inString = inString;
  raw.escaped = escaped;
  return -1;
}
