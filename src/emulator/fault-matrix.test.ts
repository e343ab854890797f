/**
 * The fault matrix: every fault kind the emulator injects, streaming and not, transient and persistent,
 * must end in a transparent retry or the right typed error, within the deadline, with no unhandled
 * rejection and no socket left open once everything is closed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientOptions } from '../client/options.ts';
import { isLLMError, LLMContentFilterError, LLMTimeoutError } from '../spec/errors.ts';
import { describeFaultMatrix, FAULT_CLIENT } from '../test-support/fault-rig.ts';

const CLIENT: ClientOptions = { ...FAULT_CLIENT, apiKey: 'sk-fault-matrix-000000000000' };

const rig = describeFaultMatrix({
  provider: 'openai',
  client: (factory, url, options) =>
    factory.createClient('openai/gpt-4o-mini', {
      apiKey: 'sk-fault-matrix-000000000000',
      ...options,
      baseURL: `${url}/v1`,
    }),
});
const run = rig.run;

describe('fault outcomes in detail', () => {
  test('content-filter on OpenAI gives an empty result with finish reason content-filter', async () => {
    const outcome = await run('content-filter', false);
    assert.ok(!isLLMError(outcome));
    assert.equal(outcome.finishReason, 'content-filter');
  });

  test('content-filter on Azure is a typed LLMContentFilterError', async () => {
    const client = rig.factory.createClient('azure', {
      ...CLIENT,
      endpoint: rig.emulator.url,
      model: 'gpt-4o-deployment',
    });
    await assert.rejects(
      client.complete({ prompt: 'filtered', headers: { 'x-emulator-fault': 'content-filter' } }),
      (error: unknown) =>
        error instanceof LLMContentFilterError && error.status === 400 && error.retryable === false,
    );
    await client.close();
  });

  test('a deadline bounds a hanging call, all attempts included', async () => {
    const started = Date.now();
    const outcome = await run('hang', false, { timeoutMs: 10_000, deadlineMs: 300 });
    const elapsed = Date.now() - started;
    assert.ok(outcome instanceof LLMTimeoutError, 'deadline ends in a timeout error');
    assert.match(outcome.message, /Deadline exceeded/);
    assert.ok(elapsed < 2_000, `ended after ${elapsed} ms`);
  });

  test('rate-limit retries wait the retry-after-ms the server asked for', async () => {
    const before = rig.emulator.requests.length;
    const outcome = await run('rate-limit:2', false);
    assert.ok(!isLLMError(outcome));
    const attempts = rig.emulator.requests.slice(before);
    assert.equal(attempts.length, 3);
    for (let i = 1; i < attempts.length; i++) {
      assert.ok(
        attempts[i]!.receivedAt - attempts[i - 1]!.receivedAt >= 9,
        'waited about retry-after-ms (10 ms)',
      );
    }
  });

  test('a caller abort mid-stream ends the stream with LLMAbortError and frees the socket', async () => {
    const client = rig.factory.createClient('openai/gpt-4o-mini', {
      ...CLIENT,
      baseURL: `${rig.emulator.url}/v1`,
    });
    const controller = new AbortController();
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const event of client.stream({
          prompt: 'abort me',
          signal: controller.signal,
          headers: { 'x-emulator-tokens-per-second': '50' },
        })) {
          if (event.type === 'text-delta') {
            text += event.text;
            controller.abort();
          }
        }
      })(),
      (error: unknown) => isLLMError(error) && error.code === 'aborted',
    );
    assert.ok(text.length > 0);
    await client.close();
  });

  test('breaking out of a stream early releases the connection', async () => {
    const client = rig.factory.createClient('openai/gpt-4o-mini', {
      ...CLIENT,
      baseURL: `${rig.emulator.url}/v1`,
    });
    for await (const event of client.stream({
      prompt: 'break early',
      headers: { 'x-emulator-tokens-per-second': '100' },
    })) {
      if (event.type === 'text-delta') break;
    }
    const result = await client.complete({ prompt: 'still works after break' });
    assert.ok(result.text.length > 0);
    await client.close();
  });
});
