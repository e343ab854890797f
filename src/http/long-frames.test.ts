/**
 * The frame decoders against long frames: a 10+ MB line fed in small chunks decodes whole, in work linear
 * in its size (counted, never timed: `countScannedCharacters`), and a frame over `maxEventBytes` is an
 * `LLMInvalidResponseError` raised as soon as the limit is passed, at exactly the same byte whatever the
 * chunking. Regression: the decoders re-scanned and re-flattened the whole pending line on every chunk,
 * so one long line cost time quadratic in its length (a 40 MB line took 12 s through `stream()`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Message } from '@smithy/eventstream-codec';
import { isLLMError, LLMInvalidResponseError } from '../spec/errors.ts';
import { countScannedCharacters } from '../test-support/work-meter.ts';
import { createEventStreamCodec, EventStreamDecoder } from './eventstream.ts';
import type { FrameDecoder, StreamFrame } from './frames.ts';
import { NdjsonDecoder } from './ndjson.ts';
import { SseDecoder } from './sse.ts';

/** About 11 MB of text mixing 1-, 2-, 3- and 4-byte UTF-8 characters (10 bytes a repeat). */
const LONG_TEXT = 'xé世🚀'.repeat(1_100_000);
const CHUNK_BYTES = 16 * 1024;
/** A linear decoder goes over its input a few times; the quadratic ones went over it hundreds of times. */
const MAX_PASSES = 8;

function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) out.push(bytes.subarray(offset, offset + size));
  return out;
}

/** The frames `decoder` makes of `pieces`, and the characters it scanned doing so. */
function decode(decoder: FrameDecoder, pieces: Uint8Array[]): { frames: StreamFrame[]; scanned: number } {
  const frames: StreamFrame[] = [];
  const onFrame = (frame: StreamFrame) => frames.push(frame);
  const scanned = countScannedCharacters(() => {
    for (const piece of pieces) decoder.push(piece, onFrame);
    decoder.end(onFrame);
  });
  return { frames, scanned };
}

function assertLinear(scanned: number, inputBytes: number): void {
  assert.ok(
    scanned <= MAX_PASSES * inputBytes,
    `scanned ${scanned} characters for ${inputBytes} bytes of input: ${(scanned / inputBytes).toFixed(1)} passes, more than ${MAX_PASSES}`,
  );
}

function assertTooLarge(run: () => unknown, limitBytes: number): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(
      error instanceof LLMInvalidResponseError,
      `expected LLMInvalidResponseError, got ${String(error)}`,
    );
    assert.ok(isLLMError(error) && error.code === 'invalid_response');
    assert.equal(error.retryable, false, 'the same server would send the same event: not retried');
    assert.match(
      error.message,
      new RegExp(`more than ${limitBytes} bytes \\(the \`maxEventBytes\` limit\\)`),
    );
    assert.equal(error.provider, 'test-provider');
    return true;
  });
}

/** Pushes `pieces` until the decoder throws; returns how many bytes it had taken by then. */
function bytesTakenBeforeThrow(decoder: FrameDecoder, pieces: Iterable<Uint8Array>): number {
  let taken = 0;
  try {
    for (const piece of pieces) {
      taken += piece.byteLength;
      decoder.push(piece, () => {});
    }
    decoder.end(() => {});
  } catch (error) {
    assert.ok(error instanceof LLMInvalidResponseError);
    return taken;
  }
  return assert.fail('the decoder accepted an endless frame');
}

/** A head, then the same chunk over and over: a line that never ends (up to `totalBytes`). */
function* endless(head: string, totalBytes: number): Generator<Uint8Array> {
  yield Buffer.from(head);
  const filler = Buffer.alloc(64 * 1024, 'x');
  for (let sent = 0; sent < totalBytes; sent += filler.byteLength) yield filler;
}

const CONTEXT = { provider: 'test-provider' };

