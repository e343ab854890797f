/**
 * A SERVER span per gateway request, when the gateway's config turns `tracing` on: named after the endpoint
 * (`POST /v1/chat/completions`), continuing the caller's trace when its `traceparent` came with the request
 * (through whatever propagator the process registered), with the router's and the deployment clients'
 * spans as its children. Only `@opentelemetry/api`, loaded when tracing is on.
 */
import type { IncomingMessage } from 'node:http';
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type { Span, Tracer } from '@opentelemetry/api';

const require = createRequire(import.meta.url);

export interface RequestSpan {
  /** Runs `fn` with the span active, so that the spans it starts are children. */
  within<T>(fn: () => T): T;
  end(details: {
    status: number;
    model?: string | undefined;
    deployment?: string | undefined;
    key?: string | undefined;
    cached?: boolean | undefined;
    inputTokens?: number | undefined;
    outputTokens?: number | undefined;
  }): void;
}

export class GatewayTracer {
  readonly #api: typeof OtelApi;
  readonly #tracer: Tracer;

  constructor() {
    this.#api = require('@opentelemetry/api') as typeof OtelApi;
    this.#tracer = this.#api.trace.getTracer('llm-factory-gateway', '0.1.0');
  }

  start(req: IncomingMessage, endpoint: string): RequestSpan {
    const api = this.#api;
    const parent = api.propagation.extract(api.context.active(), req.headers);
    const method = req.method ?? 'GET';
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const span: Span = this.#tracer.startSpan(
      `${method} ${path}`,
      {
        kind: api.SpanKind.SERVER,
        attributes: {
          'http.request.method': method,
          'url.path': path,
          'llm_factory.gateway.endpoint': endpoint,
        },
      },
      parent,
    );
    const context = api.trace.setSpan(parent, span);
    return {
      within: (fn) => api.context.with(context, fn),
      end: (details) => {
        if (span.isRecording()) {
          span.setAttribute('http.response.status_code', details.status);
          if (details.model) span.setAttribute('gen_ai.request.model', details.model);
          if (details.deployment) span.setAttribute('llm_factory.router.deployment', details.deployment);
          if (details.key) span.setAttribute('llm_factory.gateway.key', details.key);
          if (details.cached) span.setAttribute('llm_factory.cached', true);
          if (details.inputTokens !== undefined)
            span.setAttribute('gen_ai.usage.input_tokens', details.inputTokens);
          if (details.outputTokens !== undefined)
            span.setAttribute('gen_ai.usage.output_tokens', details.outputTokens);
          if (details.status >= 500) span.setStatus({ code: api.SpanStatusCode.ERROR });
        }
        span.end();
      },
    };
  }
}
