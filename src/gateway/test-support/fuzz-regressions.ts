/**
 * What the fuzz found, each kept as a named case that would have failed before its fix: the request, and
 * the status and error shape the gateway must answer it with (still running).
 */
import type { Protocol } from './fuzz-endpoints.ts';
import { MASTER_KEY, type Outgoing } from './fuzz-gateway.ts';

export interface Regression {
  name: string;
  /** Sent through an HTTP client… */
  request?: Outgoing;
  /** …or byte for byte on a raw socket. */
  raw?: string[];
  status: number;
  protocol: Protocol;
}

const json = { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' };

function post(path: string, body: string): Outgoing {
  return { method: 'POST', path, headers: json, body: Buffer.from(body) };
}

const chat = (extra: string) =>
  `{"model":"openai","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f","parameters":${extra}}}]}`;

export function regressions(): Regression[] {
  return [
    {
      name: 'a broken percent-escape in /admin/keys/:id ended the process (uncaught URIError)',
      request: { method: 'DELETE', path: '/admin/keys/%E0%A4%A', headers: {} },
      status: 400,
      protocol: 'openai',
    },
    {
      name: 'a body nested 100 000 deep got a 500 (JSON.stringify ran out of stack)',
      request: post('/v1/chat/completions', chat(`${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`)),
      status: 400,
      protocol: 'openai',
    },
    {
      name: 'nesting 10 000 deep in count_tokens got a 500',
      request: post(
        '/v1/messages/count_tokens',
        `{"model":"ollama","messages":[{"role":"user","content":"hi"}],"x":${'['.repeat(10_000)}${']'.repeat(10_000)}}`,
      ),
      status: 400,
      protocol: 'anthropic',
    },
    {
      name: 'embeddings dimensions of 1e23 made the emulator throw (a 502 after three attempts)',
      request: post('/v1/embeddings', '{"model":"gemini","input":"hi","dimensions":1e23}'),
      status: 400,
      protocol: 'openai',
    },
    {
      name: 'embeddings dimensions past the model’s were answered with a vector that long (1e9: 4 GB)',
      request: post('/v1/embeddings', '{"model":"openai","input":"hi","dimensions":4097}'),
      status: 400,
      protocol: 'openai',
    },
    {
      name: 'embeddings dimensions of the wrong type were dropped without a word',
      request: post('/v1/embeddings', '{"model":"openai","input":"hi","dimensions":"256"}'),
      status: 400,
      protocol: 'openai',
    },
    {
      name: "GET /v1/messages was answered in OpenAI's error shape",
      request: { method: 'GET', path: '/v1/messages', headers: json },
      status: 405,
      protocol: 'anthropic',
    },
    {
      name: 'a chunk size that is not hex got Node’s bare 400 with no body',
      raw: [
        `POST /v1/messages HTTP/1.1\r\nhost: x\r\nx-api-key: ${MASTER_KEY}\r\nconnection: close\r\ntransfer-encoding: chunked\r\n\r\n`,
        'zz\r\n{}\r\n0\r\n\r\n',
      ],
      status: 400,
      protocol: 'anthropic',
    },
    {
      name: 'headers past 16 kB got Node’s bare 431 with no body',
      raw: [`GET /v1/models HTTP/1.1\r\nhost: x\r\nx-padding: ${'p'.repeat(20_000)}\r\n\r\n`],
      status: 431,
      protocol: 'openai',
    },
    {
      name: 'a megabyte with no space in count_tokens stalled the gateway for minutes (quadratic BPE)',
      request: post(
        '/v1/messages/count_tokens',
        JSON.stringify({
          model: 'openai',
          messages: [{ role: 'user', content: `${'x'.repeat(500_000)}${'👩‍👩‍👧‍👦'.repeat(50_000)}` }],
        }),
      ),
      status: 200,
      protocol: 'anthropic',
    },
    {
      name: 'a body past the limit, sent whole, got a reset instead of its 413',
      request: post('/v1/embeddings', ' '.repeat(10 * 1024 * 1024 + 1)),
      status: 413,
      protocol: 'openai',
    },
  ];
}
