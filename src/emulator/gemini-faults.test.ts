/**
 * The fault matrix for Gemini: every fault kind the emulator injects, on `generateContent` and
 * `streamGenerateContent?alt=sse`, on every attempt and on the first only, must end in a transparent retry
 * or the right typed error after the right number of attempts, with no unhandled rejection and no socket
 * left open once everything is closed. Plus the Gemini-specific answers: RetryInfo, the refusal shape,
 * auth, unknown models and the context window.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientOptions } from '../client/options.ts';
import {
  isLLMError,
  LLMAuthenticationError,
  LLMContextWindowError,
  LLMNotFoundError,
  LLMRateLimitError,
  LLMServerError,
} from '../spec/errors.ts';
import { describeFaultMatrix, FAULT_CLIENT } from '../test-support/fault-rig.ts';
import { startEmulator } from './index.ts';

const CLIENT: ClientOptions = { ...FAULT_CLIENT, apiKey: 'gemini-fault-matrix-key' };

const rig = describeFaultMatrix({
  provider: 'gemini',
  client: (factory, url, options) =>
    factory.createClient('gemini/gemini-2.5-flash', {
      apiKey: 'gemini-fault-matrix-key',
      ...options,
      baseURL: url,
    }),
});
const run = rig.run;

describe('gemini fault outcomes in detail', () => {
  test('rate-limit: RetryInfo says the wait, and the retries wait it', async () => {
    const outcome = await run('rate-limit', false, { maxRetries: 0 });
    assert.ok(outcome instanceof LLMRateLimitError);
    assert.equal(outcome.retryAfterMs, 10, 'from the RetryInfo detail ("0.01s")');
    assert.equal(outcome.providerCode, 'RESOURCE_EXHAUSTED');
    assert.match(outcome.body ?? '', /"@type": ?"type\.googleapis\.com\/google\.rpc\.RetryInfo"/);

    const before = rig.emulator.requests.length;
    assert.ok(!isLLMError(await run('rate-limit:2', false)));
    const attempts = rig.emulator.requests.slice(before);
    assert.equal(attempts.length, 3);
    for (let i = 1; i < attempts.length; i++) {
      assert.ok(
        attempts[i]!.receivedAt - attempts[i - 1]!.receivedAt >= 9,
        'waited about the RetryInfo delay (10 ms)',
      );
    }
  });

  test('content-filter: an empty answer with finish reason content-filter (SAFETY), both ways', async () => {
    for (const stream of [false, true]) {
      const outcome = await run('content-filter', stream);
      assert.ok(!isLLMError(outcome));
      assert.deepEqual(outcome, {
        text: '',
        finishReason: 'content-filter',
        rawFinishReason: 'SAFETY',
        requests: 1,
      });
    }
  });

  test('stream-error: the text before the failure is delivered, then INTERNAL as a typed error', async () => {
    const client = rig.factory.createClient('gemini/gemini-2.5-flash', {
      ...CLIENT,
      baseURL: rig.emulator.url,
    });
    let text = '';
    await assert.rejects(
      (async () => {
        for await (const event of client.stream({
          prompt: 'stream error detail',
          headers: { 'x-emulator-fault': 'stream-error' },
        })) {
          if (event.type === 'text-delta') text += event.text;
        }
      })(),
      (error: unknown) => error instanceof LLMServerError && error.providerCode === 'INTERNAL',
    );
    assert.equal(text, 'You asked:', 'two chunks, then the error');
    await client.close();
  });

  test('overloaded is a 529 whose body says UNAVAILABLE', async () => {
    const outcome = await run('overloaded', false, { maxRetries: 0 });
    assert.ok(outcome instanceof LLMServerError);
    assert.equal(outcome.status, 529);
    assert.equal(outcome.providerCode, 'UNAVAILABLE');
    assert.equal(outcome.retryable, true);
  });
});

describe('gemini emulator refusals', () => {
  test('a wrong key is 400 API_KEY_INVALID, a missing one 403; both LLMAuthenticationError, not retried', async () => {
    const keyed = await startEmulator({ apiKeys: ['the-right-key'] });
    const wrong = rig.factory.createClient('gemini', {
      ...CLIENT,
      apiKey: 'the-wrong-key',
      baseURL: keyed.url,
    });
    await assert.rejects(wrong.complete({ prompt: 'x' }), (error: unknown) => {
      return error instanceof LLMAuthenticationError && error.status === 400 && error.attempts === 1;
    });
    await wrong.close();
    const missing = await fetch(`${keyed.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      body: '{"contents":[{"parts":[{"text":"x"}]}]}',
    });
    assert.equal(missing.status, 403);
    assert.equal(((await missing.json()) as { error: { status: string } }).error.status, 'PERMISSION_DENIED');
    const byQuery = await fetch(
      `${keyed.url}/v1beta/models/gemini-2.5-flash:generateContent?key=the-right-key`,
      {
        method: 'POST',
        body: '{"contents":[{"parts":[{"text":"x"}]}]}',
      },
    );
    assert.equal(byQuery.status, 200, 'the key query parameter is accepted too');
    await keyed.close();
  });

  test('a model the emulator does not serve is LLMNotFoundError; a prompt over the window is LLMContextWindowError', async () => {
    const strict = await startEmulator({ models: ['gemini-2.5-flash'], contextWindow: 20 });
    const other = rig.factory.createClient('gemini/gemini-9-ultra', { ...CLIENT, baseURL: strict.url });
    await assert.rejects(other.complete({ prompt: 'x' }), (error: unknown) => {
      return (
        error instanceof LLMNotFoundError &&
        /models\/gemini-9-ultra is not found for API version v1beta/.test(error.message)
      );
    });
    await other.close();
    const served = rig.factory.createClient('gemini/gemini-2.5-flash', { ...CLIENT, baseURL: strict.url });
    await assert.rejects(served.complete({ prompt: 'word '.repeat(50) }), (error: unknown) => {
      return (
        error instanceof LLMContextWindowError &&
        /The input token count \(\d+\) exceeds the maximum number of tokens allowed \(20\)/.test(
          error.message,
        )
      );
    });
    assert.ok((await served.complete({ prompt: 'short' })).text.length > 0);
    await served.close();
    await strict.close();
  });
});
