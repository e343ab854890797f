/**
 * The AWS `application/vnd.amazon.eventstream` framing (Bedrock's ConverseStream), decoded as bytes arrive.
 * Each message is `total length (4) | headers length (4) | prelude CRC (4) | headers | payload | message CRC (4)`,
 * big-endian. Bytes are buffered until the prelude's total length is in, then the whole message is checked
 * and decoded by the maintained `@smithy/eventstream-codec`; a chunk may end anywhere, even inside the
 * prelude. A bad CRC, an impossible length or a body cut inside a message is an `LLMInvalidResponseError`;
 * so is a message over `maxEventBytes`, refused from its prelude before any of it is buffered. A message
 * cut across chunks is copied once into a buffer of its announced size: linear in the input.
 */

import { createRequire } from 'node:module';
import type * as Codec from '@smithy/eventstream-codec';
import type { EventStreamCodec, Message, MessageHeaders } from '@smithy/eventstream-codec';
import { LLMInvalidResponseError } from '../spec/errors.ts';
import { crc32 } from '../spec/node-support.ts';
import {
  DEFAULT_MAX_EVENT_BYTES,
  eventTooLargeError,
  type FrameDecoder,
  type FrameDecoderOptions,
  type StreamFrame,
} from './frames.ts';

const PRELUDE_LENGTH = 12;
const MINIMUM_MESSAGE_LENGTH = 16;
/** The largest message the format allows (aws-c-event-stream: 16 MiB); anything longer is corruption. */
const MAXIMUM_MESSAGE_LENGTH = 16 * 1024 * 1024;
const EMPTY = new Uint8Array(0);

const utf8Decoder = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** A codec for whole messages (UTF-8 for string headers), for decoding and, in the emulator, encoding. */
// Loaded on the first Bedrock stream, not when the library is imported.
const require = createRequire(import.meta.url);
let codecModule: typeof Codec | undefined;

export function createEventStreamCodec(): EventStreamCodec {
  codecModule ??= require('@smithy/eventstream-codec') as typeof Codec;
  return new codecModule.EventStreamCodec(
    (bytes) => utf8Decoder.decode(bytes),
    (text) => utf8Encoder.encode(text),
  );
}

/**
 * Cuts a byte stream into whole eventstream messages. Used by `EventStreamDecoder`; exported for tools
 * and conformance tests that need the headers themselves.
 */
export class EventStreamMessageReader {
  readonly #codec = createEventStreamCodec();
  readonly #options: FrameDecoderOptions;
  readonly #maxEventBytes: number;
  /** Bytes of an incomplete message: `#pending[0, #used)`. */
  #pending: Uint8Array = EMPTY;
  #used = 0;

  constructor(options: FrameDecoderOptions = {}) {
    this.#options = options;
    this.#maxEventBytes = options.maxEventBytes ?? DEFAULT_MAX_EVENT_BYTES;
  }

