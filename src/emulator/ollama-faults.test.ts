/**
 * The fault matrix for Ollama: every fault kind the emulator injects, on `/api/chat` streaming (NDJSON)
 * and not, on every attempt and on the first only, must end in a transparent retry or the right typed
 * error after the right number of attempts, with no unhandled rejection and no socket left open.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientOptions } from '../client/options.ts';
import {
  isLLMError,
  LLMAuthenticationError,
  LLMContextWindowError,
  type LLMError,
  LLMNotFoundError,
  LLMRateLimitError,
  LLMServerError,
} from '../spec/errors.ts';
import type { CompletionRequest } from '../spec/types.ts';
import { describeFaultMatrix, FAULT_CLIENT } from '../test-support/fault-rig.ts';
import { startEmulator } from './index.ts';

const CLIENT: ClientOptions = { ...FAULT_CLIENT, model: 'llama3.2' };

const rig = describeFaultMatrix({
  provider: 'ollama',
  client: (factory, url, options) =>
    factory.createClient('ollama', { model: 'llama3.2', ...options, baseURL: url }),
});

/** Like the rig's `run`, with a request and a server of the test's choosing. */
type Outcome = { text: string; finishReason: string } | LLMError;

let counter = 0;
async function run(
  fault: string | undefined,
  stream: boolean,
  extra: ClientOptions = {},
  request: CompletionRequest = {},
  url = rig.emulator.url,
): Promise<Outcome> {
  const client = rig.factory.createClient('ollama', { ...CLIENT, baseURL: url, ...extra });
  // A distinct prompt per run, so the emulator's per-request fault counters start afresh.
  const call: CompletionRequest = {
    prompt: `fault ${fault} ${stream} ${counter++}`,
    ...request,
    headers: fault ? { 'x-emulator-fault': fault, ...request.headers } : request.headers,
  };
  try {
    if (!stream) {
      const result = await client.complete(call);
      return { text: result.text, finishReason: result.finishReason };
    }
    let text = '';
    let finishReason = '';
    for await (const event of client.stream(call)) {
      if (event.type === 'text-delta') text += event.text;
      if (event.type === 'finish') finishReason = event.finishReason;
    }
    return { text, finishReason };
  } catch (error) {
    assert.ok(isLLMError(error), `a typed error, not ${String(error)}`);
    return error;
  } finally {
    await client.close();
  }
}

describe('ollama fault outcomes in detail', () => {
  for (const stream of [false, true]) {
    test(`content-filter gives an empty answer that stopped normally (${stream ? 'stream' : 'complete'})`, async () => {
      const outcome = await run('content-filter', stream);
      assert.ok(!isLLMError(outcome));
      assert.deepEqual(outcome, { text: '', finishReason: 'stop' });
    });
  }

  test('rate-limit: the error carries the server’s retry-after, and a retry after it recovers', async () => {
    const limited = await run('rate-limit', false, { maxRetries: 0 });
    assert.ok(limited instanceof LLMRateLimitError);
    assert.equal(limited.retryAfterMs, 1000, 'retry-after: 1 (seconds, rounded up from 10 ms)');
    assert.match(limited.message, /^ollama 429: too many requests/);
    const before = rig.emulator.requests.length;
    const recovered = await run('rate-limit:2', false);
    assert.ok(!isLLMError(recovered));
    assert.equal(rig.emulator.requests.length - before, 3, 'two limited attempts, then the answer');
  });

  test('unavailable is Ollama’s full-queue answer, typed as a retryable server error', async () => {
    const outcome = await run('unavailable', false, { maxRetries: 0 });
    assert.ok(outcome instanceof LLMServerError);
    assert.equal(outcome.status, 503);
    assert.equal(outcome.retryable, true);
    assert.match(outcome.message, /server busy, please try again\. {2}maximum pending requests exceeded/);
  });

  test('stream-error arrives after text and names the model failure', async () => {
    const outcome = await run('stream-error', true);
    assert.ok(outcome instanceof LLMServerError);
    assert.match(outcome.message, /^ollama stream error: an error was encountered while running the model/);
  });

  test('a model the server does not have: not found with the pull hint, never retried', async () => {
    const served = await startEmulator({ models: ['llama3.2', 'nomic-embed-text'] });
    const missing = await run(undefined, false, { model: 'mistral' }, {}, served.url);
    assert.ok(missing instanceof LLMNotFoundError, String(missing));
    assert.equal(missing.attempts, 1);
    assert.match(
      missing.message,
      /model "mistral" not found, try pulling it first — run `ollama pull mistral`/,
    );
    const streamed = await run(undefined, true, { model: 'mistral' }, {}, served.url);
    assert.ok(streamed instanceof LLMNotFoundError);
    const tagged = await run(undefined, false, { model: 'llama3.2:latest' }, {}, served.url);
    assert.ok(!isLLMError(tagged), 'llama3.2:latest is llama3.2');

    const client = rig.factory.createClient('ollama', {
      ...CLIENT,
      baseURL: served.url,
      embeddingModel: 'bge-m3',
    });
    const embedding = await client.generateEmbeddings(['x']).then(
      () => assert.fail('expected not found'),
      (error: unknown) => error,
    );
    await client.close();
    await served.close();
    assert.ok(embedding instanceof LLMNotFoundError);
    assert.match(embedding.message, /run `ollama pull bge-m3`/);
  });

  test('keys: none needed by default; with keys set, a bearer key is required', async () => {
    const guarded = await startEmulator({ apiKeys: ['ollama-right-key'] });
    const without = await run(undefined, false, {}, {}, guarded.url);
    assert.ok(without instanceof LLMAuthenticationError);
    assert.equal(without.status, 401);
    assert.equal(without.attempts, 1);
    const wrong = await run(undefined, true, { apiKey: 'ollama-wrong-key' }, {}, guarded.url);
    assert.ok(wrong instanceof LLMAuthenticationError);
    assert.doesNotMatch(wrong.message, /ollama-wrong-key/, 'the key is never in the message');
    const right = await run(undefined, false, { apiKey: 'ollama-right-key' }, {}, guarded.url);
    assert.ok(!isLLMError(right));
    await guarded.close();
  });

  test('a prompt over the context window is a context-window error, not retried', async () => {
    const small = await startEmulator({ contextWindow: 20 });
    for (const stream of [false, true]) {
      const outcome = await run(undefined, stream, {}, { prompt: 'word '.repeat(50) }, small.url);
      assert.ok(outcome instanceof LLMContextWindowError, String(outcome));
      assert.equal(outcome.attempts, 1);
      assert.match(outcome.message, /the input length exceeds the context length/);
    }
    await small.close();
  });
});
