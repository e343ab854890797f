/**
 * A loopback proxy between the gateway and the emulator that keeps what the provider answered, byte for
 * byte, so a test can compare the bytes a client got with the provider's. With `cutStreamsAfter = n` it
 * relays only the first n events of a streamed answer (SSE events, NDJSON lines, eventstream messages) and
 * then ends the response cleanly: an upstream that closes mid-answer without an error, the failure other
 * gateways turn into a clean 200. Headers (the `host` a SigV4 signature covers included) go through as sent.
 */
import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  request,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface TappedExchange {
  method: string;
  path: string;
  status: number;
  contentType: string;
  /** The provider's whole answer, as it sent it. */
  body: Buffer;
  /** What the tap relayed (less than `body` when it cut the stream). */
  relayed: Buffer;
}

export interface UpstreamTap {
  url: string;
  exchanges: TappedExchange[];
  /** Streamed answers are cut after this many events (then ended cleanly); undefined relays them whole. */
  cutStreamsAfter: number | undefined;
  close(): Promise<void>;
}

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

/** Where the `count`-th event of a streamed body ends, or undefined when the body is not a stream or shorter. */
export function cutPoint(body: Buffer, contentType: string, count: number): number | undefined {
  if (contentType.includes('vnd.amazon.eventstream')) {
    let offset = 0;
    for (let seen = 0; seen < count; seen++) {
      if (offset + 4 > body.length) return undefined;
      offset += body.readUInt32BE(offset);
    }
    return offset < body.length ? offset : undefined;
  }
  // SSE events end with a blank line (`\n\n`, or `\r\n\r\n` as Gemini writes them); NDJSON lines with `\n`.
  const separators = contentType.includes('event-stream')
    ? ['\n\n', '\r\n\r\n']
    : contentType.includes('ndjson')
      ? ['\n']
      : [];
  if (separators.length === 0) return undefined;
  let offset = 0;
  for (let seen = 0; seen < count; seen++) {
    let next = -1;
    for (const separator of separators) {
      const found = body.indexOf(separator, offset);
      if (found >= 0 && (next < 0 || found + separator.length < next)) next = found + separator.length;
    }
    if (next < 0) return undefined;
    offset = next;
  }
  return offset < body.length ? offset : undefined;
}

function readAll(stream: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('end', () => resolve(Buffer.concat(chunks)));
    stream.once('error', reject);
  });
}

function forwardable(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers))
    if (value !== undefined && !HOP_BY_HOP.has(name)) out[name] = value;
  return out;
}

export async function startUpstreamTap(target: string): Promise<UpstreamTap> {
  const origin = new URL(target);
  const sockets = new Set<Socket>();
  const tap: Omit<UpstreamTap, 'url' | 'close'> = { exchanges: [], cutStreamsAfter: undefined };

  const relay = async (req: IncomingMessage, res: ServerResponse) => {
    const requestBody = await readAll(req);
    const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
      const outgoing = request(
        {
          host: origin.hostname,
          port: origin.port,
          method: req.method,
          path: req.url,
          headers: { ...forwardable(req.headers), 'content-length': requestBody.length },
        },
        resolve,
      );
      outgoing.once('error', reject);
      outgoing.end(requestBody);
    });
    const body = await readAll(upstream);
    const contentType = String(upstream.headers['content-type'] ?? '');
    const cut =
      tap.cutStreamsAfter === undefined ? undefined : cutPoint(body, contentType, tap.cutStreamsAfter);
    const relayed = cut === undefined ? body : body.subarray(0, cut);
    tap.exchanges.push({
      method: req.method ?? 'GET',
      path: req.url ?? '/',
      status: upstream.statusCode ?? 0,
      contentType,
      body,
      relayed,
    });
    const headers = forwardable(upstream.headers);
    if (cut === undefined) headers['content-length'] = String(body.length);
    res.writeHead(upstream.statusCode ?? 502, headers);
    res.end(relayed);
  };

  const server = createServer((req, res) => {
    relay(req, res).catch(() => res.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return Object.assign(tap, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      }),
  });
}
