/**
 * Metrics read back after real calls: the Prometheus series (through `metricsRegistry()` and the text of
 * `metricsText()`) for a success, a cache hit and miss, a retry, a failure, streams and embeddings; then
 * the OpenTelemetry GenAI histograms, with a meter provider registered only after the first client made
 * its instruments (as an application that starts its SDK late does).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isDeepStrictEqual } from 'node:util';
import type { LLMClient } from '../client/llm-client.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import type { CompletionResult, FinishEvent, StreamEvent } from '../spec/types.ts';
import { MemoryStore } from './cache/memory-store.ts';
import { OPERATION_DURATION_BUCKETS, TOKEN_USAGE_BUCKETS } from './gen-ai.ts';
import { metricsRegistry, metricsText } from './metrics.ts';
import { drain, openai } from './test-support/harness.ts';
import { histogram, registerMeterProvider } from './test-support/otel.ts';

const MODEL = 'gpt-4o-mini';
const EMBEDDING_MODEL = 'text-embedding-3-small';
let emulator: Emulator;

before(async () => {
  emulator = await startEmulator({ retryAfterMs: 5 });
});
after(() => emulator.close());

/** The sum of a series' values whose labels include `labels` (for a histogram, of its `suffix` part). */
async function value(
  name: string,
  labels: Record<string, string>,
  suffix?: '_count' | '_sum',
): Promise<number> {
  const metric = metricsRegistry().getSingleMetric(name);
  assert.ok(metric, `${name} is registered`);
  const { values } = (await metric.get()) as {
    values: Array<{ labels: Record<string, unknown>; value: number; metricName?: string }>;
  };
  return values
    .filter((entry) => suffix === undefined || entry.metricName === `${name}${suffix}`)
    .filter((entry) => Object.entries(labels).every(([label, wanted]) => entry.labels[label] === wanted))
    .reduce((sum, entry) => sum + entry.value, 0);
}

const finishOf = (events: StreamEvent[]) => events.at(-1) as FinishEvent;
const op = (operation: string) => ({ provider: 'openai', model: MODEL, operation });

