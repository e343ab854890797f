/**
 * The gateway's Prometheus metrics, in the library's registry (so `/metrics` shows the gateway, the router
 * and the providers together): requests, latency, tokens and cost per model and per key *name* — never a
 * key, which is a secret and would be an unbounded label.
 */
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { type HotCounter, hotCounterClass } from '../middleware/hot-counter.ts';
import { metricsRegistry } from '../middleware/metrics.ts';
import type { Usage } from '../spec/types.ts';

interface Instruments {
  requests: HotCounter<'endpoint' | 'model' | 'key' | 'status'>;
  duration: Histogram<'endpoint' | 'model'>;
  tokens: HotCounter<'model' | 'key' | 'direction'>;
  cost: HotCounter<'model' | 'key'>;
  inFlight: Gauge<'endpoint'>;
  refusals: Counter<'key' | 'reason'>;
}

let instruments: Instruments | undefined;

function make(): Instruments {
  const registry = metricsRegistry();
  // The same prom-client the library's registry comes from, loaded on first use.
  const prom = createRequire(import.meta.url)('prom-client') as typeof PromClient;
  const { Counter, Gauge, Histogram } = prom;
  const Hot = hotCounterClass(prom);
  return {
    requests: new Hot({
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
    tokens: new Hot({
      name: 'llm_gateway_tokens_total',
      help: 'Tokens charged to keys, by model, key name and direction (input, output)',
      labelNames: ['model', 'key', 'direction'],
      registers: [registry],
    }),
    cost: new Hot({
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
  metrics.requests.add(1, endpoint, model, key, String(status));
  metrics.duration.observe({ endpoint, model }, seconds);
  if (usage) {
    if (usage.inputTokens) metrics.tokens.add(usage.inputTokens, model, key, 'input');
    if (usage.outputTokens) metrics.tokens.add(usage.outputTokens, model, key, 'output');
    if (usage.costUsd) metrics.cost.add(usage.costUsd, model, key);
  }
}
