/**
 * Metrics as a layer: Prometheus through prom-client (a registry of our own, exposed by `metricsText()`),
 * and the OpenTelemetry GenAI client metrics through `@opentelemetry/api` when the application has
 * registered a meter provider (without one the API is a no-op). Labels use the requested model, never
 * anything derived from a credential, so cardinality stays bounded and nothing secret reaches a label.
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type { MeterProvider, Histogram as OtelHistogram } from '@opentelemetry/api';
import type * as PromClient from 'prom-client';
import type { Counter, Histogram, Registry } from 'prom-client';
import { isLLMError } from '../spec/errors.ts';

// Loaded on first use: importing the library must not pay for metrics nobody asked for.
const require = createRequire(import.meta.url);
let promModule: typeof PromClient | undefined;
let otelModule: typeof OtelApi | undefined;
const prom = () => (promModule ??= require('prom-client') as typeof PromClient);
const otelMetrics = {
  get api() {
    otelModule ??= require('@opentelemetry/api') as typeof OtelApi;
    return otelModule.metrics;
  },
};

import type { Usage } from '../spec/types.ts';
import {
  genAiOperation,
  genAiProviderName,
  OPERATION_DURATION_BUCKETS,
  TOKEN_USAGE_BUCKETS,
} from './gen-ai.ts';
import { type HotCounter, hotCounterClass } from './hot-counter.ts';
import type { CallInfo, Middleware, Operation } from './types.ts';

interface Instruments {
  registry: Registry;
  requests: HotCounter<'provider' | 'model' | 'operation'>;
  duration: Histogram<'provider' | 'model' | 'operation'>;
  tokens: HotCounter<'provider' | 'model'>;
  promptTokens: HotCounter<'provider' | 'model'>;
  completionTokens: HotCounter<'provider' | 'model'>;
  errors: Counter<'provider' | 'model' | 'operation' | 'code'>;
  retries: Counter<'provider' | 'model' | 'operation'>;
  cacheHits: Counter<'provider' | 'model' | 'operation'>;
  cacheMisses: Counter<'provider' | 'model' | 'operation'>;
  timeToFirstToken: Histogram<'provider' | 'model'>;
  cost: HotCounter<'provider' | 'model'>;
}

interface OtelInstruments {
  provider: MeterProvider;
  tokens: OtelHistogram;
  duration: OtelHistogram;
}

let instruments: Instruments | undefined;
let otel: OtelInstruments | undefined;

/**
 * The GenAI histograms of the meter provider registered now. The metrics API has no proxy provider (unlike
 * traces): instruments made before the application registers its provider would stay no-ops for good, so
 * they are made again whenever the global provider is not the one they came from.
 */
function otelInstruments(): OtelInstruments {
  const provider = otelMetrics.api.getMeterProvider();
  if (otel?.provider === provider) return otel;
  const meter = provider.getMeter('llm-factory');
  otel = {
    provider,
    tokens: meter.createHistogram('gen_ai.client.token.usage', {
      description: 'Measures number of input and output tokens used',
      unit: '{token}',
      advice: { explicitBucketBoundaries: TOKEN_USAGE_BUCKETS },
    }),
    duration: meter.createHistogram('gen_ai.client.operation.duration', {
      description: 'GenAI operation duration',
      unit: 's',
      advice: { explicitBucketBoundaries: OPERATION_DURATION_BUCKETS },
    }),
  };
  return otel;
}

/** Made on first use, so importing the library registers nothing. */
function get(): Instruments {
  if (instruments) return instruments;
  const { Counter, Histogram, Registry } = prom();
  const Hot = hotCounterClass(prom());
  const registry = new Registry();
  const op = ['provider', 'model', 'operation'] as const;
  const pm = ['provider', 'model'] as const;
  instruments = {
    registry,
    requests: new Hot({
      name: 'llm_requests_total',
      help: 'LLM calls made',
      labelNames: op,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'llm_request_duration_seconds',
      help: 'LLM call duration, all attempts included',
      labelNames: op,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 40, 80, 160],
      registers: [registry],
    }),
    tokens: new Hot({
      name: 'llm_tokens_used_total',
      help: 'Tokens used (input + output)',
      labelNames: pm,
      registers: [registry],
    }),
    promptTokens: new Hot({
      name: 'llm_input_tokens_total',
      help: 'Input tokens used',
      labelNames: pm,
      registers: [registry],
    }),
    completionTokens: new Hot({
      name: 'llm_output_tokens_total',
      help: 'Output tokens used',
      labelNames: pm,
      registers: [registry],
    }),
    errors: new Counter({
      name: 'llm_errors_total',
      help: 'LLM calls that failed, by error code',
      labelNames: [...op, 'code'],
      registers: [registry],
    }),
    retries: new Counter({
      name: 'llm_retries_total',
      help: 'Retried attempts',
      labelNames: op,
      registers: [registry],
    }),
    cacheHits: new Counter({
      name: 'llm_cache_hits_total',
      help: 'Calls served from the cache',
      labelNames: op,
      registers: [registry],
    }),
    cacheMisses: new Counter({
      name: 'llm_cache_misses_total',
      help: 'Calls the cache could not serve',
      labelNames: op,
      registers: [registry],
    }),
    timeToFirstToken: new Histogram({
      name: 'llm_time_to_first_token_seconds',
      help: 'Time from the call to the first streamed token',
      labelNames: pm,
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 16],
      registers: [registry],
    }),
    cost: new Hot({
      name: 'llm_cost_usd_total',
      help: 'Cost of LLM calls in US dollars',
      labelNames: pm,
      registers: [registry],
    }),
  };
  return instruments;
}