  /** Feeds bytes and calls `onMessage` for every message they complete. */
  push(chunk: Uint8Array, onMessage: (message: Message) => void): void {
    let bytes = chunk;
    if (this.#used > 0) {
      // A message is under way: complete its prelude, then its body, from the front of the chunk.
      if (this.#used < PRELUDE_LENGTH) bytes = this.#take(bytes, PRELUDE_LENGTH - this.#used);
      if (this.#used < PRELUDE_LENGTH) return;
      const total = this.#checkPrelude(this.#pending, 0);
      this.#reserve(total);
      bytes = this.#take(bytes, total - this.#used);
      if (this.#used < total) return;
      const message = this.#pending.subarray(0, total);
      this.#pending = EMPTY;
      this.#used = 0;
      onMessage(this.#decode(message));
    }
    // Whole messages are decoded straight from the chunk; only a partial tail is copied.
    let offset = 0;
    while (bytes.byteLength - offset >= PRELUDE_LENGTH) {
      const total = this.#checkPrelude(bytes, offset);
      if (bytes.byteLength - offset < total) {
        this.#reserve(total);
        break;
      }
      onMessage(this.#decode(bytes.subarray(offset, offset + total)));
      offset += total;
    }
    if (offset < bytes.byteLength) this.#take(bytes.subarray(offset), bytes.byteLength - offset);
  }

  /** At the end of the body: throws when it stopped inside a message. */
  end(): void {
    if (this.#used === 0) return;
    const held = this.#used;
    const total = held >= 4 ? new DataView(this.#pending.buffer, this.#pending.byteOffset).getUint32(0) : 0;
    this.#pending = EMPTY;
    this.#used = 0;
    throw this.#invalid(
      `the eventstream body ended inside a message (${held}${total ? ` of ${total}` : ''} bytes)`,
    );
  }

  /** The message's total length, once checked against the limits and the prelude CRC. */
  #checkPrelude(bytes: Uint8Array, offset: number): number {
    const view = new DataView(bytes.buffer, bytes.byteOffset + offset, PRELUDE_LENGTH);
    const total = view.getUint32(0);
    const expected = view.getUint32(8);
    const actual = crc32(bytes.subarray(offset, offset + 8));
    if (expected !== actual) {
      throw this.#invalid(
        `eventstream prelude checksum mismatch (expected ${expected}, computed ${actual}): the stream is corrupt`,
      );
    }
    if (total < MINIMUM_MESSAGE_LENGTH || total > MAXIMUM_MESSAGE_LENGTH) {
      throw this.#invalid(`an eventstream message claims an impossible length (${total} bytes)`);
    }
    if (total > this.#maxEventBytes) throw eventTooLargeError(this.#options, this.#maxEventBytes);
    return total;
  }

  #decode(bytes: Uint8Array): Message {
    try {
      return this.#codec.decode(bytes);
    } catch (cause) {
      throw this.#invalid(`an eventstream message could not be decoded: ${(cause as Error).message}`, cause);
    }
  }

  /** Moves up to `count` bytes from the front of `bytes` into the pending buffer; returns the rest. */
  #take(bytes: Uint8Array, count: number): Uint8Array {
    const taken = Math.min(count, bytes.byteLength);
    this.#reserve(this.#used + taken);
    this.#pending.set(bytes.subarray(0, taken), this.#used);
    this.#used += taken;
    return bytes.subarray(taken);
  }

  /** Room for `length` pending bytes: the whole message once its prelude told its size, so one copy. */
  #reserve(length: number): void {
    if (length <= this.#pending.byteLength) return;
    const grown = new Uint8Array(Math.max(length, PRELUDE_LENGTH));
    grown.set(this.#pending.subarray(0, this.#used));
    this.#pending = grown;
  }

  #invalid(message: string, cause?: unknown): LLMInvalidResponseError {
    const provider = this.#options.provider;
    const prefix = provider ? `${provider}: ` : '';
    return new LLMInvalidResponseError(`${prefix}${message}`, {
      provider,
      model: this.#options.model,
      requestId: this.#options.requestId,
      // Corruption is usually transient; the client retries only when nothing was delivered yet.
      retryable: true,
      cause,
    });
  }
}

function stringHeader(headers: MessageHeaders, name: string): string | undefined {
  const header = headers[name];
  return header?.type === 'string' ? header.value : undefined;
}

/**
 * One message as a frame: an event gives its `:event-type`; an exception `exception:<:exception-type>` with
 * its payload; an error `error:<:error-code>` with its `:error-message`.
 */
export function frameOf(message: Message): StreamFrame {
  const headers = message.headers;
  const type = stringHeader(headers, ':message-type') ?? 'event';
  if (type === 'exception') {
    return {
      event: `exception:${stringHeader(headers, ':exception-type') ?? 'unknown'}`,
      data: utf8Decoder.decode(message.body),
    };
  }
  if (type === 'error') {
    return {
      event: `error:${stringHeader(headers, ':error-code') ?? 'unknown'}`,
      data: stringHeader(headers, ':error-message') ?? utf8Decoder.decode(message.body),
    };
  }
  return { event: stringHeader(headers, ':event-type') ?? type, data: utf8Decoder.decode(message.body) };
}

/** The stream decoder for AWS eventstream bodies: bytes in, one frame per message out. */
export class EventStreamDecoder implements FrameDecoder {
  readonly #reader: EventStreamMessageReader;

  constructor(options: FrameDecoderOptions = {}) {
    this.#reader = new EventStreamMessageReader(options);
  }

  push(chunk: Uint8Array, onFrame: (frame: StreamFrame) => void): void {
    this.#reader.push(chunk, (message) => onFrame(frameOf(message)));
  }

  end(_onFrame: (frame: StreamFrame) => void): void {
    this.#reader.end();
  }
}
