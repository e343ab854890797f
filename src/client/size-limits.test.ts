/**
 * `maxEventBytes` and `maxResponseBytes` end to end, against a real loopback server that keeps sending:
 * every frame format (SSE, Gemini's, NDJSON, AWS eventstream) and a non-streamed body end in an
 * `LLMInvalidResponseError` naming the option, after one attempt; the server sees its connection closed
 * (destroyed, not drained: it would otherwise send forever), and the process does not grow with the
 * size of what was sent. Regression: a body or a line had no size limit at all.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { crc32 } from 'node:zlib';
import { isLLMError, LLMConfigurationError, type LLMError, LLMInvalidResponseError } from '../spec/errors.ts';
import { type Flood, type FloodServer, startFloodServer } from '../test-support/flood-server.ts';
import { LLMClientFactory } from './factory.ts';
import type { LLMClient } from './llm-client.ts';
import type { ClientOptions } from './options.ts';

const KEY = 'test-key-not-real';
const LIMIT_BYTES = 1024 * 1024;
/** What an over-limit flood sends in all (when the client reads it all): 256 times the limit. */
const FLOOD_BYTES = 256 * LIMIT_BYTES;
const factory = new LLMClientFactory({ env: {} });
/** Retries allowed and fast: a retried failure would show as more than one request. */
const LIMITED: ClientOptions = {
  maxRetries: 2,
  retry: { initialDelayMs: 1, maxDelayMs: 2 },
  maxEventBytes: LIMIT_BYTES,
  maxResponseBytes: LIMIT_BYTES,
};

let flood: Flood;
let server: FloodServer;
before(async () => {
  server = await startFloodServer(() => flood);
});
after(() => server.close());

/** A fresh server per test, so its request count and connections are this test's own. */
async function serve(next: Flood): Promise<FloodServer> {
  await server.close();
  flood = next;
  server = await startFloodServer(() => flood);
  return server;
}

/** An eventstream prelude (valid CRC) announcing a message of `totalBytes`. */
function eventstreamPrelude(totalBytes: number): Uint8Array {
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(totalBytes, 0);
  prelude.writeUInt32BE(0, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  return prelude;
}

interface StreamCase {
  name: string;
  client(url: string): LLMClient;
  contentType: string;
  /** The start of one frame that then never ends. */
  head: string | Uint8Array;
}

const STREAMS: StreamCase[] = [
  {
    name: 'openai (SSE)',
    client: (url) =>
      factory.createClient('openai/gpt-4o-mini', { apiKey: KEY, baseURL: `${url}/v1`, ...LIMITED }),
    contentType: 'text/event-stream',
    head: 'data: {"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"',
  },
  {
    name: 'anthropic (SSE)',
    client: (url) =>
      factory.createClient('anthropic/claude-sonnet-4-6', { apiKey: KEY, baseURL: url, ...LIMITED }),
    contentType: 'text/event-stream',
    head: 'event: content_block_delta\ndata: {"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"',
  },
  {
    name: 'gemini (SSE)',
    client: (url) =>
      factory.createClient('gemini/gemini-2.5-flash', { apiKey: KEY, baseURL: url, ...LIMITED }),
    contentType: 'text/event-stream',
    head: 'data: {"candidates":[{"content":{"parts":[{"text":"',
  },
  {
    name: 'gemini (bare JSON outside SSE)',
    client: (url) =>
      factory.createClient('gemini/gemini-2.5-flash', { apiKey: KEY, baseURL: url, ...LIMITED }),
    contentType: 'text/event-stream',
    head: '{"error":{"code":500,"message":"',
  },
  {
    name: 'ollama (NDJSON)',
    client: (url) => factory.createClient('ollama/llama3.2', { baseURL: url, ...LIMITED }),
    contentType: 'application/x-ndjson',
    head: '{"model":"llama3.2","message":{"role":"assistant","content":"',
  },
  {
    name: 'bedrock (eventstream)',
    client: (url) =>
      factory.createClient('bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0', {
        region: 'us-east-1',
        baseURL: url,
        credentials: { accessKeyId: 'TESTLIMITSKEYID00000', secretAccessKey: 'test-secret-not-real' },
        ...LIMITED,
      }),
    contentType: 'application/vnd.amazon.eventstream',
    head: eventstreamPrelude(2 * LIMIT_BYTES),
  },
];

/** Runs `call` while sampling the process's RSS; returns the highest growth seen and what `call` threw. */
async function peakRssGrowth(call: () => Promise<unknown>): Promise<{ growthBytes: number; error: unknown }> {
  const baseline = process.memoryUsage.rss();
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 1);
  let error: unknown;
  try {
    await call();
  } catch (caught) {
    error = caught;
  } finally {
    clearInterval(sampler);
  }
  return { growthBytes: Math.max(peak, process.memoryUsage.rss()) - baseline, error };
}

