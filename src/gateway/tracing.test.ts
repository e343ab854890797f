/**
 * With `tracing: true` in its config the gateway opens a SERVER span per request that continues the
 * caller's trace (W3C traceparent) and holds the router's and the deployment's spans as children.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { context, propagation, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { emulatorGatewayConfig } from '../cli/serve.ts';
import { startEmulator } from '../emulator/index.ts';
import { registerTracerProvider } from '../middleware/test-support/otel.ts';
import { gatewayConfigFrom } from './config.ts';
import { startGateway } from './server.ts';

const exporter = registerTracerProvider();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
propagation.setGlobalPropagator(new W3CTraceContextPropagator());

const MASTER = 'master-key-for-the-tracing-test';

test('a request is one SERVER span in the caller trace, the routed call inside it', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'llmf-gw-trace-'));
  const emulator = await startEmulator();
  const document = {
    ...(emulatorGatewayConfig(emulator, MASTER, join(dir, 'gateway.sqlite')) as object),
    tracing: true,
  };
  const gateway = await startGateway({ config: gatewayConfigFrom(document), port: 0 });
  t.after(async () => {
    await gateway.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
  const callerSpan = '00f067aa0ba902b7';
  const post = (model: string) =>
    fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${MASTER}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${callerSpan}-01`,
      },
      body: JSON.stringify({ model, messages: [{ role: 'user', content: 'trace me' }] }),
    });
  const ok = await post('anthropic');
  assert.equal(ok.status, 200, await ok.text());
  const missing = await post('no-such-model');
  await missing.text();
  assert.equal(missing.status, 404);

  const spans = exporter.getFinishedSpans();
  const servers = spans.filter((span) => span.kind === SpanKind.SERVER);
  assert.equal(servers.length, 2, spans.map((span) => span.name).join(', '));
  const [answered, failed] = servers;
  for (const span of servers) {
    assert.equal(span.name, 'POST /v1/chat/completions');
    assert.equal(span.spanContext().traceId, traceId, 'the caller trace continues');
    assert.equal(span.parentSpanContext?.spanId, callerSpan);
  }
  assert.equal(answered!.attributes['http.response.status_code'], 200);
  assert.equal(answered!.attributes['gen_ai.request.model'], 'anthropic');
  assert.equal(answered!.attributes['llm_factory.router.deployment'], 'anthropic');
  assert.ok(Number(answered!.attributes['gen_ai.usage.output_tokens']) > 0);
  assert.equal(failed!.attributes['http.response.status_code'], 404);
  assert.notEqual(failed!.status.code, SpanStatusCode.ERROR, 'a client error is not a server error');

  // Every other span of the answered request hangs under its server span.
  const serverId = answered!.spanContext().spanId;
  const children = spans.filter(
    (span) => span.spanContext().traceId === traceId && span.kind !== SpanKind.SERVER,
  );
  assert.ok(
    children.length >= 2,
    `the router and the client spans: ${children.map((s) => s.name).join(', ')}`,
  );
  const byId = new Map(spans.map((span) => [span.spanContext().spanId, span]));
  for (const child of children) {
    let parent = child.parentSpanContext?.spanId;
    while (parent && parent !== serverId) parent = byId.get(parent)?.parentSpanContext?.spanId;
    assert.equal(parent, serverId, `${child.name} descends from the request span`);
  }
});
