/**
 * ConverseStream in the emulator: an answer's blocks as real binary eventstream frames (encoded with
 * `@smithy/eventstream-codec`), in Bedrock's order — `messageStart`; per block `contentBlockDelta`s (a
 * tool call opened by `contentBlockStart.start.toolUse`, its input in string fragments; reasoning text,
 * then its signature; text blocks with no start event) and `contentBlockStop`; then `messageStop` and
 * `metadata`. Each frame body carries a `p` padding field, as Bedrock's do. Faults: `malformed` breaks the
 * first frame's CRC; `stall` goes silent and `stream-error` sends a `modelStreamErrorException` frame, both
 * after two deltas.
 */
import { createEventStreamCodec } from '../http/eventstream.ts';
import type { Json } from '../spec/json.ts';
import type { RenderedReply } from './bedrock-converse.ts';
import { writeBytes } from './bedrock-exchange.ts';
import { type Exchange, pace, stallForever, wait } from './exchange.ts';
import { streamPieces } from './replies.ts';

const codec = createEventStreamCodec();
const utf8 = new TextEncoder();
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

const stringHeader = (value: string) => ({ type: 'string' as const, value });

/** One `:message-type event` frame. */
export function eventFrame(eventType: string, payload: Json): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': stringHeader(eventType),
      ':content-type': stringHeader('application/json'),
      ':message-type': stringHeader('event'),
    },
    body: utf8.encode(JSON.stringify(payload)),
  });
}

/** One `:message-type exception` frame (a modeled error inside the stream). */
export function exceptionFrame(exceptionType: string, payload: Json): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': stringHeader(exceptionType),
      ':content-type': stringHeader('application/json'),
      ':message-type': stringHeader('exception'),
    },
    body: utf8.encode(JSON.stringify(payload)),
  });
}

/** A deterministic padding field whose length varies with the event, like Bedrock's. */
const padded = (payload: Json, seed: number): Json => ({ ...payload, p: PADDING.slice(0, 8 + (seed % 50)) });

/** Tool input and JSON answers in small pieces, cut anywhere, as Bedrock streams them. */
function jsonPieces(text: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 7) pieces.push(text.slice(i, i + 7));
  return pieces.length > 0 ? pieces : [''];
}

/** The frames of one block: `[eventType, payload]`, deltas marked so faults can count them. */
function blockEvents(block: Json, index: number, json: boolean): Array<[string, Json]> {
  const events: Array<[string, Json]> = [];
  const delta = (value: Json) =>
    events.push(['contentBlockDelta', { contentBlockIndex: index, delta: value }]);
  const use = block.toolUse as Json | undefined;
  const reasoning = (block.reasoningContent as Json | undefined)?.reasoningText as Json | undefined;
  if (use) {
    events.push([
      'contentBlockStart',
      { contentBlockIndex: index, start: { toolUse: { toolUseId: use.toolUseId, name: use.name } } },
    ]);
    for (const piece of jsonPieces(JSON.stringify(use.input))) delta({ toolUse: { input: piece } });
  } else if (reasoning) {
    for (const piece of streamPieces(String(reasoning.text))) delta({ reasoningContent: { text: piece } });
    if (typeof reasoning.signature === 'string')
      delta({ reasoningContent: { signature: reasoning.signature } });
  } else if (typeof block.text === 'string') {
    for (const piece of json ? jsonPieces(block.text) : streamPieces(block.text)) delta({ text: piece });
  }
  events.push(['contentBlockStop', { contentBlockIndex: index }]);
  return events;
}

/** Writes a ConverseStream answer (the response has not started yet). */
export async function writeConverseStream(
  exchange: Exchange,
  reply: RenderedReply,
  usage: Json,
  started: number,
  headers: Record<string, string>,
): Promise<void> {
  exchange.res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', ...headers });
  exchange.res.flushHeaders();
  if (exchange.fault === 'malformed') {
    // The first frame arrives with its message CRC broken.
    const frame = eventFrame('messageStart', padded({ role: 'assistant' }, 0));
    frame[frame.length - 1]! ^= 0xff;
    writeBytes(exchange, frame);
    exchange.res.end();
    return;
  }
  await wait(exchange.timing.timeToFirstTokenMs);
  writeBytes(exchange, eventFrame('messageStart', padded({ role: 'assistant' }, 0)));
  const gap = exchange.timing.tokensPerSecond > 0 ? 1000 / exchange.timing.tokensPerSecond : 0;
  let sent = 0;
  for (const [type, payload] of reply.blocks.flatMap((block, index) =>
    blockEvents(block, index, reply.json === true),
  )) {
    if (type === 'contentBlockDelta') {
      if (sent === 2 && exchange.fault === 'stall') return stallForever(exchange);
      if (sent === 2 && exchange.fault === 'stream-error') {
        writeBytes(
          exchange,
          exceptionFrame('modelStreamErrorException', {
            message: 'The model stream failed: the emulator injected a stream-error fault.',
            originalStatusCode: 500,
            originalMessage: 'Internal server error',
          }),
        );
        exchange.res.end();
        return;
      }
      await pace(exchange, sent, gap);
      sent++;
    }
    if (!writeBytes(exchange, eventFrame(type, padded(payload, sent + JSON.stringify(payload).length))))
      return;
  }
  writeBytes(exchange, eventFrame('messageStop', padded({ stopReason: reply.stopReason }, 2)));
  writeBytes(
    exchange,
    eventFrame('metadata', padded({ usage, metrics: { latencyMs: Date.now() - started } }, 3)),
  );
  exchange.res.end();
}