async function drain(stream: AsyncIterable<unknown>): Promise<void> {
  for await (const _event of stream) {
    // read everything
  }
}

function assertLimitError(
  error: unknown,
  option: 'maxEventBytes' | 'maxResponseBytes',
  provider: string,
): LLMError {
  assert.ok(
    error instanceof LLMInvalidResponseError,
    `expected LLMInvalidResponseError, got ${String(error)}`,
  );
  assert.ok(isLLMError(error) && error.code === 'invalid_response');
  assert.match(error.message, new RegExp(`more than ${LIMIT_BYTES} bytes \\(the \`${option}\` limit\\)`));
  assert.match(error.message, new RegExp(`Raise the client option \`${option}\``));
  assert.equal(error.provider, provider);
  assert.equal(error.retryable, false);
  assert.equal(error.attempts, 1, 'not retried: the same server would send the same thing');
  return error;
}

describe('maxEventBytes ends an endless stream event, for every frame format', () => {
  for (const streamCase of STREAMS) {
    test(`${streamCase.name}: one attempt, a typed error, the connection closed, memory bounded`, async () => {
      const flooding = await serve({
        headers: { 'content-type': streamCase.contentType },
        head: streamCase.head,
        fillerBytes: FLOOD_BYTES,
      });
      const client = streamCase.client(flooding.url);
      try {
        const { growthBytes, error } = await peakRssGrowth(() => drain(client.stream({ prompt: 'flood' })));
        assertLimitError(error, 'maxEventBytes', client.provider);
        assert.equal(flooding.requests, 1);
        // While the client is still open: the connection was destroyed, not kept or drained.
        await flooding.connectionsClosed();
        assert.ok(growthBytes < FLOOD_BYTES / 4, `RSS grew by ${(growthBytes / 2 ** 20).toFixed(0)} MiB`);
      } finally {
        await client.close();
      }
    });
  }

  test('events the same chunk completed before the oversized one are delivered first', async () => {
    const first = 'data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hi"}}]}\n\n';
    const oversized = `data: {"id":"c","choices":[{"index":0,"delta":{"content":"${'x'.repeat(4096)}"}}]}\n\n`;
    const flooding = await serve({
      headers: { 'content-type': 'text/event-stream' },
      head: first + oversized,
      fillerBytes: 0,
    });
    const client = factory.createClient('openai/gpt-4o-mini', {
      apiKey: KEY,
      baseURL: `${flooding.url}/v1`,
      maxEventBytes: 1024,
    });
    const texts: string[] = [];
    try {
      await assert.rejects(
        async () => {
          for await (const event of client.stream({ prompt: 'x' }))
            if (event.type === 'text-delta') texts.push(event.text);
        },
        (error: unknown) => error instanceof LLMInvalidResponseError && /maxEventBytes/.test(error.message),
      );
      assert.deepEqual(texts, ['Hi']);
    } finally {
      await client.close();
    }
  });
});

test('bytes that keep coming after the end marker are not drained forever: the stream finishes', async () => {
  const events = [
    'data: {"id":"c","choices":[{"index":0,"delta":{"content":"Hi"},"finish_reason":null}]}\n\n',
    'data: {"id":"c","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\n',
    'data: [DONE]\n\n',
  ];
  const flooding = await serve({ headers: { 'content-type': 'text/event-stream' }, head: events.join('') });
  const client = factory.createClient('openai/gpt-4o-mini', {
    apiKey: KEY,
    baseURL: `${flooding.url}/v1`,
    ...LIMITED,
  });
  try {
    const types: string[] = [];
    for await (const event of client.stream({ prompt: 'x' })) types.push(event.type);
    assert.deepEqual(types, ['text-delta', 'finish']);
    await flooding.connectionsClosed();
  } finally {
    await client.close();
  }
});

