import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SseDecoder, type SseEvent } from './sse.ts';

function decode(parts: Array<string | Uint8Array>): SseEvent[] {
  const decoder = new SseDecoder();
  const events: SseEvent[] = [];
  for (const part of parts) decoder.push(part, (event) => events.push(event));
  decoder.end((event) => events.push(event));
  return events;
}

/** Every way of cutting `bytes` in two. */
function everySplit(bytes: Buffer): Array<Uint8Array[]> {
  const splits: Array<Uint8Array[]> = [];
  for (let i = 0; i <= bytes.length; i++) splits.push([bytes.subarray(0, i), bytes.subarray(i)]);
  return splits;
}

describe('SseDecoder', () => {
  test('LF, CRLF and CR line ends give the same events', () => {
    const lf = 'event: a\ndata: one\n\ndata: two\n\n';
    const expected = [
      { event: 'a', data: 'one' },
      { event: 'message', data: 'two' },
    ];
    assert.deepEqual(decode([lf]), expected);
    assert.deepEqual(decode([lf.replaceAll('\n', '\r\n')]), expected);
    assert.deepEqual(decode([lf.replaceAll('\n', '\r')]), expected);
  });

  test('a CRLF pair split across chunks is one line end, not two', () => {
    const events = decode(['data: x\r', '\n\r', '\ndata: y\r\n\r\n']);
    assert.deepEqual(
      events.map((e) => e.data),
      ['x', 'y'],
    );
  });

  test('split at every byte, including inside multi-byte UTF-8 characters', () => {
    const text = 'data: {"t":"héllo 世界 🚀"}\r\n\r\n: comment\r\ndata: [DONE]\r\n\r\n';
    const bytes = Buffer.from(text, 'utf8');
    for (const parts of everySplit(bytes)) {
      assert.deepEqual(decode(parts), [
        { event: 'message', data: '{"t":"héllo 世界 🚀"}' },
        { event: 'message', data: '[DONE]' },
      ]);
    }
    // And one byte at a time.
    const single = [...bytes].map((byte) => Uint8Array.of(byte));
    assert.equal(decode(single)[0]?.data, '{"t":"héllo 世界 🚀"}');
  });

  test('comments are ignored and multi-line data is joined with LF', () => {
    const events = decode([': keep-alive\n\ndata: first\ndata: second\nid: 7\nretry: 100\n\n']);
    assert.deepEqual(events, [{ event: 'message', data: 'first\nsecond', id: '7' }]);
  });

  test('one space after the colon is removed, others kept; no colon means empty value', () => {
    assert.deepEqual(decode(['data:  padded\n\n']), [{ event: 'message', data: ' padded' }]);
    assert.deepEqual(decode(['data\n\n']), [{ event: 'message', data: '' }]);
  });

  test('trailing spaces (Anthropic pads data lines) reach the JSON parser, which accepts them', () => {
    const [event] = decode(['event: ping\ndata: {"type": "ping"}      \n\n']);
    assert.deepEqual(JSON.parse(event!.data), { type: 'ping' });
  });

  test('an event without its closing blank line is flushed at the end of the body', () => {
    assert.deepEqual(decode(['data: last']), [{ event: 'message', data: 'last' }]);
  });

  test('an event line without data is not dispatched, and does not leak into the next event', () => {
    assert.deepEqual(decode(['event: orphan\n\ndata: x\n\n']), [{ event: 'message', data: 'x' }]);
  });
});
