/**
 * What the router reports, read back: `llm_router_*` counters in the library's Prometheus registry, a span
 * per deployment attempt with the deployment client's span inside it (an OpenTelemetry SDK and an
 * AsyncLocalStorage context manager registered for this process), and a log line per fallback and per
 * cooldown that names the reason and never a key.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { context, SpanStatusCode } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { metricsText } from '../middleware/metrics.ts';
import { collectingLogger } from '../middleware/test-support/harness.ts';
import { registerTracerProvider } from '../middleware/test-support/otel.ts';
import type { FinishEvent } from '../spec/types.ts';
import { drain, emulators, openaiAt, routerFor } from './test-support/rig.ts';

const exporter = registerTracerProvider();
context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());

const CANARY = 'test-key-not-real-LEAKCANARY-0123';

/** The value of one Prometheus sample, or undefined when absent. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((row) => row.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(' ').at(-1));
}

describe('router: metrics', () => {
  test('fallbacks, cooldowns, hedges and attempts, labelled by deployment id', async (t) => {
    const [a, b, c] = await emulators(t, { fault: 'server-error' }, {}, { latencyMs: 400 });
    const router = routerFor(t, {
      deployments: [openaiAt('m-down', a!), openaiAt('m-up', b!), openaiAt('m-slow', c!)],
      groups: { chat: ['m-down', 'm-up'], hedged: ['m-slow', 'm-up'] },
      cooldown: { allowedFails: 0 },
      hedge: { afterMs: 50 },
      metrics: true,
    });
    await router.complete({ model: 'chat', prompt: 'count me' });
    await router.complete({ model: 'hedged', prompt: 'hedge me' });
    const text = await metricsText();
    assert.equal(sample(text, 'llm_router_fallbacks_total', 'deployment="m-down",code="server_error"'), 1);
    assert.equal(sample(text, 'llm_router_cooldowns_total', 'deployment="m-down",code="server_error"'), 1);
    assert.equal(sample(text, 'llm_router_hedges_total', 'deployment="m-up"'), 1);
    assert.equal(sample(text, 'llm_router_attempts_total', 'deployment="m-up",outcome="success"'), 2);
    assert.equal(sample(text, 'llm_router_attempts_total', 'deployment="m-down",outcome="server_error"'), 1);
    assert.equal(sample(text, 'llm_router_attempts_total', 'deployment="m-slow",outcome="cancelled"'), 1);
    // `metrics: true` is also every deployment's default: the clients' own metrics are there.
    assert.ok(
      (sample(text, 'llm_requests_total', 'provider="openai",model="gpt-4o-mini",operation="complete"') ??
        0) >= 2,
    );
  });
});

describe('router: spans', () => {
  test('a span per attempt, each with the deployment client’s span inside it', async (t) => {
    exporter.reset();
    const [a, b] = await emulators(t, { fault: 'server-error' }, {});
    const router = routerFor(t, {
      deployments: [openaiAt('s-down', a!), openaiAt('s-up', b!)],
      groups: { chat: ['s-down', 's-up'] },
      tracing: true,
    });
    await router.complete({ model: 'chat', prompt: 'trace the route' });
    const spans = exporter.getFinishedSpans();
    const down = spans.find((span) => span.name === 'route s-down')!;
    const up = spans.find((span) => span.name === 'route s-up')!;
    assert.equal(down.attributes['llm_factory.router.model'], 'chat');
    assert.equal(down.attributes['error.type'], 'server_error');
    assert.equal(down.status.code, SpanStatusCode.ERROR);
    assert.equal(up.attributes['llm_factory.router.outcome'], 'success');
    const clientSpans = spans.filter((span) => span.name === 'chat gpt-4o-mini');
    assert.equal(clientSpans.length, 2);
    assert.deepEqual(
      clientSpans.map((span) => span.parentSpanContext?.spanId).sort(),
      [down.spanContext().spanId, up.spanContext().spanId].sort(),
    );
  });

  test('a stream’s attempt span lasts until the stream ends', async (t) => {
    exporter.reset();
    const [a] = await emulators(t, {});
    const router = routerFor(t, { deployments: [openaiAt('s-stream', a!)], tracing: true });
    const events = await drain(router.stream({ prompt: 'trace a stream' }));
    assert.equal((events.at(-1) as FinishEvent).route?.deployment, 's-stream');
    const spans = exporter.getFinishedSpans();
    const route = spans.find((span) => span.name === 'route s-stream')!;
    const client = spans.find((span) => span.name === 'chat gpt-4o-mini')!;
    assert.equal(client.parentSpanContext?.spanId, route.spanContext().spanId);
    // Spans are exported as they end (SimpleSpanProcessor): the order says which ended first, no clock needed.
    assert.ok(spans.indexOf(route) > spans.indexOf(client), 'the attempt span ended after the client’s');
  });
});

describe('router: logs', () => {
  test('a warning per fallback with the reason, one per cooldown, and no key anywhere', async (t) => {
    const [a, b] = await emulators(t, { fault: 'unavailable' }, {});
    const logger = collectingLogger();
    const router = routerFor(t, {
      deployments: [
        openaiAt('l-down', a!, {}, { apiKey: CANARY }),
        openaiAt('l-up', b!, {}, { apiKey: CANARY }),
      ],
      groups: { chat: ['l-down', 'l-up'] },
      cooldown: { allowedFails: 0 },
      logger,
    });
    await router.complete({ model: 'chat', prompt: 'log the fallback' });
    const fallback = logger.lines.find((line) => line.message === 'llm router fallback');
    assert.equal(fallback?.level, 'warn');
    assert.deepEqual(
      { ...fallback?.object, reason: undefined },
      { model: 'chat', from: 'l-down', to: 'l-up', code: 'server_error', status: 503, reason: undefined },
    );
    assert.match(String(fallback?.object.reason), /503/);
    const cooldown = logger.lines.find((line) => line.message === 'llm router cooldown');
    assert.deepEqual(cooldown?.object, { deployment: 'l-down', cooldownMs: 5_000, code: 'server_error' });
    // The logger is every deployment's default too: one line per call from the client.
    assert.ok(logger.lines.some((line) => line.message === 'llm call failed'));
    assert.ok(logger.lines.some((line) => line.message === 'llm call'));
    for (const line of logger.lines) assert.ok(!JSON.stringify(line).includes('LEAKCANARY'), line.message);
  });
});