describe('maxResponseBytes ends an oversized non-streamed body', () => {
  const completion = (url: string, options: ClientOptions = LIMITED) =>
    factory.createClient('openai/gpt-4o-mini', { apiKey: KEY, baseURL: `${url}/v1`, ...options });
  const BODY_HEAD =
    '{"id":"c","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"';

  test('a chunked body: stopped at the limit, one attempt, the connection closed, memory bounded', async () => {
    const flooding = await serve({
      headers: { 'content-type': 'application/json' },
      head: BODY_HEAD,
      fillerBytes: FLOOD_BYTES,
      tail: '"},"finish_reason":"stop"}]}',
    });
    const client = completion(flooding.url);
    try {
      const { growthBytes, error } = await peakRssGrowth(() => client.complete({ prompt: 'flood' }));
      const typed = assertLimitError(error, 'maxResponseBytes', 'openai');
      assert.equal(typed.status, 200);
      assert.equal(flooding.requests, 1);
      await flooding.connectionsClosed();
      assert.ok(growthBytes < FLOOD_BYTES / 4, `RSS grew by ${(growthBytes / 2 ** 20).toFixed(0)} MiB`);
    } finally {
      await client.close();
    }
  });

  test('a content-length over the limit is refused before the body is read', async () => {
    const flooding = await serve({
      headers: { 'content-type': 'application/json', 'content-length': String(FLOOD_BYTES) },
      head: BODY_HEAD,
    });
    const client = completion(flooding.url);
    try {
      const error = await client.complete({ prompt: 'x' }).catch((caught: unknown) => caught);
      assertLimitError(error, 'maxResponseBytes', 'openai');
      await flooding.connectionsClosed();
    } finally {
      await client.close();
    }
  });

  test('embeddings bodies are limited too', async () => {
    const flooding = await serve({
      headers: { 'content-type': 'application/json' },
      head: '{"object":"list","data":[{"object":"embedding","index":0,"embedding":"',
    });
    const client = completion(flooding.url);
    try {
      const error = await client.generateEmbeddings(['a']).catch((caught: unknown) => caught);
      assertLimitError(error, 'maxResponseBytes', 'openai');
      await flooding.connectionsClosed();
    } finally {
      await client.close();
    }
  });

  test('a body of exactly the limit is read; one byte more is refused', async () => {
    const body = JSON.stringify({
      id: 'c',
      object: 'chat.completion',
      model: 'gpt-4o-mini',
      choices: [
        { index: 0, message: { role: 'assistant', content: 'é'.repeat(500) }, finish_reason: 'stop' },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
    const bytes = Buffer.byteLength(body);
    const flooding = await serve({
      headers: { 'content-type': 'application/json' },
      head: body,
      fillerBytes: 0,
    });
    const exact = completion(flooding.url, { maxResponseBytes: bytes });
    const short = completion(flooding.url, { maxResponseBytes: bytes - 1, maxRetries: 0 });
    try {
      assert.equal((await exact.complete({ prompt: 'x' })).text, 'é'.repeat(500));
      await assert.rejects(short.complete({ prompt: 'x' }), (error: unknown) =>
        new RegExp(`more than ${bytes - 1} bytes`).test((error as Error).message),
      );
    } finally {
      await exact.close();
      await short.close();
    }
  });
});

describe('size limit options', () => {
  for (const option of ['maxEventBytes', 'maxResponseBytes'] as const) {
    test(`${option} must be a positive whole number of bytes`, () => {
      for (const bad of ['16MB', 0, -1, 1.5, Number.POSITIVE_INFINITY, Number.NaN]) {
        assert.throws(
          () => factory.createClient('openai/gpt-4o-mini', { apiKey: KEY, [option]: bad }),
          (error: unknown) =>
            error instanceof LLMConfigurationError &&
            error.message.startsWith(
              `Invalid option \`${option}\`: expected a positive whole number of bytes`,
            ),
        );
      }
      const client = factory.createClient('openai/gpt-4o-mini', { apiKey: KEY, [option]: 1 });
      return client.close();
    });
  }
});
