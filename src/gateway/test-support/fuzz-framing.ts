/**
 * HTTP that no client library sends but sockets carry: lengths that lie, chunked bodies cut short or with
 * sizes that are not hex, headers too large or not HTTP, bodies past the limit (declared, sent whole, sent
 * chunked), paths with broken percent-encoding, methods a route does not take, clients that leave mid-body.
 * Written byte for byte to a raw socket; each says what must come back.
 */

import type { Protocol } from './fuzz-endpoints.ts';
import { MASTER_KEY } from './fuzz-gateway.ts';

export interface FramingCase {
  name: string;
  pieces: Array<string | Buffer>;
  /** End our side once everything is written (the client is done sending, and still reading). */
  halfClose?: boolean;
  /** Drop the connection once everything is written (the client went away). */
  abort?: boolean;
  /** The status (or class) that must come back (an error in `protocol`'s shape); none when aborted. */
  expect?: { status: number | '2xx' | '4xx'; protocol: Protocol };
}

/** The gateway's default body limit (`server.bodyLimitBytes`). */
export const BODY_LIMIT_BYTES = 10 * 1024 * 1024;

const AUTH = `authorization: Bearer ${MASTER_KEY}\r\n`;
const CHAT = JSON.stringify({ model: 'openai', messages: [{ role: 'user', content: 'hi' }] });
const MESSAGES = JSON.stringify({
  model: 'anthropic',
  max_tokens: 5,
  messages: [{ role: 'user', content: 'hi' }],
});

function head(method: string, path: string, headers: string): string {
  return `${method} ${path} HTTP/1.1\r\nhost: gateway\r\nconnection: close\r\n${headers}\r\n`;
}

type Status = number | '2xx' | '4xx';
const openai = (status: Status) => ({ status, protocol: 'openai' as const });
const anthropic = (status: Status) => ({ status, protocol: 'anthropic' as const });

/** The cases for one route: every way its framing can be broken. */
function routeCases(path: string, body: string, protocol: Protocol): FramingCase[] {
  const expect = protocol === 'openai' ? openai : anthropic;
  const length = Buffer.byteLength(body);
  const on = (name: string) => `${name} (${path})`;
  return [
    {
      name: on('no content-type'),
      pieces: [head('POST', path, `${AUTH}content-length: ${length}\r\n`), body],
      expect: expect('2xx'),
    },
    {
      name: on('content-length longer than the body, then the client stops sending'),
      pieces: [head('POST', path, `${AUTH}content-length: ${length + 10}\r\n`), body],
      halfClose: true,
      expect: expect('4xx'),
    },
    {
      name: on('content-length shorter than the body'),
      pieces: [head('POST', path, `${AUTH}content-length: ${length - 7}\r\n`), body],
      expect: expect('4xx'),
    },
    ...['abc', '-1', '1.5', `${length}, ${length + 1}`, '99999999999999999999999'].map((value) => ({
      name: on(`content-length: ${value}`),
      pieces: [head('POST', path, `${AUTH}content-length: ${value}\r\n`), body],
      expect: expect('4xx'),
    })),
    {
      name: on('content-length and transfer-encoding both'),
      pieces: [head('POST', path, `${AUTH}content-length: 5\r\ntransfer-encoding: chunked\r\n`), body],
      expect: expect('4xx'),
    },
    {
      name: on('a chunk size that is not hex'),
      pieces: [head('POST', path, `${AUTH}transfer-encoding: chunked\r\n`), `zz\r\n${body}\r\n0\r\n\r\n`],
      expect: expect('4xx'),
    },
    {
      name: on('a chunked body cut short, then the client stops sending'),
      pieces: [
        head('POST', path, `${AUTH}transfer-encoding: chunked\r\n`),
        `${length.toString(16)}\r\n${body.slice(0, 9)}`,
      ],
      halfClose: true,
      expect: expect('4xx'),
    },
    {
      name: on('a chunked body with no last chunk, then the client stops sending'),
      pieces: [
        head('POST', path, `${AUTH}transfer-encoding: chunked\r\n`),
        `${length.toString(16)}\r\n${body}\r\n`,
      ],
      halfClose: true,
      expect: expect('4xx'),
    },
    {
      name: on('a chunk extension of 100 kB'),
      pieces: [
        head('POST', path, `${AUTH}transfer-encoding: chunked\r\n`),
        `${length.toString(16)};${'x'.repeat(100_000)}\r\n${body}\r\n0\r\n\r\n`,
      ],
      expect: expect('4xx'),
    },
    {
      name: on('a transfer-encoding the gateway does not speak'),
      pieces: [head('POST', path, `${AUTH}transfer-encoding: gzip\r\n`), body],
      expect: expect('4xx'),
    },
    {
      name: on('a body sent in one-byte pieces'),
      pieces: [
        head('POST', path, `${AUTH}content-length: ${length}\r\n`),
        ...body.slice(0, 40).split(''),
        body.slice(40),
      ],
      expect: expect('2xx'),
    },
    {
      name: on('a header of 64 kB'),
      pieces: [
        head('POST', path, `${AUTH}x-padding: ${'p'.repeat(65_536)}\r\ncontent-length: ${length}\r\n`),
        body,
      ],
      expect: expect(431),
    },
    {
      name: on('a header name with a space'),
      pieces: [head('POST', path, `${AUTH}bad header: 1\r\ncontent-length: ${length}\r\n`), body],
      expect: expect('4xx'),
    },
    {
      name: on('a NUL in a header value'),
      pieces: [head('POST', path, `${AUTH}x-thing: a\u0000b\r\ncontent-length: ${length}\r\n`), body],
      expect: expect('4xx'),
    },
    {
      name: on('a body declared more than twice the limit'),
      pieces: [head('POST', path, `${AUTH}content-length: ${2 * BODY_LIMIT_BYTES + 1}\r\n`), body],
      expect: expect(413),
    },
    {
      name: on('a body past the limit, sent whole'),
      pieces: [
        head('POST', path, `${AUTH}content-length: ${BODY_LIMIT_BYTES + 1}\r\n`),
        Buffer.alloc(BODY_LIMIT_BYTES + 1, 0x20),
      ],
      expect: expect(413),
    },
    {
      name: on('a body past the limit, sent chunked'),
      pieces: [
        head('POST', path, `${AUTH}transfer-encoding: chunked\r\n`),
        `${(BODY_LIMIT_BYTES + 1).toString(16)}\r\n`,
        Buffer.alloc(BODY_LIMIT_BYTES + 1, 0x20),
        '\r\n0\r\n\r\n',
      ],
      expect: expect(413),
    },
    {
      name: on('the client leaves mid-body'),
      pieces: [head('POST', path, `${AUTH}content-length: ${length}\r\n`), body.slice(0, 10)],
      abort: true,
    },
    {
      name: on('the client leaves mid-headers'),
      pieces: [`POST ${path} HTTP/1.1\r\nhost: gateway\r\nauthor`],
      abort: true,
    },
    // GET /admin/keys lists the keys.
    ...['GET', 'PUT', 'DELETE', 'PATCH']
      .filter((method) => method !== 'GET' || path !== '/admin/keys')
      .map((method) => ({
        name: on(`${method}, which the route does not take`),
        pieces: [head(method, path, AUTH)],
        expect: expect(405),
      })),
  ];
}

