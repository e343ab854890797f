/**
 * Gemini's decoder against long frames: a 10+ MB SSE line and a 10+ MB bare JSON object, fed in small
 * chunks, come out whole in work linear in their size (counted with `countScannedCharacters`, never
 * timed), and JSON outside SSE framing counts against `maxEventBytes`. Regression: the collected JSON was
 * re-trimmed and re-parsed whole on every chunk, quadratic in its length.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StreamFrame } from '../../http/frames.ts';
import { LLMInvalidResponseError } from '../../spec/errors.ts';
import { countScannedCharacters } from '../../test-support/work-meter.ts';
import { GeminiStreamDecoder, RAW_FRAME_EVENT } from './stream-decoder.ts';

const LONG_TEXT = 'xé世🚀"\\{}'.repeat(1_000_000);
const CHUNK_BYTES = 16 * 1024;
const MAX_PASSES = 8;

function decode(
  body: Buffer,
  chunkBytes: number,
  decoder = new GeminiStreamDecoder(),
): { frames: StreamFrame[]; scanned: number } {
  const frames: StreamFrame[] = [];
  const onFrame = (frame: StreamFrame) => frames.push(frame);
  const scanned = countScannedCharacters(() => {
    for (let offset = 0; offset < body.length; offset += chunkBytes)
      decoder.push(body.subarray(offset, offset + chunkBytes), onFrame);
    decoder.end(onFrame);
  });
  return { frames, scanned };
}

function assertLinear(scanned: number, inputBytes: number): void {
  assert.ok(
    scanned <= MAX_PASSES * inputBytes,
    `scanned ${scanned} characters for ${inputBytes} bytes: ${(scanned / inputBytes).toFixed(1)} passes, more than ${MAX_PASSES}`,
  );
}

describe('gemini stream decoder on long frames', () => {
  const chunk = JSON.stringify({ candidates: [{ content: { parts: [{ text: LONG_TEXT }] } }] });

  test('a 10+ MB SSE event in 16 KiB chunks comes out whole, in linear work', () => {
    const body = Buffer.from(`data: ${chunk}\r\n\r\ndata: {"a":2}\r\n\r\n`);
    const { frames, scanned } = decode(body, CHUNK_BYTES);
    assert.equal(frames.length, 2);
    assert.ok(frames[0]!.data === chunk);
    assert.equal(frames[1]!.data, '{"a":2}');
    assertLinear(scanned, body.byteLength);
  });

  test('a 10+ MB bare error object (braces, quotes and backslashes in its strings) is one raw frame, in linear work', () => {
    const error = JSON.stringify({ error: { code: 500, message: LONG_TEXT } }, null, 2);
    const body = Buffer.from(`data: {"a":1}\r\n\r\n${error}\ndata: {"a":3}\r\n\r\n`);
    const { frames, scanned } = decode(body, CHUNK_BYTES);
    assert.deepEqual(
      frames.map((frame) => frame.event),
      ['message', RAW_FRAME_EVENT, 'message'],
    );
    assert.ok(
      frames[1]!.data === error,
      'the object comes out as sent, as soon as its closing brace arrives',
    );
    assert.equal(frames[2]!.data, '{"a":3}');
    assertLinear(scanned, body.byteLength);
  });

  test('a bare object followed at once by more text, in one chunk and byte by byte: the same frames', () => {
    const body = Buffer.from('{"error":{"message":"a } in a string"}}\r\ndata: {"a":1}\r\n\r\n{"error":{}}');
    const expected = [
      { event: RAW_FRAME_EVENT, data: '{"error":{"message":"a } in a string"}}' },
      { event: 'message', data: '{"a":1}' },
      { event: RAW_FRAME_EVENT, data: '{"error":{}}' },
    ];
    assert.deepEqual(decode(body, body.length).frames, expected);
    assert.deepEqual(decode(body, 1).frames, expected);
  });

  test('JSON outside SSE framing counts against maxEventBytes; SSE events too', () => {
    const limited = () => new GeminiStreamDecoder({ maxEventBytes: 1024 * 1024, provider: 'gemini' });
    const error = Buffer.from(JSON.stringify({ error: { message: 'x'.repeat(2 * 1024 * 1024) } }));
    for (const body of [error, Buffer.from(`[${error}]`), Buffer.from(`data: ${error}\r\n\r\n`)]) {
      assert.throws(
        () => decode(body, CHUNK_BYTES, limited()),
        (caught: unknown) =>
          caught instanceof LLMInvalidResponseError &&
          caught.retryable === false &&
          caught.provider === 'gemini' &&
          /`maxEventBytes`/.test(caught.message),
      );
    }
    assert.equal(
      decode(Buffer.from(`${error}`), CHUNK_BYTES).frames.length,
      1,
      'the default limit is larger',
    );
  });
});
