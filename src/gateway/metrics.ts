/**
 * The gateway's Prometheus metrics, in the library's registry (so `/metrics` shows the gateway, the router
 * and the providers together): requests, latency, tokens and cost per model and per key *name* — never a
 * key, which is a secret and would be an unbounded label.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { metricsRegistry } from '../middleware/metrics.ts';
import type { Usage } from '../spec/types.ts';

interface Instruments {
  requests: Counter<'endpoint' | 'model' | 'key' | 'status'>;
  duration: Histogram<'endpoint' | 'model'>;
  tokens: Counter<'model' | 'key' | 'direction'>;
  cost: Counter<'model' | 'key'>;
  inFlight: Gauge<'endpoint'>;
  refusals: Counter<'key' | 'reason'>;
}

let instruments: Instruments | undefined;

function make(): Instruments {
  const registry = metricsRegistry();
  // The same prom-client the library's registry comes from, loaded on first use.
  const { Counter, Gauge, Histogram } = createRequire(import.meta.url)('prom-client') as typeof PromClient;
  return {
    requests: new Counter({
      name: 'llm_gateway_requests_total',
      help: 'Requests answered by the gateway, by endpoint, model asked for, key name and HTTP status',
      labelNames: ['endpoint', 'model', 'key', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'llm_gateway_request_duration_seconds',
      help: 'Time from a request arriving to its response ending (streams: the whole stream)',
      labelNames: ['endpoint', 'model'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
      registers: [registry],
    }),
    tokens: new Counter({
      name: 'llm_gateway_tokens_total',
      help: 'Tokens charged to keys, by model, key name and direction (input, output)',
      labelNames: ['model', 'key', 'direction'],
      registers: [registry],
    }),
    cost: new Counter({
      name: 'llm_gateway_cost_usd_total',
      help: 'US dollars charged to keys, by model and key name',
      labelNames: ['model', 'key'],
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'llm_gateway_requests_in_flight',
      help: 'Requests being answered now',
      labelNames: ['endpoint'],
      registers: [registry],
    }),
    refusals: new Counter({
      name: 'llm_gateway_refusals_total',
      help: 'Requests refused for a key limit or budget, by key name and reason (rpm, tpm, budget)',
      labelNames: ['key', 'reason'],
      registers: [registry],
    }),
  };
}

export function gatewayMetrics(): Instruments {
  instruments ??= make();
  return instruments;
}

/** Records a finished request. */
export function recordRequest(
  endpoint: string,
  model: string,
  key: string,
  status: number,
  seconds: number,
  usage: Usage | undefined,
): void {
  const metrics = gatewayMetrics();
  metrics.requests.inc({ endpoint, model, key, status: String(status) });
  metrics.duration.observe({ endpoint, model }, seconds);
  if (usage) {
    if (usage.inputTokens) metrics.tokens.inc({ model, key, direction: 'input' }, usage.inputTokens);
    if (usage.outputTokens) metrics.tokens.inc({ model, key, direction: 'output' }, usage.outputTokens);
    if (usage.costUsd) metrics.cost.inc({ model, key }, usage.costUsd);
  }
}
