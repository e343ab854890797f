/**
 * Logs as a layer, through any pino-compatible logger (`logger.info(object, message)`); silent when no
 * logger is given. One `llm call` info line per call with provider, model, operation and latency, plus
 * what the result says (a completion's or stream's request id, tokens, cost, finish reason and `cached`;
 * a batch's request id and input count; a count's `countedInputTokens`; `cancelled` for a stream left
 * early); one `llm call failed` error line per failure, with code, status, request id, attempts and
 * retryability; a `llm retry` warning per retry. Nothing is formatted for a level the logger would drop, and everything passes
 * through `redact`: error messages are scrubbed already, this is the second belt.
 */
import type { LLMError } from '../spec/errors.ts';
import { isLLMError } from '../spec/errors.ts';
import { redact } from '../spec/redact.ts';
import type { CallInfo, Middleware } from './types.ts';

type LogMethod = (object: Record<string, unknown>, message?: string) => void;

/** The part of pino's interface we use. */
export interface Logger {
  debug: LogMethod;
  info: LogMethod;
  warn: LogMethod;
  error: LogMethod;
  isLevelEnabled?(level: string): boolean;
}

export interface LoggingLayer extends Middleware {
  onRetry(
    call: Pick<CallInfo, 'provider' | 'model' | 'operation'>,
    error: LLMError,
    attempt: number,
    delayMs: number,
  ): void;
}

/**
 * True when `logger` writes `level` (a logger that cannot say is taken to write everything): asked before a
 * log line's fields are built, so that a line below the level costs nothing on a hot path.
 */
export function levelEnabled(logger: Logger | undefined, level: string): logger is Logger {
  return logger !== undefined && (logger.isLevelEnabled?.(level) ?? true);
}

export function loggingMiddleware(logger: Logger): LoggingLayer {
  const enabled = (level: string) => levelEnabled(logger, level);
  const success = (call: CallInfo, model: string, started: number, extra: Record<string, unknown>) => {
    if (!enabled('info')) return;
    logger.info(
      {
        provider: call.provider,
        model,
        operation: call.operation,
        latencyMs: Math.round(performance.now() - started),
        ...extra,
      },
      'llm call',
    );
  };
  const failure = (call: CallInfo, model: string, started: number, error: unknown) => {
    if (!enabled('error')) return;
    const details: Record<string, unknown> = {
      provider: call.provider,
      model,
      operation: call.operation,
      latencyMs: Math.round(performance.now() - started),
    };
    if (isLLMError(error)) {
      Object.assign(details, {
        code: error.code,
        status: error.status,
        requestId: error.requestId,
        attempts: error.attempts,
        retryable: error.retryable,
        error: redact(error.message),
      });
    } else details.error = redact(error instanceof Error ? error.message : String(error));
    logger.error(details, 'llm call failed');
  };

  return {
    name: 'logging',
    async complete(request, call, next) {
      const started = performance.now();
      try {
        const result = await next(request, call);
        success(call, request.model, started, {
          requestId: result.requestId,
          inputTokens: result.usage.inputTokens,
          outputTokens: result.usage.outputTokens,
          // A cache hit cost nothing: summing the lines' costs must not count the original call twice.
          costUsd: result.cached ? undefined : result.usage.costUsd,
          finishReason: result.finishReason,
          cached: result.cached === true,
        });
        return result;
      } catch (error) {
        failure(call, request.model, started, error);
        throw error;
      }
    },
    async *stream(request, call, next) {
      const started = performance.now();
      let logged = false;
      try {
        for await (const event of next(request, call)) {
          if (event.type === 'finish') {
            logged = true;
            success(call, request.model, started, {
              requestId: event.requestId,
              inputTokens: event.usage.inputTokens,
              outputTokens: event.usage.outputTokens,
              costUsd: event.cached ? undefined : event.usage.costUsd,
              finishReason: event.finishReason,
              cached: event.cached === true,
            });
          }
          yield event;
        }
      } catch (error) {
        logged = true;
        failure(call, request.model, started, error);
        throw error;
      } finally {
        // The caller broke out of the loop before the end: the call still gets its line.
        if (!logged) success(call, request.model, started, { cancelled: true });
      }
    },
    async embed(batch, call, next) {
      const started = performance.now();
      try {
        const result = await next(batch, call);
        success(call, batch.model, started, { requestId: result.requestId, inputs: batch.texts.length });
        return result;
      } catch (error) {
        failure(call, batch.model, started, error);
        throw error;
      }
    },
    async countTokens(request, call, next) {
      const started = performance.now();
      try {
        const result = await next(request, call);
        // Not `inputTokens`: a count is not usage, and summing the lines' tokens must not include it.
        success(call, request.model, started, { countedInputTokens: result.inputTokens });
        return result;
      } catch (error) {
        failure(call, request.model, started, error);
        throw error;
      }
    },
    onRetry(call, error, attempt, delayMs) {
      if (!enabled('warn')) return;
      logger.warn(
        {
          provider: call.provider,
          model: call.model,
          operation: call.operation,
          attempt,
          delayMs: Math.round(delayMs),
          code: error.code,
          status: error.status,
          requestId: error.requestId,
          error: redact(error.message),
        },
        'llm retry',
      );
    },
  };
}
