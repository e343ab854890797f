/**
 * `countRequestTokens` through a provider's counting endpoint is a call like any other: it goes through the
 * same chain (retry, rate limit, tracing, logging, metrics) as operation `count-tokens`. Against the
 * emulator's Anthropic `/v1/messages/count_tokens`, a 429 then a success.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { createClient } from '../client/factory.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import { metricsText } from './metrics.ts';
import { limiterFor, type RateLimitOptions } from './rate-limit.ts';
import { collectingLogger, RUN_ID } from './test-support/harness.ts';
import { registerTracerProvider } from './test-support/otel.ts';

const spans = registerTracerProvider();
let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ retryAfterMs: 5 });
});
after(() => emulator.close());

test('a count goes through retry, the rate limiter, spans, logs and metrics as `count-tokens`', async () => {
  const logger = collectingLogger();
  // A model of its own: this test's limiter is no other test's.
  const model = `claude-count-${RUN_ID}`;
  const rateLimit: RateLimitOptions = { maxConcurrency: 8 };
  const client = createClient(`anthropic/${model}`, {
    apiKey: 'test-key-not-real',
    baseURL: emulator.url,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    logger,
    tracing: true,
    metrics: true,
    rateLimit,
  });
  const before = emulator.requests.length;
  const count = await client.countRequestTokens({
    prompt: 'How many tokens is this?',
    headers: { 'x-emulator-fault': 'rate-limit:1' },
  });
  await client.close();

  assert.equal(count.source, 'endpoint');
  assert.ok(count.inputTokens > 0);
  const sent = emulator.requests.slice(before);
  assert.deepEqual(
    sent.map((request) => request.path),
    ['/v1/messages/count_tokens', '/v1/messages/count_tokens'],
    'the 429 was retried',
  );

  assert.equal(
    limiterFor({ provider: 'anthropic', model }, rateLimit).concurrency,
    4,
    'the 429 reached the adaptive limit: the attempts went through the limiter',
  );

  const retry = logger.lines.find((line) => line.message === 'llm retry');
  assert.equal(retry?.object.operation, 'count-tokens');
  assert.equal(retry?.object.status, 429);
  const done = logger.lines.find((line) => line.message === 'llm call');
  assert.equal(done?.object.operation, 'count-tokens');
  assert.equal(done?.object.countedInputTokens, count.inputTokens);
  assert.equal(done?.object.inputTokens, undefined, 'a count is not usage');

  const [span, ...others] = spans.getFinishedSpans();
  assert.equal(others.length, 0);
  assert.equal(span?.name, `count_tokens ${model}`);
  assert.equal(span?.attributes['gen_ai.operation.name'], 'count_tokens');
  assert.equal(span?.attributes['llm_factory.counted_input_tokens'], count.inputTokens);

  const text = await metricsText();
  const labels = `model="${model}",operation="count-tokens"`;
  assert.match(text, new RegExp(`llm_requests_total\\{provider="anthropic",${labels}\\} 1`));
  assert.match(text, new RegExp(`llm_retries_total\\{provider="anthropic",${labels}\\} 1`));
  assert.doesNotMatch(text, new RegExp(`llm_input_tokens_total\\{provider="anthropic",model="${model}"`));
});
