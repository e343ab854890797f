/**
 * The stub every client is measured against: a bare node:http server, in its own process, that answers
 * at once with canned bytes. `/complete/v1/chat/completions` sends one JSON completion;
 * `/stream/v1/chat/completions` sends the canned SSE stream as one write (the client reads it in
 * socket-sized pieces); `/stream-flushed/v1/chat/completions` sends the same events one HTTP chunk each,
 * as a server that flushes every event does (corked into one socket write, so the stub stays cheap).
 *
 * Prints `{"url": …}` on stdout once it listens.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { COMPLETION_BODY, STREAM_EVENTS } from './canned.ts';

const completionBody = Buffer.from(COMPLETION_BODY);
const streamEvents = STREAM_EVENTS.map((event) => Buffer.from(event));
const streamBody = Buffer.concat(streamEvents);
let nextRequestId = 1;

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
server.keepAliveTimeout = 120_000;
server.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
