/**
 * Spans read back from an in-memory exporter behind a globally registered BasicTracerProvider: names,
 * GenAI attributes, errors, content only when asked for, and stream spans that end with the stream or
 * when the caller leaves it.
 */
import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, test } from 'node:test';
import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import type { FinishEvent } from '../spec/types.ts';
import { MemoryStore } from './cache/memory-store.ts';
import { drain, openai } from './test-support/harness.ts';
import { registerTracerProvider } from './test-support/otel.ts';

const exporter = registerTracerProvider();
let emulator: Emulator;

before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());
beforeEach(() => exporter.reset());

function onlySpan(): ReadableSpan {
  const spans = exporter.getFinishedSpans();
  assert.equal(spans.length, 1, `one span, got ${spans.map((span) => span.name).join(', ')}`);
  return spans[0]!;
}

const CONTENT = ['gen_ai.input.messages', 'gen_ai.output.messages'];

describe('tracing', () => {
  test('a completion: `chat gpt-4o-mini`, a client span with the GenAI attributes, and no content', async (t) => {
    const client = openai(emulator, { tracing: true });
    t.after(() => client.close());
    const result = await client.complete({ prompt: 'trace me', temperature: 0.3, maxTokens: 25, topP: 0.9 });
    const span = onlySpan();
    assert.equal(span.name, 'chat gpt-4o-mini');
    assert.equal(span.kind, SpanKind.CLIENT);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.deepEqual(span.attributes, {
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini',
      'gen_ai.request.temperature': 0.3,
      'gen_ai.request.max_tokens': 25,
      'gen_ai.request.top_p': 0.9,
      'gen_ai.response.model': result.model,
      'gen_ai.response.id': result.id,
      'gen_ai.response.finish_reasons': [result.finishReason],
      'gen_ai.usage.input_tokens': result.usage.inputTokens,
      'gen_ai.usage.output_tokens': result.usage.outputTokens,
    });
  });

  test('embeddings: `embeddings text-embedding-3-small`', async (t) => {
    const client = openai(emulator, { tracing: true });
    t.after(() => client.close());
    await client.generateEmbeddings(['trace vector']);
    const span = onlySpan();
    assert.equal(span.name, 'embeddings text-embedding-3-small');
    assert.equal(span.attributes['gen_ai.operation.name'], 'embeddings');
    assert.equal(span.attributes['gen_ai.provider.name'], 'openai');
    assert.equal(span.attributes['gen_ai.request.model'], 'text-embedding-3-small');
    assert.equal(span.status.code, SpanStatusCode.UNSET);
  });

  test('a failure: error status, error.type, HTTP status and attempts', async (t) => {
    const client = openai(emulator, { tracing: true, maxRetries: 1 });
    t.after(() => client.close());
    const error = await client
      .complete({ prompt: 'trace failure', headers: { 'x-emulator-fault': 'server-error' } })
      .then(
        () => assert.fail('expected a failure'),
        (caught: unknown) => caught as Error,
      );
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.status.message, error.message);
    assert.equal(span.attributes['error.type'], 'server_error');
    assert.equal(span.attributes['http.response.status_code'], 500);
    assert.equal(span.attributes['llm_factory.attempts'], 2);
    assert.equal(span.attributes['gen_ai.response.id'], undefined);
  });

  test('prompt and answer are recorded only with `captureContent: true`', async (t) => {
    const plain = openai(emulator, { tracing: { captureContent: false } });
    const capturing = openai(emulator, { tracing: { captureContent: true } });
    t.after(() => Promise.all([plain.close(), capturing.close()]));
    await plain.complete({ prompt: 'secret-ish prompt' });
    await drain(plain.stream({ prompt: 'secret-ish prompt' }));
    for (const span of exporter.getFinishedSpans()) {
      for (const name of CONTENT) assert.equal(span.attributes[name], undefined, `${name} without capture`);
      assert.ok(!JSON.stringify(span.attributes).includes('secret-ish'));
    }
    exporter.reset();

    const result = await capturing.complete({ prompt: 'captured prompt', system: 'Be brief.' });
    const span = onlySpan();
    // The GenAI conventions' message shape: roles with typed parts, the finish reason on the output.
    assert.deepEqual(JSON.parse(String(span.attributes['gen_ai.input.messages'])), [
      { role: 'system', parts: [{ type: 'text', content: 'Be brief.' }] },
      { role: 'user', parts: [{ type: 'text', content: 'captured prompt' }] },
    ]);
    assert.deepEqual(JSON.parse(String(span.attributes['gen_ai.output.messages'])), [
      { role: 'assistant', parts: [{ type: 'text', content: result.text }], finish_reason: 'stop' },
    ]);
    exporter.reset();
    const events = await drain(capturing.stream({ prompt: 'captured stream' }));
    const text = events.map((event) => (event.type === 'text-delta' ? event.text : '')).join('');
    assert.deepEqual(JSON.parse(String(onlySpan().attributes['gen_ai.output.messages'])), [
      { role: 'assistant', parts: [{ type: 'text', content: text }], finish_reason: 'stop' },
    ]);
    exporter.reset();
    // Tool calls, tool results and images: in their part types; the image's bytes stay out of the span.
    const image = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(4000)]);
    const first = await capturing.complete({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'see' },
            { type: 'image', image },
          ],
        },
      ],
      tools: [{ name: 'look', parameters: { type: 'object', properties: {} } }],
    });
    const outputs = JSON.parse(String(onlySpan().attributes['gen_ai.output.messages']));
    assert.deepEqual(outputs[0].parts[0], {
      type: 'tool_call',
      id: first.toolCalls[0]!.id,
      name: 'look',
      arguments: '{}',
    });
    const inputs = JSON.parse(String(onlySpan().attributes['gen_ai.input.messages']));
    assert.deepEqual(inputs[0].parts[1], {
      type: 'blob',
      modality: 'image',
      mime_type: 'image/png',
      size_bytes: 4008,
    });
    assert.ok(String(onlySpan().attributes['gen_ai.input.messages']).length < 500);
  });

  test('a stream span ends when the stream ends, with its usage and finish reason', async (t) => {
    const client = openai(emulator, { tracing: true });
    t.after(() => client.close());
    let finish: FinishEvent | undefined;
    for await (const event of client.stream({ prompt: 'trace stream', maxTokens: 30 })) {
      if (event.type === 'finish') finish = event;
      else assert.equal(exporter.getFinishedSpans().length, 0, 'still open while events flow');
    }
    const span = onlySpan();
    assert.equal(span.name, 'chat gpt-4o-mini');
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.attributes['gen_ai.usage.output_tokens'], finish?.usage.outputTokens);
    assert.deepEqual(span.attributes['gen_ai.response.finish_reasons'], [finish?.finishReason]);
    assert.equal(span.attributes['gen_ai.response.id'], finish?.id);
  });

  test('a stream span ends when the caller breaks out, without an error', async (t) => {
    const client = openai(emulator, { tracing: true });
    t.after(() => client.close());
    for await (const event of client.stream({ prompt: 'trace and leave', maxTokens: 30 })) {
      assert.equal(event.type, 'text-delta');
      break;
    }
    const span = onlySpan();
    assert.ok(span.ended);
    assert.equal(span.status.code, SpanStatusCode.UNSET);
    assert.equal(span.attributes['gen_ai.response.finish_reasons'], undefined);
  });

  test('a stream that fails after output: one error span', async (t) => {
    const client = openai(emulator, { tracing: true });
    t.after(() => client.close());
    await drain(
      client.stream({ prompt: 'trace broken', headers: { 'x-emulator-fault': 'stream-error' } }),
    ).catch(() => {});
    const span = onlySpan();
    assert.equal(span.status.code, SpanStatusCode.ERROR);
    assert.equal(span.attributes['error.type'], 'server_error');
    assert.equal(span.attributes['http.response.status_code'], 200, 'the response’s real status');
  });

  test('a cache hit is marked on its span', async (t) => {
    const client = openai(emulator, { tracing: true, cache: { store: new MemoryStore() } });
    t.after(() => client.close());
    await client.complete({ prompt: 'trace cached' });
    await client.complete({ prompt: 'trace cached' });
    const [first, second] = exporter.getFinishedSpans();
    assert.equal(first?.attributes['llm_factory.cached'], undefined);
    assert.equal(second?.attributes['llm_factory.cached'], true);
  });
});