describe('Prometheus metrics', () => {
  let client: LLMClient;
  let plain: CompletionResult;
  let retried: CompletionResult;
  let streamed: FinishEvent;

  before(async () => {
    client = openai(emulator, { metrics: true, maxRetries: 1, cache: { store: new MemoryStore() } });
    plain = await client.complete({ prompt: 'metrics one' }); // success, cache miss
    await client.complete({ prompt: 'metrics one' }); // cache hit
    retried = await client.complete({
      prompt: 'metrics retried',
      headers: { 'x-emulator-fault': 'rate-limit:1' }, // one 429, then an answer
    });
    await client.complete({ prompt: 'metrics failed', headers: { 'x-emulator-fault': 'server-error' } }).then(
      () => assert.fail('expected a server error'),
      () => {},
    ); // 2 attempts: 1 more retry
    streamed = finishOf(await drain(client.stream({ prompt: 'metrics stream' })));
    await drain(client.stream({ prompt: 'metrics stream' })); // replayed from the cache
    for await (const _ of client.stream({ prompt: 'metrics left early' })) break;
    await client.generateEmbeddings(['metrics a', 'metrics b']);
    await client.generateEmbeddings(['metrics a', 'metrics b']); // from the cache
  });
  after(() => client.close());

  test('llm_requests_total and the duration histogram count each call once, by operation', async () => {
    const expected = { complete: 4, stream: 3, embed: 2 };
    for (const [operation, calls] of Object.entries(expected)) {
      const labels = operation === 'embed' ? { ...op('embed'), model: EMBEDDING_MODEL } : op(operation);
      assert.equal(await value('llm_requests_total', labels), calls, `requests, ${operation}`);
      assert.equal(
        await value('llm_request_duration_seconds', labels, '_count'),
        calls,
        `durations, ${operation}`,
      );
    }
    assert.ok((await value('llm_request_duration_seconds', op('complete'), '_sum')) > 0);
  });

  test('tokens and cost are those the provider reported, cache hits excluded', async () => {
    const usages = [plain.usage, retried.usage, streamed.usage];
    const input = usages.reduce((sum, usage) => sum + usage.inputTokens, 0);
    const output = usages.reduce((sum, usage) => sum + usage.outputTokens, 0);
    assert.ok(input > 0 && output > 0);
    const pm = { provider: 'openai', model: MODEL };
    assert.equal(await value('llm_tokens_used_total', pm), input + output);
    assert.equal(await value('llm_input_tokens_total', pm), input);
    assert.equal(await value('llm_output_tokens_total', pm), output);
    const cost = usages.reduce((sum, usage) => sum + (usage.costUsd ?? Number.NaN), 0);
    assert.ok(cost > 0, 'gpt-4o-mini is priced');
    assert.ok(Math.abs((await value('llm_cost_usd_total', pm)) - cost) < 1e-12);
  });

  test('errors by code, retries, cache hits and misses', async () => {
    assert.equal(await value('llm_errors_total', { ...op('complete'), code: 'server_error' }), 1);
    assert.equal(await value('llm_errors_total', {}), 1, 'no other error');
    assert.equal(await value('llm_retries_total', op('complete')), 2, 'the 429 and the first 500');
    assert.equal(await value('llm_cache_hits_total', op('complete')), 1);
    assert.equal(await value('llm_cache_misses_total', op('complete')), 3);
    assert.equal(await value('llm_cache_hits_total', op('stream')), 1);
    assert.equal(await value('llm_cache_misses_total', op('stream')), 2);
    const embed = { ...op('embed'), model: EMBEDDING_MODEL };
    assert.equal(await value('llm_cache_hits_total', embed), 1);
    assert.equal(await value('llm_cache_misses_total', embed), 1);
  });

  test('time to first token: one per stream from the provider (not replays or abandoned ones)', async () => {
    const pm = { provider: 'openai', model: MODEL };
    assert.equal(await value('llm_time_to_first_token_seconds', pm, '_count'), 1);
  });

  test('metricsText() is the exposition of the same registry', async () => {
    const text = await metricsText();
    assert.match(text, /^# TYPE llm_requests_total counter$/m);
    assert.match(
      text,
      /^llm_requests_total\{provider="openai",model="gpt-4o-mini",operation="complete"\} 4$/m,
    );
    assert.match(
      text,
      /^llm_errors_total\{provider="openai",model="gpt-4o-mini",operation="complete",code="server_error"\} 1$/m,
    );
    assert.match(
      text,
      /^llm_retries_total\{provider="openai",model="gpt-4o-mini",operation="complete"\} 2$/m,
    );
    assert.match(
      text,
      /^llm_request_duration_seconds_count\{provider="openai",model="gpt-4o-mini",operation="stream"\} 3$/m,
    );
    assert.match(text, /^# TYPE llm_time_to_first_token_seconds histogram$/m);
    assert.match(text, /^llm_cost_usd_total\{provider="openai",model="gpt-4o-mini"\} \d/m);
  });
});

describe('OpenTelemetry GenAI metrics', () => {
  test('recorded with the GenAI attributes and the spec’s buckets, once a meter provider is registered', async () => {
    // The Prometheus tests above already made the instruments, with no provider registered.
    const otel = registerMeterProvider();
    const client = openai(emulator, { metrics: true, maxRetries: 0 });
    try {
      const result = await client.complete({ prompt: 'otel chat' });
      await client
        .complete({ prompt: 'otel fail', headers: { 'x-emulator-fault': 'unavailable' } })
        .catch(() => {});
      const streamed = finishOf(await drain(client.stream({ prompt: 'otel stream' })));
      await client.generateEmbeddings(['otel vector']);
      const all = await otel.metrics();

      const tokens = histogram(all, 'gen_ai.client.token.usage');
      assert.equal(tokens.descriptor.unit, '{token}');
      const chat = {
        'gen_ai.operation.name': 'chat',
        'gen_ai.provider.name': 'openai',
        'gen_ai.request.model': MODEL,
        'gen_ai.response.model': result.model,
      };
      for (const type of ['input', 'output'] as const) {
        const point = tokens.dataPoints.find((p) =>
          isDeepStrictEqual(p.attributes, { ...chat, 'gen_ai.token.type': type }),
        );
        assert.ok(point, `a ${type} token point with exactly the GenAI attributes`);
        const reported = type === 'input' ? 'inputTokens' : 'outputTokens';
        assert.equal(point.value.count, 2, 'the completion and the stream');
        assert.equal(point.value.sum, result.usage[reported] + streamed.usage[reported]);
        assert.deepEqual(point.value.buckets.boundaries, TOKEN_USAGE_BUCKETS);
      }

      const duration = histogram(all, 'gen_ai.client.operation.duration');
      assert.equal(duration.descriptor.unit, 's');
      for (const point of duration.dataPoints)
        assert.deepEqual(point.value.buckets.boundaries, OPERATION_DURATION_BUCKETS);
      const attributes = duration.dataPoints.map((p) => p.attributes);
      assert.ok(
        attributes.some((a) => a['gen_ai.operation.name'] === 'chat' && a['error.type'] === undefined),
      );
      assert.ok(
        attributes.some((a) => a['error.type'] === 'server_error' && a['gen_ai.request.model'] === MODEL),
        'the failure, with error.type',
      );
      assert.ok(
        attributes.some(
          (a) => a['gen_ai.operation.name'] === 'embeddings' && a['gen_ai.request.model'] === EMBEDDING_MODEL,
        ),
      );
      const count = duration.dataPoints.reduce((sum, p) => sum + p.value.count, 0);
      assert.equal(count, 4, 'one duration per call');
    } finally {
      await client.close();
      await otel.shutdown();
    }
  });
});
