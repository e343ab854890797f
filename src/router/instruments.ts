/**
 * What the router reports: `llm_router_*` Prometheus counters in the library's registry (`metricsText()`),
 * an OpenTelemetry span per deployment attempt (the deployment client's own span nests inside it), and a
 * log line per fallback and per cooldown. Each is off unless configured, and costs nothing then.
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type { Span, Tracer } from '@opentelemetry/api';
import type * as PromClient from 'prom-client';
import type { Counter } from 'prom-client';
import type { Logger } from '../middleware/logging.ts';
import { metricsRegistry } from '../middleware/metrics.ts';
import { isLLMError } from '../spec/errors.ts';
import { redact } from '../spec/redact.ts';
import type { Deployment } from './deployment.ts';

const require = createRequire(import.meta.url);
let otelApi: typeof OtelApi | undefined;
const otel = () => (otelApi ??= require('@opentelemetry/api') as typeof OtelApi);

interface Counters {
  attempts: Counter<'deployment' | 'outcome'>;
  fallbacks: Counter<'deployment' | 'code'>;
  cooldowns: Counter<'deployment' | 'code'>;
  hedges: Counter<'deployment'>;
}

let counters: Counters | undefined;

/** Registered once per process, in the same registry as the clients' metrics. */
function routerCounters(): Counters {
  if (counters) return counters;
  const { Counter } = require('prom-client') as typeof PromClient;
  const registers = [metricsRegistry()];
  counters = {
    attempts: new Counter({
      name: 'llm_router_attempts_total',
      help: 'Calls the router sent to a deployment, by outcome (success, an error code, or cancelled)',
      labelNames: ['deployment', 'outcome'],
      registers,
    }),
    fallbacks: new Counter({
      name: 'llm_router_fallbacks_total',
      help: 'Calls that moved on from a deployment, by the error that moved them',
      labelNames: ['deployment', 'code'],
      registers,
    }),
    cooldowns: new Counter({
      name: 'llm_router_cooldowns_total',
      help: 'Times a deployment was cooled down (or its cooldown extended), by the error that did it',
      labelNames: ['deployment', 'code'],
      registers,
    }),
    hedges: new Counter({
      name: 'llm_router_hedges_total',
      help: 'Hedged requests sent to a deployment because an earlier attempt had not answered in time',
      labelNames: ['deployment'],
      registers,
    }),
  };
  return counters;
}

export interface InstrumentSettings {
  metrics: boolean;
  tracing: boolean;
  logger: Logger | undefined;
}

export class RouterInstruments {
  readonly #counters: Counters | undefined;
  readonly #tracer: Tracer | undefined;
  readonly #logger: Logger | undefined;

  constructor(settings: InstrumentSettings) {
    this.#counters = settings.metrics ? routerCounters() : undefined;
    this.#tracer = settings.tracing ? otel().trace.getTracer('llm-factory', '0.1.0') : undefined;
    this.#logger = settings.logger;
  }

  /** A span for one attempt, or undefined when tracing is off. */
  startAttempt(deployment: Deployment, model: string, hedge: boolean): Span | undefined {
    if (!this.#tracer) return undefined;
    const span = this.#tracer.startSpan(`route ${deployment.id}`, { kind: otel().SpanKind.INTERNAL });
    if (span.isRecording()) {
      span.setAttribute('llm_factory.router.deployment', deployment.id);
      span.setAttribute('llm_factory.router.model', model);
      span.setAttribute('gen_ai.request.model', deployment.model);
      span.setAttribute('gen_ai.provider.name', deployment.provider);
      if (hedge) span.setAttribute('llm_factory.router.hedge', true);
    }
    return span;
  }

  /** Runs `fn` with `span` as the active span, so that the deployment client's span is its child. */
  within<T>(span: Span | undefined, fn: () => T): T {
    if (!span) return fn();
    const api = otel();
    return api.context.with(api.trace.setSpan(api.context.active(), span), fn);
  }

  /** Counts the attempt's outcome and ends its span. */
  endAttempt(
    deployment: Deployment,
    span: Span | undefined,
    outcome: 'success' | 'cancelled' | { error: unknown },
  ) {
    const error = typeof outcome === 'object' ? outcome.error : undefined;
    const label = typeof outcome === 'string' ? outcome : isLLMError(error) ? error.code : 'unknown';
    this.#counters?.attempts.inc({ deployment: deployment.id, outcome: label });
    if (!span) return;
    if (span.isRecording()) {
      span.setAttribute('llm_factory.router.outcome', label);
      if (typeof outcome === 'object') {
        span.setAttribute('error.type', label);
        span.setStatus({
          code: otel().SpanStatusCode.ERROR,
          message: redact(error instanceof Error ? error.message : String(error)),
        });
      }
    }
    span.end();
  }

  fallback(model: string, from: Deployment, to: Deployment, error: unknown): void {
    const code = isLLMError(error) ? error.code : 'unknown';
    this.#counters?.fallbacks.inc({ deployment: from.id, code });
    const logger = this.#logger;
    if (!logger || logger.isLevelEnabled?.('warn') === false) return;
    logger.warn(
      {
        model,
        from: from.id,
        to: to.id,
        code,
        status: isLLMError(error) ? error.status : undefined,
        reason: redact(error instanceof Error ? error.message : String(error)),
      },
      'llm router fallback',
    );
  }

  cooldown(deployment: Deployment, cooldownMs: number, code: string): void {
    this.#counters?.cooldowns.inc({ deployment: deployment.id, code });
    const logger = this.#logger;
    if (!logger || logger.isLevelEnabled?.('warn') === false) return;
    logger.warn(
      { deployment: deployment.id, cooldownMs: Math.round(cooldownMs), code },
      'llm router cooldown',
    );
  }

  hedge(model: string, deployment: Deployment, afterMs: number): void {
    this.#counters?.hedges.inc({ deployment: deployment.id });
    const logger = this.#logger;
    if (!logger || logger.isLevelEnabled?.('info') === false) return;
    logger.info({ model, to: deployment.id, afterMs: Math.round(afterMs) }, 'llm router hedge');
  }
}
