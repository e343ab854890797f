/**
 * The eventstream decoder on real bytes: the live Bedrock ConverseStream capture cut at every byte boundary
 * and in small chunks gives the same frames; corruption anywhere is a typed, retryable error.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { isLLMError, LLMInvalidResponseError } from '../spec/errors.ts';
import { fixtureBytes, fixtureText } from '../test-support/fixtures.ts';
import { createEventStreamCodec, EventStreamDecoder } from './eventstream.ts';
import type { StreamFrame } from './frames.ts';

const LIVE = fixtureBytes('bedrock', 'converse-stream.live-capture.claude-sonnet-4-6.eventstream.bin');

/** Frames of `bytes` fed in the given pieces. */
function decode(pieces: Uint8Array[]): StreamFrame[] {
  const decoder = new EventStreamDecoder({ provider: 'bedrock' });
  const frames: StreamFrame[] = [];
  for (const piece of pieces) decoder.push(piece, (frame) => frames.push(frame));
  decoder.end((frame) => frames.push(frame));
  return frames;
}

function chunks(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let offset = 0; offset < bytes.length; offset += size) out.push(bytes.subarray(offset, offset + size));
  return out;
}

/** Where each message of `bytes` ends, read from the preludes directly (an independent reading). */
function messageEnds(bytes: Uint8Array): number[] {
  const ends: number[] = [];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let offset = 0; offset < bytes.length; offset += view.getUint32(offset))
    ends.push(offset + view.getUint32(offset));
  return ends;
}

function expectInvalid(run: () => unknown, message: RegExp): void {
  assert.throws(run, (error: unknown) => {
    assert.ok(
      error instanceof LLMInvalidResponseError,
      `expected LLMInvalidResponseError, got ${String(error)}`,
    );
    assert.ok(isLLMError(error) && error.code === 'invalid_response');
    assert.equal(error.retryable, true, 'corruption is retried when nothing was delivered yet');
    assert.equal(error.provider, 'bedrock');
    assert.match(error.message, message);
    return true;
  });
}

describe('eventstream decoder on the live ConverseStream capture', () => {
  const whole = decode([LIVE]);

  test('six frames, in the order the capture documents, with their JSON payloads', () => {
    assert.deepEqual(
      whole.map((frame) => frame.event),
      [
        'messageStart',
        'contentBlockDelta',
        'contentBlockDelta',
        'contentBlockStop',
        'messageStop',
        'metadata',
      ],
    );
    const texts = whole
      .filter((frame) => frame.event === 'contentBlockDelta')
      .map((frame) => (JSON.parse(frame.data) as { delta: { text: string } }).delta.text);
    assert.deepEqual(texts, ['OK', '.']);
    const metadata = JSON.parse(whole.at(-1)!.data) as {
      usage: { inputTokens: number; outputTokens: number };
    };
    assert.deepEqual([metadata.usage.inputTokens, metadata.usage.outputTokens], [12, 5]);
    assert.equal(messageEnds(LIVE).length, whole.length, 'one frame per message');
  });

  test('split in two at every byte boundary: the same frames', () => {
    for (let cut = 1; cut < LIVE.length; cut++) {
      assert.deepEqual(decode([LIVE.subarray(0, cut), LIVE.subarray(cut)]), whole, `cut at byte ${cut}`);
    }
  });

  test('cut at every boundary inside the first two frames, and again inside the prelude of the next', () => {
    const [, second] = messageEnds(LIVE);
    for (let cut = 1; cut < second!; cut++) {
      const pieces = [LIVE.subarray(0, cut), LIVE.subarray(cut, second! + 5), LIVE.subarray(second! + 5)];
      assert.deepEqual(decode(pieces), whole, `cuts at ${cut} and ${second! + 5}`);
    }
  });

  for (const size of [1, 7, 13]) {
    test(`fed in ${size}-byte chunks: the same frames`, () => {
      assert.deepEqual(decode(chunks(LIVE, size)), whole);
    });
  }

  test('a chunk holding several whole messages and a partial one', () => {
    const [first, second, third] = messageEnds(LIVE);
    assert.deepEqual(decode([LIVE.subarray(0, third! - 3), LIVE.subarray(third! - 3)]), whole);
    assert.ok(first! < second! && second! < third!);
  });
});

describe('eventstream decoder on corrupted bytes', () => {
  test('a flipped bit in a message CRC is an LLMInvalidResponseError', () => {
    const bad = Buffer.from(LIVE);
    bad[messageEnds(LIVE)[0]! - 1]! ^= 0x01;
    expectInvalid(() => decode([bad]), /checksum/);
    expectInvalid(() => decode(chunks(bad, 7)), /checksum/);
  });

  test('a flipped bit in a payload fails the message CRC', () => {
    const bad = Buffer.from(LIVE);
    bad[messageEnds(LIVE)[1]! + 40]! ^= 0x20;
    expectInvalid(() => decode([bad]), /checksum/);
  });

  test('a corrupted prelude is caught before its length is trusted', () => {
    const bad = Buffer.from(LIVE);
    bad[1] = 0x7f; // total length now claims ~2 GB
    expectInvalid(() => decode([bad.subarray(0, 12)]), /prelude checksum/);
  });

  test('a prelude with a valid CRC but an impossible length', () => {
    const codec = createEventStreamCodec();
    const message = codec.encode({ headers: {}, body: new Uint8Array(0) });
    const view = new DataView(message.buffer, message.byteOffset);
    view.setUint32(0, 8);
    view.setUint32(8, crc32(message.subarray(0, 8)));
    expectInvalid(() => decode([message]), /impossible length/);
  });

  test('a body that ends inside a message', () => {
    expectInvalid(() => decode([LIVE.subarray(0, LIVE.length - 10)]), /ended inside a message/);
    expectInvalid(() => decode([LIVE.subarray(0, 5)]), /ended inside a message \(5 of \d+ bytes\)/);
  });
});

describe('eventstream message types', () => {
  test('an exception message is `exception:<type>` with its payload', () => {
    const bytes = Buffer.from(
      fixtureText(
        'bedrock',
        'converse-stream.exception.modelStreamErrorException.eventstream.base64.txt',
      ).trim(),
      'base64',
    );
    const [frame] = decode([bytes]);
    assert.equal(frame?.event, 'exception:modelStreamErrorException');
    assert.deepEqual(JSON.parse(frame!.data), {
      message: 'Model Stream Error',
      originalStatusCode: 500,
      originalMessage: 'The model stream failed.',
    });
  });

  test('an error message is `error:<code>` with its :error-message', () => {
    const codec = createEventStreamCodec();
    const bytes = codec.encode({
      headers: {
        ':message-type': { type: 'string', value: 'error' },
        ':error-code': { type: 'string', value: 'InternalFailure' },
        ':error-message': { type: 'string', value: 'Something broke' },
      },
      body: new Uint8Array(0),
    });
    assert.deepEqual(decode([bytes]), [{ event: 'error:InternalFailure', data: 'Something broke' }]);
  });

  test('UTF-8 split across chunks inside a payload decodes whole', () => {
    const codec = createEventStreamCodec();
    const text = '{"delta":{"text":"héllo 世界 🎉"}}';
    const bytes = codec.encode({
      headers: {
        ':message-type': { type: 'string', value: 'event' },
        ':event-type': { type: 'string', value: 'contentBlockDelta' },
      },
      body: new TextEncoder().encode(text),
    });
    assert.deepEqual(decode(chunks(bytes, 1)), [{ event: 'contentBlockDelta', data: text }]);
  });
});
