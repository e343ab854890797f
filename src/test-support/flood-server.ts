/**
 * A loopback HTTP server that answers with a head and then the same filler bytes over and over, for as
 * long as it is asked to (or until the client goes away), honouring backpressure: a server that sends
 * more than any client should hold. It counts requests and watches every connection, so a test can see
 * that a client hung up instead of reading (or draining) the rest.
 */
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Flood {
  status?: number;
  headers: Record<string, string>;
  head: string | Uint8Array;
  /** Filler bytes after the head. Default: endless. */
  fillerBytes?: number;
  /** Sent after the filler, when the client is still reading. */
  tail?: string | Uint8Array;
}

export interface FloodServer {
  url: string;
  /** Requests received so far. */
  readonly requests: number;
  /** Resolves when every connection opened so far is closed; rejects after `guardMs` (default 10 s). */
  connectionsClosed(guardMs?: number): Promise<void>;
  close(): Promise<void>;
}

const FILLER = Buffer.alloc(64 * 1024, 'x');

export async function startFloodServer(reply: () => Flood): Promise<FloodServer> {
  let requests = 0;
  const sockets = new Set<Socket>();
  const closings: Array<Promise<void>> = [];
  const server = createServer((request, response) => {
    requests++;
    request.resume();
    request.on('end', async () => {
      const flood = reply();
      response.writeHead(flood.status ?? 200, flood.headers);
      response.write(flood.head);
      const fillerBytes = flood.fillerBytes ?? Number.POSITIVE_INFINITY;
      for (let sent = 0; sent < fillerBytes && !response.destroyed; sent += FILLER.byteLength) {
        const piece =
          fillerBytes - sent < FILLER.byteLength ? FILLER.subarray(0, fillerBytes - sent) : FILLER;
        if (!response.write(piece)) {
          await new Promise<void>((resolve) => {
            response.once('drain', resolve);
            response.once('close', resolve);
          });
        }
      }
      if (!response.destroyed) response.end(flood.tail);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    closings.push(new Promise((resolve) => socket.once('close', () => resolve())));
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    get requests() {
      return requests;
    },
    async connectionsClosed(guardMs = 10_000) {
      let timer: NodeJS.Timeout | undefined;
      const guard = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${sockets.size} connection(s) still open after ${guardMs} ms`)),
          guardMs,
        );
      });
      try {
        await Promise.race([Promise.all(closings), guard]);
      } finally {
        clearTimeout(timer);
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
