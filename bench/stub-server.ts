/**
 * The stub every client is measured against: a bare node:http server, in its own process, that answers
 * at once with canned bytes. `/complete/v1/chat/completions` sends one JSON completion;
 * `/stream/v1/chat/completions` sends the canned SSE stream as one write (the client reads it in
 * socket-sized pieces); `/stream-flushed/v1/chat/completions` sends the same events one HTTP chunk each,
 * as a server that flushes every event does (corked into one socket write, so the stub stays cheap);
 * `/long-line/<bytes>/v1/chat/completions` sends one text delta of `<bytes>` characters whose SSE line
 * arrives in 64 KiB pieces and ends only after the last (`LONG_LINE_HEAD` / `LONG_LINE_TAIL`);
 * `/paced/<events>/<intervalMs>/v1/chat/completions` streams `<events>` text deltas one every `<intervalMs>`
 * (as a model generates them), then the finish, usage and `[DONE]` events; `/anthropic/v1/messages` sends
 * the completion as Anthropic's Messages API does (the gateway benchmark's translated path).
 *
 * Prints `{"url": …}` on stdout once it listens.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ANTHROPIC_MESSAGE_BODY,
  COMPLETION_BODY,
  LONG_LINE_HEAD,
  LONG_LINE_TAIL,
  STREAM_EVENTS,
} from './canned.ts';

const completionBody = Buffer.from(COMPLETION_BODY);
const anthropicBody = Buffer.from(ANTHROPIC_MESSAGE_BODY);
const streamEvents = STREAM_EVENTS.map((event) => Buffer.from(event));
const streamBody = Buffer.concat(streamEvents);
let nextRequestId = 1;
const LONG_LINE_PATH = /^\/long-line\/(\d+)\//;
const PACED_PATH = /^\/paced\/(\d+)\/(\d+)\//;
const LONG_LINE_PIECE = Buffer.alloc(64 * 1024, 'x');

function commonHeaders(): Record<string, string> {
  return {
    'x-request-id': `req_bench${(nextRequestId++).toString(16).padStart(12, '0')}`,
    'openai-processing-ms': '1',
    'openai-version': '2020-10-01',
  };
}

const server = createServer((request, response) => {
  const url = request.url ?? '/';
  request.resume();
  request.on('end', () => {
    if (url.startsWith('/long-line/')) {
      void sendLongLine(response, Number(LONG_LINE_PATH.exec(url)?.[1] ?? 0));
      return;
    }
    if (url.startsWith('/paced/')) {
      const [, events, intervalMs] = PACED_PATH.exec(url) ?? [];
      sendPaced(response, Number(events ?? 0), Number(intervalMs ?? 0));
      return;
    }
    if (url.startsWith('/anthropic/')) {
      response.writeHead(200, {
        'request-id': `req_bench${(nextRequestId++).toString(16).padStart(12, '0')}`,
        'content-type': 'application/json',
        'content-length': String(anthropicBody.byteLength),
      });
      response.end(anthropicBody);
      return;
    }
    if (url.startsWith('/stream/') || url.startsWith('/stream-flushed/')) {
      response.writeHead(200, {
        ...commonHeaders(),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache',
      });
      if (url.startsWith('/stream/')) {
        response.write(streamBody);
        response.end();
        return;
      }
      response.cork();
      for (const event of streamEvents) response.write(event);
      // uncork before end: Node 24 drops all but the first corked chunk when `end()` comes first.
      response.uncork();
      response.end();
      return;
    }
    if (url.startsWith('/complete/')) {
      response.writeHead(200, {
        ...commonHeaders(),
        'content-type': 'application/json',
        'content-length': String(completionBody.byteLength),
      });
      response.end(completionBody);
      return;
    }
    response.writeHead(404, { 'content-type': 'application/json' });
    response.end('{"error":{"message":"not found","type":"invalid_request_error"}}');
  });
});
/** The long-line stream, written as fast as the client reads it (backpressure honoured). */
async function sendLongLine(response: ServerResponse, contentBytes: number): Promise<void> {
  response.writeHead(200, {
    ...commonHeaders(),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  response.write(LONG_LINE_HEAD);
  for (let sent = 0; sent < contentBytes && !response.destroyed; sent += LONG_LINE_PIECE.byteLength) {
    const left = contentBytes - sent;
    if (
      !response.write(left < LONG_LINE_PIECE.byteLength ? LONG_LINE_PIECE.subarray(0, left) : LONG_LINE_PIECE)
    ) {
      await new Promise((resolve) => {
        response.once('drain', resolve);
        response.once('close', resolve);
      });
    }
  }
  if (!response.destroyed) response.end(LONG_LINE_TAIL);
}

/** `events` text deltas one every `intervalMs`, then the stream's last three events (finish, usage, `[DONE]`). */
function sendPaced(response: ServerResponse, events: number, intervalMs: number): void {
  response.writeHead(200, {
    ...commonHeaders(),
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache',
  });
  let sent = 0;
  const next = () => {
    if (response.destroyed) return;
    if (sent === events) {
      response.end(PACED_TAIL);
      return;
    }
    response.write(streamEvents[sent % (streamEvents.length - 3)]!);
    sent++;
    setTimeout(next, intervalMs);
  };
  next();
}
const PACED_TAIL = Buffer.concat(streamEvents.slice(-3));

server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
