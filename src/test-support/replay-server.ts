/**
 * A loopback HTTP server that answers with given bytes: recorded fixtures go through the real transport,
 * SSE decoder and parsers, split into chunks of any size.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface Reply {
  status?: number;
  headers?: Record<string, string>;
  body: string | Buffer;
  /** Send the body in pieces of this many bytes, flushed one by one. */
  chunkSize?: number;
}

export interface SeenRequest {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

export interface ReplayServer {
  url: string;
  requests: SeenRequest[];
  close(): Promise<void>;
}

/** Answers request i with `replies[i]` (the last one repeats), or with `replies(request)`. */
export async function startReplayServer(
  replies: Reply[] | ((request: SeenRequest) => Reply),
): Promise<ReplayServer> {
  const requests: SeenRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', async () => {
      const seen: SeenRequest = {
        method: req.method ?? 'GET',
        url: req.url ?? '/',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(seen);
      const reply =
        typeof replies === 'function'
          ? replies(seen)
          : replies[Math.min(requests.length - 1, replies.length - 1)]!;
      const body = Buffer.isBuffer(reply.body) ? reply.body : Buffer.from(reply.body, 'utf8');
      res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      if (!reply.chunkSize) {
        res.end(body);
        return;
      }
      for (let offset = 0; offset < body.length; offset += reply.chunkSize) {
        res.write(body.subarray(offset, offset + reply.chunkSize));
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  };
}
