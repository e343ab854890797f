/**
 * HTTP/2 with prior knowledge (h2c) on the emulator's HTTP/1.1 port. The AWS SDK's Bedrock runtime client
 * sends every request over HTTP/2 (its default handler is `NodeHttp2Handler`), which to an `http://`
 * endpoint means h2c: without this the official client fails with "Protocol error". Each new connection's
 * first bytes are looked at: the HTTP/2 connection preface hands the socket to an HTTP/2 server whose
 * requests go to the same handler (through Node's compatibility API); anything else goes to the HTTP/1.1
 * server as before.

 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createHttp2Server } from 'node:http2';
import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

type ConnectionListener = (socket: Socket) => void;

/**
 * Makes `server` also accept h2c connections, whose requests are passed to `onRequest` as Node's HTTP/2
 * compatibility objects (they offer the `IncomingMessage` / `ServerResponse` methods the emulator uses).
 */
export function acceptHttp2PriorKnowledge(
  server: Server,
  onRequest: (req: IncomingMessage, res: ServerResponse) => void,
): void {
  const http2 = createHttp2Server();
  http2.on('request', (req, res) =>
    onRequest(req as unknown as IncomingMessage, res as unknown as ServerResponse),
  );
  // The HTTP/1.1 server's own connection listener runs only once the protocol is known.
  const http1 = server.listeners('connection') as ConnectionListener[];
  for (const listener of http1) server.removeListener('connection', listener);
  server.on('connection', (socket: Socket) => {
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const length = Math.min(seen.length, PREFACE.length);
      const isHttp2 = seen.subarray(0, length).equals(PREFACE.subarray(0, length));
      if (isHttp2 && seen.length < PREFACE.length) return; // the preface is not all here yet
      socket.off('data', onData);
      socket.pause();
      socket.unshift(seen);
      if (isHttp2) {
        // The session reads what is buffered on its next tick; resuming here would spill it as 'data'.
        http2.emit('connection', socket);
        return;
      }
      for (const listener of http1) listener.call(server, socket);
      socket.resume();
    };
    socket.on('data', onData);
  });
}
