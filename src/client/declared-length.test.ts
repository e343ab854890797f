/**
 * Regression: a response whose declared `content-length` was over `maxResponseBytes` was refused with the
 * right error, and its body, destroyed unread, then raised undici's "Request aborted" as an uncaught
 * exception — which ends a process that has no handler (the gateway did, on an upstream answer over its
 * `upstreamMaxBytes`).
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { LLMInvalidResponseError } from '../spec/errors.ts';
import { LLMClientFactory } from './factory.ts';

test('a declared length over maxResponseBytes is refused without an uncaught abort', async (t) => {
  const body = JSON.stringify({
    id: 'chatcmpl-declared',
    object: 'chat.completion',
    created: 1,
    model: 'gpt-4o-mini',
    choices: [
      { index: 0, message: { role: 'assistant', content: 'y'.repeat(2_000) }, finish_reason: 'stop' },
    ],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  });
  // The whole body, sent at once with its length: it is in the client's socket when the client refuses it.
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const uncaught: Error[] = [];
  const listener = (error: Error) => uncaught.push(error);
  process.on('uncaughtException', listener);
  t.after(() => process.off('uncaughtException', listener));

  const client = new LLMClientFactory({ env: {} }).createClient('openai/gpt-4o-mini', {
    apiKey: 'test-key-not-real',
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    maxResponseBytes: 1_024,
    maxRetries: 0,
  });
  t.after(() => client.close());
  for (let i = 0; i < 3; i++) {
    const error = await client.complete({ prompt: 'x' }).catch((caught: unknown) => caught);
    assert.ok(error instanceof LLMInvalidResponseError, String(error));
    assert.match(error.message, /more than 1024 bytes \(the `maxResponseBytes` limit\)/);
  }
  // Whatever the destroyed bodies emit is emitted within a few turns of the event loop.
  for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.deepEqual(
    uncaught.map((error) => error.message),
    [],
  );
});
