/** No path leaks a key: errors (message, body, stack, JSON) from every failure kind, with a key echoed back. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import { type Emulator, FAULT_KINDS, startEmulator } from '../emulator/index.ts';
import { preloadTokenizer } from '../test-support/preload.ts';
import { type ReplayServer, startReplayServer } from '../test-support/replay-server.ts';
import { isLLMError, type LLMError } from './errors.ts';
import { redact, redactHeaders } from './redact.ts';

const KEY = 'sk-proj-LEAKCANARY7f3a9c2e5b1d4f8a6c0e9b7d';

describe('redact', () => {
  test('known secrets and key-shaped tokens are replaced', () => {
    assert.equal(redact(`key=${KEY}`, [KEY]), 'key=[REDACTED]');
    assert.equal(redact('Authorization: Bearer abc.def-ghi_123456'), 'Authorization: Bearer [REDACTED]');
    // AWS's documented example access key id, assembled here so that no key-shaped literal sits in the repo.
    const exampleKeyId = ['AKIA', 'IOSFODNN7EXAMPLE'].join('');
    assert.equal(redact(`id ${exampleKeyId} here`), 'id [REDACTED] here');
    assert.equal(
      redact('https://x/y?key=AIzaSyD-secret-value&alt=sse'),
      'https://x/y?key=[REDACTED]&alt=sse',
    );
    assert.equal(redact('plain text stays'), 'plain text stays');
  });
  test('secret headers are masked by name', () => {
    assert.deepEqual(
      redactHeaders({ Authorization: `Bearer ${KEY}`, 'api-key': 'k', 'x-request-id': 'r1' }),
      {
        Authorization: '[REDACTED]',
        'api-key': '[REDACTED]',
        'x-request-id': 'r1',
      },
    );
  });
});

describe('no key in any error', () => {
  let emulator: Emulator;
  let echo: ReplayServer;
  const factory = new LLMClientFactory({ env: {} });
  before(async () => {
    preloadTokenizer();
    emulator = await startEmulator({ retryAfterMs: 5 });
    // A misbehaving server that echoes the key in every place it can.
    echo = await startReplayServer((request) => ({
      status: 401,
      headers: { 'x-request-id': `req-${request.headers.authorization}` },
      body: JSON.stringify({
        error: {
          message: `Incorrect API key provided: ${request.headers.authorization}`,
          code: 'invalid_api_key',
        },
      }),
    }));
  });
  after(async () => {
    await factory.close();
    await emulator.close();
    await echo.close();
  });

  /** Errors checked by `assertClean`, so that a test can say how many it expected. */
  let checked = 0;
  function assertClean(error: unknown) {
    assert.ok(isLLMError(error), `a typed error, not ${String(error)}`);
    checked++;
    const surfaces = [
      error.message,
      error.stack ?? '',
      error.body ?? '',
      JSON.stringify(error),
      String(error.requestId),
    ];
    for (const attempt of error.attemptErrors)
      surfaces.push(attempt.message, attempt.body ?? '', attempt.stack ?? '');
    for (const surface of surfaces)
      assert.ok(!surface.includes(KEY), `key leaked in: ${surface.slice(0, 200)}`);
  }

  /** How a call ended: `ok`, or the code of its error, which has been checked clean. */
  async function outcome(call: () => Promise<unknown>): Promise<string> {
    try {
      await call();
      return 'ok';
    } catch (error) {
      assertClean(error);
      return (error as LLMError).code;
    }
  }
  const drain = async (stream: AsyncIterable<unknown>) => {
    for await (const _ of stream) {
      // drain
    }
  };

  test('every fault kind, streaming and not', async () => {
    const options = {
      apiKey: KEY,
      baseURL: `${emulator.url}/v1`,
      timeoutMs: 200,
      streamIdleTimeoutMs: 150,
      maxRetries: 1,
      retry: { initialDelayMs: 1 },
    };
    const client = factory.createClient('openai/gpt-4o-mini', options);
    const before = checked;
    const seen: Record<string, string[]> = {};
    for (const kind of FAULT_KINDS) {
      const request = { prompt: `leak ${kind}`, headers: { 'x-emulator-fault': kind } };
      seen[kind] = [
        await outcome(() => client.complete(request)),
        await outcome(() => drain(client.stream(request))),
      ];
    }
    const failing = factory.createClient('openai/gpt-4o-mini', {
      ...options,
      headers: { 'x-emulator-fault': 'server-error' },
    });
    seen.embeddings = [await outcome(() => failing.generateEmbeddings(['x']))];
    await client.close();
    await failing.close();
    // [complete, stream] per fault. OpenAI's content filter is an answer (finish reason content-filter).
    assert.deepEqual(seen, {
      'rate-limit': ['rate_limit', 'rate_limit'],
      'server-error': ['server_error', 'server_error'],
      unavailable: ['server_error', 'server_error'],
      overloaded: ['server_error', 'server_error'],
      hang: ['timeout', 'timeout'],
      stall: ['timeout', 'timeout'],
      reset: ['connection', 'connection'],
      malformed: ['invalid_response', 'invalid_response'],
      'stream-error': ['server_error', 'server_error'],
      'content-filter': ['ok', 'ok'],
      embeddings: ['server_error'],
    });
    assert.equal(checked - before, 19, 'every error was checked for the key');
  });

  test('a server that echoes the key back in body and headers', async () => {
    const client = factory.createClient('openai', { apiKey: KEY, baseURL: `${echo.url}/v1`, maxRetries: 0 });
    const error = await client.complete({ prompt: 'x' }).catch((e: unknown) => e);
    assert.ok(isLLMError(error) && error.code === 'authentication');
    assertClean(error);
    assert.match(error.message, /\[REDACTED\]/);
    await client.close();
  });

  test('a connection refused, and an invalid option carrying the key', async () => {
    const client = factory.createClient('openai', {
      apiKey: KEY,
      baseURL: 'http://127.0.0.1:9/v1',
      maxRetries: 0,
    });
    assert.equal(await outcome(() => client.complete({ prompt: 'x' })), 'connection');
    await client.close();
    const invalid = await outcome(async () =>
      factory.createClient('openai', { apiKey: KEY, timeoutMs: KEY as never }),
    );
    assert.equal(invalid, 'configuration');
  });
});
