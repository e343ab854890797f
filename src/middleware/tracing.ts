/**
 * Traces as a layer: one OpenTelemetry span per call, named `{operation} {model}` (`chat gpt-4o`,
 * `embeddings text-embedding-3-small`), with the GenAI conventions' attributes. Prompt and completion
 * text are recorded only when `captureContent` is on. Only `@opentelemetry/api` is used: without a
 * registered tracer provider the spans are no-ops, and attributes are not even computed.
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type { Span, Tracer } from '@opentelemetry/api';
import { isLLMError } from '../spec/errors.ts';
import { redact } from '../spec/redact.ts';
import type { FinishReason, Usage } from '../spec/types.ts';
import { genAiInputMessages, genAiOperation, genAiOutputMessages, genAiProviderName } from './gen-ai.ts';
import type { CallInfo, Middleware } from './types.ts';

export interface TracingOptions {
  /** Record prompts and completions (`gen_ai.input.messages`, `gen_ai.output.messages`). Default false. */
  captureContent?: boolean;
}

// Loaded when a client turns tracing on, not when the library is imported.
const require = createRequire(import.meta.url);
let api: typeof OtelApi | undefined;
const otel = () => (api ??= require('@opentelemetry/api') as typeof OtelApi);

function start(
  tracer: Tracer,
  call: CallInfo,
  model: string,
  request: { temperature?: number; maxTokens?: number; topP?: number } | undefined,
): Span {
  const operation = genAiOperation(call.operation);
  const span = tracer.startSpan(`${operation} ${model}`, { kind: otel().SpanKind.CLIENT });
  if (!span.isRecording()) return span;
  span.setAttribute('gen_ai.operation.name', operation);
  span.setAttribute('gen_ai.provider.name', genAiProviderName(call.provider));
  span.setAttribute('gen_ai.request.model', model);
  if (request?.temperature !== undefined)
    span.setAttribute('gen_ai.request.temperature', request.temperature);
  if (request?.maxTokens !== undefined) span.setAttribute('gen_ai.request.max_tokens', request.maxTokens);
  if (request?.topP !== undefined) span.setAttribute('gen_ai.request.top_p', request.topP);
  return span;
}

function finish(
  span: Span,
  details: { usage?: Usage; model?: string; id?: string; finishReason?: FinishReason; cached?: boolean },
): void {
  if (span.isRecording()) {
    if (details.model) span.setAttribute('gen_ai.response.model', details.model);
    if (details.id) span.setAttribute('gen_ai.response.id', details.id);
    if (details.finishReason) span.setAttribute('gen_ai.response.finish_reasons', [details.finishReason]);
    if (details.usage) {
      span.setAttribute('gen_ai.usage.input_tokens', details.usage.inputTokens);
      span.setAttribute('gen_ai.usage.output_tokens', details.usage.outputTokens);
    }
    if (details.cached) span.setAttribute('llm_factory.cached', true);
  }
  span.end();
}

function fail(span: Span, error: unknown): void {
  if (span.isRecording()) {
    const code = isLLMError(error) ? error.code : 'unknown';
    span.setAttribute('error.type', code);
    span.setStatus({
      code: otel().SpanStatusCode.ERROR,
      // Typed errors are scrubbed already; anything else (a layer of the caller's) is scrubbed here.
      message: redact(error instanceof Error ? error.message : String(error)),
    });
    if (isLLMError(error)) {
      if (error.status !== undefined) span.setAttribute('http.response.status_code', error.status);
      if (error.requestId) span.setAttribute('llm_factory.request_id', error.requestId);
      span.setAttribute('llm_factory.attempts', error.attempts);
    }
  }
  span.end();
}

export function tracingMiddleware(options: TracingOptions = {}): Middleware {
  const capture = options.captureContent === true;
  // Taken once: the API hands out a proxy that follows a tracer provider registered later.
  const tracer = otel().trace.getTracer('llm-factory', '0.1.0');
  return {
    name: 'tracing',
    async complete(request, call, next) {
      const span = start(tracer, call, request.model, request);
      if (capture && span.isRecording())
        span.setAttribute('gen_ai.input.messages', genAiInputMessages(request.messages));
      try {
        const result = await next(request, call);
        if (capture && span.isRecording()) {
          span.setAttribute(
            'gen_ai.output.messages',
            genAiOutputMessages(result.message, result.finishReason),
          );
        }
        finish(span, {
          usage: result.usage,
          model: result.model,
          id: result.id,
          finishReason: result.finishReason,
          cached: result.cached === true,
        });
        return result;
      } catch (error) {
        fail(span, error);
        throw error;
      }
    },
    async *stream(request, call, next) {
      const span = start(tracer, call, request.model, request);
      if (capture && span.isRecording())
        span.setAttribute('gen_ai.input.messages', genAiInputMessages(request.messages));
      let ended = false;
      try {
        for await (const event of next(request, call)) {
          if (event.type === 'finish') {
            if (capture && span.isRecording()) {
              span.setAttribute(
                'gen_ai.output.messages',
                genAiOutputMessages(event.message, event.finishReason),
              );
            }
            const details: Parameters<typeof finish>[1] = {
              usage: event.usage,
              finishReason: event.finishReason,
              cached: event.cached === true,
            };
            if (event.model) details.model = event.model;
            if (event.id) details.id = event.id;
            finish(span, details);
            ended = true;
          }
          yield event;
        }
      } catch (error) {
        if (!ended) fail(span, error);
        ended = true;
        throw error;
      } finally {
        // The caller broke out of the loop early.
        if (!ended) span.end();
      }
    },
    async embed(batch, call, next) {
      const span = start(tracer, call, batch.model, undefined);
      try {
        const result = await next(batch, call);
        const details: Parameters<typeof finish>[1] = {};
        if (result.usage) details.usage = result.usage;
        finish(span, details);
        return result;
      } catch (error) {
        fail(span, error);
        throw error;
      }
    },
    // `count_tokens {model}`: the count is not usage (nothing was billed), so no `gen_ai.usage.*`.
    async countTokens(request, call, next) {
      const span = start(tracer, call, request.model, undefined);
      try {
        const result = await next(request, call);
        if (span.isRecording()) span.setAttribute('llm_factory.counted_input_tokens', result.inputTokens);
        finish(span, {});
        return result;
      } catch (error) {
        fail(span, error);
        throw error;
      }
    },
  };
}