/** Every framing case, on every route that reads a body, and on paths a router must not trip over. */
export function framingCases(): FramingCase[] {
  const admin = JSON.stringify({ name: 'framing' });
  return [
    ...routeCases('/v1/chat/completions', CHAT, 'openai'),
    ...routeCases('/v1/embeddings', JSON.stringify({ model: 'openai', input: 'hi' }), 'openai'),
    ...routeCases('/v1/messages', MESSAGES, 'anthropic'),
    ...routeCases(
      '/v1/messages/count_tokens',
      JSON.stringify({ model: 'anthropic', messages: [{ role: 'user', content: 'hi' }] }),
      'anthropic',
    ),
    ...routeCases('/admin/keys', admin, 'openai'),
    ...[
      '%E0%A4%A',
      '%zz',
      '%',
      '%C0%AF',
      '%00',
      '..%2F..%2Fetc',
      '__proto__',
      `${'a'.repeat(8_000)}`,
    ].flatMap((id) => [
      {
        name: `DELETE /admin/keys/${id.slice(0, 20)}`,
        pieces: [head('DELETE', `/admin/keys/${id}`, AUTH)],
        expect: openai('4xx'),
      },
      {
        name: `GET /admin/keys/${id.slice(0, 20)}/spend`,
        pieces: [head('GET', `/admin/keys/${id}/spend`, AUTH)],
        expect: openai('4xx'),
      },
    ]),
    { name: 'an unknown path', pieces: [head('GET', '/v2/nothing', '')], expect: openai(404) },
    {
      name: 'an unknown path under /v1/messages',
      pieces: [head('POST', '/v1/messages/batches', AUTH)],
      expect: anthropic(404),
    },
    {
      name: 'an absolute-form target',
      pieces: [head('POST', 'http://elsewhere/v1/chat/completions', AUTH)],
      expect: openai(404),
    },
    { name: 'a request line that is not HTTP', pieces: ['HELLO\r\n\r\n'], expect: openai('4xx') },
    {
      name: 'HTTP/1.0 with a body and no length',
      pieces: [`POST /v1/chat/completions HTTP/1.0\r\n${AUTH}\r\n${CHAT}`],
      expect: openai('4xx'),
    },
    {
      name: 'bare LF line endings',
      pieces: [`POST /v1/chat/completions HTTP/1.1\nhost: x\n${AUTH.trim()}\ncontent-length: 2\n\n{}`],
      expect: openai('4xx'),
    },
  ];
}