describe('SseDecoder on long lines', () => {
  test('a 10+ MB data line cut into 16 KiB chunks (inside characters) decodes whole, in linear work', () => {
    const body = Buffer.from(`event: big\ndata: ${LONG_TEXT}\r\n\r\ndata: after\n\n`);
    const { frames, scanned } = decode(new SseDecoder(), chunks(body, CHUNK_BYTES));
    assert.equal(frames.length, 2);
    assert.equal(frames[0]!.event, 'big');
    assert.ok(frames[0]!.data === LONG_TEXT, 'the long line comes out exactly as sent');
    assert.deepEqual(frames[1], { event: 'message', data: 'after' });
    assertLinear(scanned, body.byteLength);
  });

  test('a long line ended by a lone CR, split between CR and LF, and a last event without its blank line', () => {
    const body = Buffer.from(`data: ${LONG_TEXT}\r\rdata: a\r\n\r\ndata: ${LONG_TEXT}`);
    const cut = body.indexOf('\r\n') + 1;
    const pieces = [
      ...chunks(body.subarray(0, cut), CHUNK_BYTES),
      ...chunks(body.subarray(cut), CHUNK_BYTES),
    ];
    const { frames, scanned } = decode(new SseDecoder(), pieces);
    assert.deepEqual(
      frames.map((frame) => frame.data.length),
      [LONG_TEXT.length, 1, LONG_TEXT.length],
    );
    assert.ok(frames[2]!.data === LONG_TEXT);
    assertLinear(scanned, body.byteLength);
  });

  test('a megabyte of short CR-terminated lines in one chunk: no search re-runs to the end per line', () => {
    const body = Buffer.from('data: {"t":"x"}\r\r'.repeat(60_000));
    const { frames, scanned } = decode(new SseDecoder(), [body]);
    assert.equal(frames.length, 60_000);
    assertLinear(scanned, body.byteLength);
  });

  test('multi-line data: the lines of one event are joined once', () => {
    const line = `data: ${'y'.repeat(1_000_000)}\n`;
    const body = Buffer.from(`${line.repeat(10)}\n`);
    const { frames, scanned } = decode(new SseDecoder(), chunks(body, CHUNK_BYTES));
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.data, Array.from({ length: 10 }, () => 'y'.repeat(1_000_000)).join('\n'));
    assertLinear(scanned, body.byteLength);
  });
});

describe('NdjsonDecoder on long lines', () => {
  test('a 10+ MB line cut into 16 KiB chunks decodes whole, in linear work', () => {
    const line = JSON.stringify({ message: { content: LONG_TEXT } });
    const body = Buffer.from(`${line}\r\n{"done":true}\n`);
    const { frames, scanned } = decode(new NdjsonDecoder(), chunks(body, CHUNK_BYTES));
    assert.equal(frames.length, 2);
    assert.ok(frames[0]!.data === line);
    assert.equal(frames[1]!.data, '{"done":true}');
    assertLinear(scanned, body.byteLength);
  });

  test('a last line without its newline is still a frame', () => {
    const body = Buffer.from(`{"a":1}\n${JSON.stringify({ b: LONG_TEXT })}`);
    const { frames, scanned } = decode(new NdjsonDecoder(), chunks(body, CHUNK_BYTES));
    assert.equal(frames.length, 2);
    assert.equal((JSON.parse(frames[1]!.data) as { b: string }).b.length, LONG_TEXT.length);
    assertLinear(scanned, body.byteLength);
  });
});

describe('EventStreamDecoder on long messages', () => {
  const codec = createEventStreamCodec();
  const message = (body: Uint8Array): Message => ({
    headers: {
      ':message-type': { type: 'string', value: 'event' },
      ':event-type': { type: 'string', value: 'contentBlockDelta' },
    },
    body,
  });

  test('a 10+ MB message cut into 16 KiB chunks decodes whole, copied once', () => {
    const payload = JSON.stringify({ delta: { text: LONG_TEXT } });
    const bytes = codec.encode(message(Buffer.from(payload)));
    const { frames, scanned } = decode(new EventStreamDecoder(), chunks(bytes, CHUNK_BYTES));
    assert.equal(frames.length, 1);
    assert.ok(frames[0]!.data === payload);
    assertLinear(scanned, bytes.byteLength);
  });
});