/** The Prometheus text exposition of llm-factory's metrics, for an app to serve at /metrics. */
export async function metricsText(): Promise<string> {
  return get().registry.metrics();
}

/** The prom-client registry holding llm-factory's metrics (merge it into yours with `Registry.merge`). */
export function metricsRegistry(): Registry {
  return get().registry;
}

export interface MetricsLayer extends Middleware {
  onRetry(call: Pick<CallInfo, 'provider' | 'model' | 'operation'>): void;
  onCacheHit(operation: Operation, provider: string, model: string): void;
  onCacheMiss(operation: Operation, provider: string, model: string): void;
}

export function metricsMiddleware(): MetricsLayer {
  const m = get();
  const record = (
    call: CallInfo,
    model: string,
    started: number,
    usage: Usage | undefined,
    responseModel: string | undefined,
    error?: unknown,
  ) => {
    const labels = { provider: call.provider, model, operation: call.operation };
    const seconds = (performance.now() - started) / 1000;
    m.requests.add(1, call.provider, model, call.operation);
    m.duration.observe(labels, seconds);
    const attributes: Record<string, string> = {
      'gen_ai.operation.name': genAiOperation(call.operation),
      'gen_ai.provider.name': genAiProviderName(call.provider),
      'gen_ai.request.model': model,
    };
    if (responseModel) attributes['gen_ai.response.model'] = responseModel;
    if (error !== undefined) {
      const code = isLLMError(error) ? error.code : 'unknown';
      m.errors.inc({ ...labels, code });
      attributes['error.type'] = code;
    }
    const o = otelInstruments();
    o.duration.record(seconds, attributes);
    if (usage) {
      m.tokens.add(usage.inputTokens + usage.outputTokens, call.provider, model);
      m.promptTokens.add(usage.inputTokens, call.provider, model);
      m.completionTokens.add(usage.outputTokens, call.provider, model);
      if (usage.costUsd) m.cost.add(usage.costUsd, call.provider, model);
      o.tokens.record(usage.inputTokens, { ...attributes, 'gen_ai.token.type': 'input' });
      if (call.operation !== 'embed')
        o.tokens.record(usage.outputTokens, { ...attributes, 'gen_ai.token.type': 'output' });
    }
  };

  return {
    name: 'metrics',
    async complete(request, call, next) {
      const started = performance.now();
      try {
        const result = await next(request, call);
        record(call, request.model, started, result.cached ? undefined : result.usage, result.model);
        return result;
      } catch (error) {
        record(call, request.model, started, undefined, undefined, error);
        throw error;
      }
    },
    async *stream(request, call, next) {
      const started = performance.now();
      let firstTokenSeconds: number | undefined;
      let recorded = false;
      try {
        for await (const event of next(request, call)) {
          if (firstTokenSeconds === undefined && event.type !== 'finish')
            firstTokenSeconds = (performance.now() - started) / 1000;
          if (event.type === 'finish') {
            recorded = true;
            // A stream replayed from the cache used no tokens and says nothing about the provider's latency.
            if (!event.cached && firstTokenSeconds !== undefined)
              m.timeToFirstToken.observe(
                { provider: call.provider, model: request.model },
                firstTokenSeconds,
              );
            record(call, request.model, started, event.cached ? undefined : event.usage, event.model);
          }
          yield event;
        }
      } catch (error) {
        recorded = true;
        // Output had started (a replay from the cache does not fail): its first token still counts.
        if (firstTokenSeconds !== undefined)
          m.timeToFirstToken.observe({ provider: call.provider, model: request.model }, firstTokenSeconds);
        record(call, request.model, started, undefined, undefined, error);
        throw error;
      } finally {
        // The caller broke out of the loop: still a call made, with no usage reported.
        if (!recorded) record(call, request.model, started, undefined, undefined);
      }
    },
    async embed(batch, call, next) {
      const started = performance.now();
      try {
        const result = await next(batch, call);
        record(call, batch.model, started, result.usage, undefined);
        return result;
      } catch (error) {
        record(call, batch.model, started, undefined, undefined, error);
        throw error;
      }
    },
    // A request and its duration; no tokens or cost: a count is not usage.
    async countTokens(request, call, next) {
      const started = performance.now();
      try {
        const result = await next(request, call);
        record(call, request.model, started, undefined, undefined);
        return result;
      } catch (error) {
        record(call, request.model, started, undefined, undefined, error);
        throw error;
      }
    },
    onRetry: (call) =>
      m.retries.inc({ provider: call.provider, model: call.model, operation: call.operation }),
    onCacheHit: (operation, provider, model) => m.cacheHits.inc({ provider, model, operation }),
    onCacheMiss: (operation, provider, model) => m.cacheMisses.inc({ provider, model, operation }),
  };
}
