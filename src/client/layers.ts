/**
 * Which layers a client gets, in which order. Outermost first:
 *
 *   your `middleware` → logging → tracing → metrics → spend → cache → retry → rate limit → provider
 *
 * so that logs and traces see every call as the caller made it, metrics count cache hits, a cache hit
 * skips the rate limiter and the provider, and every attempt (retries included) takes rate-limit budget
 * and reports its 429 to the adaptive concurrency limit.
 * Only configured layers are in the chain.
 */
import { cacheMiddleware } from '../middleware/cache/index.ts';
import { type Logger, loggingMiddleware } from '../middleware/logging.ts';
import { metricsMiddleware } from '../middleware/metrics.ts';
import { rateLimitMiddleware } from '../middleware/rate-limit.ts';
import type { RetryObserver } from '../middleware/retry.ts';
import { spendMiddleware } from '../middleware/spend.ts';
import { tracingMiddleware } from '../middleware/tracing.ts';
import type { Middleware } from '../middleware/types.ts';
import type { NormalizedRequest, ProviderAdapter } from '../providers/provider.ts';
import type { ClientOptions } from './options.ts';

export type { Logger };

export function layersFor(
  options: ClientOptions,
  adapter: ProviderAdapter,
): { layers: Middleware[]; inner: Middleware[]; retryObserver: RetryObserver } {
  const layers: Middleware[] = [...(options.middleware ?? [])];
  const retryListeners: Array<NonNullable<RetryObserver['onRetry']>> = [];
  if (options.logger) {
    const logging = loggingMiddleware(options.logger);
    layers.push(logging);
    retryListeners.push((call, error, attempt, delayMs) => logging.onRetry(call, error, attempt, delayMs));
  }
  if (options.tracing) layers.push(tracingMiddleware(options.tracing === true ? {} : options.tracing));
  const metrics = options.metrics ? metricsMiddleware() : undefined;
  if (metrics) {
    layers.push(metrics);
    retryListeners.push((call) => metrics.onRetry(call));
  }
  if (options.spend) layers.push(spendMiddleware(options.spend));
  if (options.cache) {
    layers.push(
      cacheMiddleware(
        options.cache,
        metrics ? { onHit: metrics.onCacheHit, onMiss: metrics.onCacheMiss } : {},
      ),
    );
  }
  // Inside retry: every attempt takes budget and a slot, and every 429 reaches the adaptive limit.
  const inner: Middleware[] = [];
  if (options.rateLimit) {
    const estimate = (request: NormalizedRequest) => adapter.countRequestTokensLocally(request).inputTokens;
    inner.push(rateLimitMiddleware(options.rateLimit, estimate));
  }
  const retryObserver: RetryObserver =
    retryListeners.length === 0
      ? {}
      : {
          onRetry: (call, error, attempt, delayMs) => {
            for (const listener of retryListeners) listener(call, error, attempt, delayMs);
          },
        };
  return { layers, inner, retryObserver };
}