describe('maxEventBytes', () => {
  /** `data: ` + 4 characters of 1, 2, 3 and 4 bytes + CRLF + CRLF: 20 bytes. */
  const event = Buffer.from('data: xé世🚀\r\n\r\n');
  const sseWithLimit = (maxEventBytes: number) => new SseDecoder({ maxEventBytes, ...CONTEXT });

  test('SSE: an event of exactly the limit passes and one byte less fails, split at every byte', () => {
    assert.equal(event.byteLength, 20);
    for (let cut = 0; cut <= event.length; cut++) {
      const pieces = [event.subarray(0, cut), event.subarray(cut)];
      assert.deepEqual(
        decode(sseWithLimit(20), pieces).frames,
        [{ event: 'message', data: 'xé世🚀' }],
        `cut at ${cut}`,
      );
      assertTooLarge(() => decode(sseWithLimit(19), pieces), 19);
    }
  });

  test('SSE: the limit is per event; a stream of many events passes it many times over', () => {
    const body = Buffer.from(event.toString().repeat(10_000));
    const { frames } = decode(sseWithLimit(20), chunks(body, 7));
    assert.equal(frames.length, 10_000);
  });

  test('SSE: comments and field lines count towards their event', () => {
    const body = Buffer.from(': keep-alive\nevent: delta\nid: 1\ndata: x\n\n');
    assert.equal(decode(sseWithLimit(body.byteLength), [body]).frames.length, 1);
    assertTooLarge(() => decode(sseWithLimit(body.byteLength - 1), [body]), body.byteLength - 1);
  });

  test('SSE: an endless line is refused within one chunk of the limit, without waiting for its end', () => {
    const limit = 1024 * 1024;
    const taken = bytesTakenBeforeThrow(sseWithLimit(limit), endless('data: ', 64 * limit));
    assert.ok(taken > limit && taken <= limit + 64 * 1024 + 6, `stopped after ${taken} bytes`);
  });

  test('NDJSON: a line of exactly the limit passes and one byte less fails, split at every byte', () => {
    const line = Buffer.from('{"t":"xé世🚀"}\n');
    const ndjson = (maxEventBytes: number) => new NdjsonDecoder({ maxEventBytes, ...CONTEXT });
    for (let cut = 0; cut <= line.length; cut++) {
      const pieces = [line.subarray(0, cut), line.subarray(cut)];
      assert.equal(decode(ndjson(line.byteLength), pieces).frames.length, 1, `cut at ${cut}`);
      assertTooLarge(() => decode(ndjson(line.byteLength - 1), pieces), line.byteLength - 1);
    }
    const limit = 1024 * 1024;
    const taken = bytesTakenBeforeThrow(ndjson(limit), endless('{"message":"', 64 * limit));
    assert.ok(taken > limit && taken <= limit + 64 * 1024 + 12, `stopped after ${taken} bytes`);
  });

  test('eventstream: a message over the limit is refused from its prelude, before its body is buffered', () => {
    const codec = createEventStreamCodec();
    const bytes = codec.encode({ headers: {}, body: Buffer.alloc(4096, 'x') });
    const eventstream = (maxEventBytes: number) => new EventStreamDecoder({ maxEventBytes, ...CONTEXT });
    assert.equal(decode(eventstream(bytes.byteLength), chunks(bytes, 100)).frames.length, 1);
    assertTooLarge(
      () => eventstream(bytes.byteLength - 1).push(bytes.subarray(0, 12), () => {}),
      bytes.byteLength - 1,
    );
  });
});
