/**
 * The fault matrix on Anthropic's protocol: every fault kind the emulator injects, streaming and not,
 * on every attempt and on the first only, must end in a transparent retry or the right typed error, with
 * Anthropic's own shapes on the wire (429 rate_limit_error with retry-after and x-should-retry, 529
 * overloaded_error, `event: error` mid-stream, stop_reason refusal), no unhandled rejection and no socket
 * left open once everything is closed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientOptions } from '../client/options.ts';
import { isLLMError, LLMRateLimitError, LLMServerError } from '../spec/errors.ts';
import { describeFaultMatrix, FAULT_CLIENT } from '../test-support/fault-rig.ts';
import { ANTHROPIC_REFUSAL_TEXT } from './anthropic-messages.ts';

const KEY = 'test-anthropic-fault-matrix-key';
const _CLIENT: ClientOptions = { ...FAULT_CLIENT, apiKey: KEY };

const rig = describeFaultMatrix({
  provider: 'anthropic',
  client: (factory, url, options) =>
    factory.createClient('anthropic/claude-sonnet-4-5', { ...options, apiKey: KEY, baseURL: url }),
});
const run = rig.run;

describe('anthropic fault outcomes in detail', () => {
  for (const stream of [false, true]) {
    test(`content-filter is a refusal: the refusal text with finish reason content-filter${stream ? ', streamed' : ''}`, async () => {
      const outcome = await run('content-filter', stream);
      assert.ok(!isLLMError(outcome));
      assert.equal(outcome.finishReason, 'content-filter');
      assert.equal(outcome.text, ANTHROPIC_REFUSAL_TEXT);
      assert.equal(outcome.requests, 1, 'a refusal is not retried');
    });
  }

  test('rate-limit: 429 rate_limit_error with retry-after, x-should-retry and the rate-limit headers', async () => {
    const response = await fetch(`${rig.emulator.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': KEY,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
        'x-emulator-fault': 'rate-limit',
      },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
    });
    const body = (await response.json()) as { type: string; error: { type: string }; request_id: string };
    assert.equal(response.status, 429);
    assert.equal(response.headers.get('retry-after'), '1', '10 ms rounded up to whole seconds');
    assert.equal(response.headers.get('x-should-retry'), 'true');
    assert.equal(response.headers.get('anthropic-ratelimit-requests-remaining'), '0');
    assert.ok(!Number.isNaN(Date.parse(response.headers.get('anthropic-ratelimit-requests-reset') ?? '')));
    assert.equal(body.type, 'error');
    assert.equal(body.error.type, 'rate_limit_error');
    assert.equal(body.request_id, response.headers.get('request-id'));
    assert.match(body.request_id, /^req_/);
  });

  test('a rate-limit error carries the retry-after the server asked for', async () => {
    const outcome = await run('rate-limit', false, { maxRetries: 0 });
    assert.ok(outcome instanceof LLMRateLimitError);
    assert.equal(outcome.retryAfterMs, 1000);
    assert.equal(outcome.shouldRetryHeader, true);
    assert.equal(outcome.providerCode, 'rate_limit_error');
    assert.match(outcome.requestId ?? '', /^req_/);
  });

  test('overloaded is a 529 overloaded_error; server-error a 500 api_error', async () => {
    const overloaded = await run('overloaded', false, { maxRetries: 0 });
    assert.ok(isLLMError(overloaded));
    assert.equal(overloaded.status, 529);
    assert.equal(overloaded.providerCode, 'overloaded_error');
    assert.equal(overloaded.retryable, true);
    const server = await run('server-error', false, { maxRetries: 0 });
    assert.ok(isLLMError(server));
    assert.equal(server.status, 500);
    assert.equal(server.providerCode, 'api_error');
  });

  test('stream-error: event: error with overloaded_error after exactly two text deltas', async () => {
    const response = await fetch(`${rig.emulator.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'x-api-key': KEY,
        'anthropic-version': '2023-06-01',
        'content-type': 'application/json',
        'x-emulator-fault': 'stream-error',
      },
      body: JSON.stringify({
        model: 'claude-sonnet-4-5',
        max_tokens: 100,
        stream: true,
        messages: [{ role: 'user', content: 'stream then fail' }],
      }),
    });
    const sse = await response.text();
    const events = [...sse.matchAll(/^event: (\S+)$/gm)].map((match) => match[1]);
    assert.deepEqual(events, [
      'message_start',
      'content_block_start',
      'ping',
      'content_block_delta',
      'content_block_delta',
      'error',
    ]);
    assert.match(sse, /"type":"overloaded_error","message":"Overloaded"/);
    const streamed = await run('stream-error', true, { maxRetries: 0 });
    assert.ok(streamed instanceof LLMServerError);
    assert.equal(streamed.providerCode, 'overloaded_error');
    assert.match(streamed.message, /anthropic stream error/);
  });
});
