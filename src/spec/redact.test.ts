/** No path leaks a key: errors (message, body, stack, JSON) from every failure kind, with a key echoed back. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import { type Emulator, FAULT_KINDS, startEmulator } from '../emulator/index.ts';
import { type ReplayServer, startReplayServer } from '../test-support/replay-server.ts';
import { isLLMError } from './errors.ts';
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

  function assertClean(error: unknown) {
    assert.ok(isLLMError(error));
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

  test('every fault kind, streaming and not', async () => {
    const client = factory.createClient('openai/gpt-4o-mini', {
      apiKey: KEY,
      baseURL: `${emulator.url}/v1`,
      timeoutMs: 200,
      streamIdleTimeoutMs: 150,
      maxRetries: 1,
      retry: { initialDelayMs: 1 },
    });
    for (const kind of FAULT_KINDS) {
      const request = { prompt: `leak ${kind}`, headers: { 'x-emulator-fault': kind } };
      await client.complete(request).catch(assertClean);
      await (async () => {
        for await (const _ of client.stream(request)) {
          // drain
        }
      })().catch(assertClean);
    }
    await client.generateEmbeddings(['x'], {}).catch(assertClean);
    await client.close();
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
    await client.complete({ prompt: 'x' }).catch(assertClean);
    await client.close();
    try {
      factory.createClient('openai', { apiKey: KEY, timeoutMs: KEY as never });
      assert.fail('expected a configuration error');
    } catch (error) {
      assertClean(error);
    }
  });
});
