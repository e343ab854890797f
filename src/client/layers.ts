/**
 * Which layers a client gets, in which order. Outermost first:
 *
 *   your `middleware` → logging → tracing → metrics → spend → cache → rate limit → retry → provider
 *
 * so that logs and traces see every call as the caller made it, metrics count cache hits, a cache hit
 * skips the rate limiter and the provider, and retries happen inside the rate limiter's accounting.
 * Only configured layers are in the chain.
 */

import { spendMiddleware } from '../middleware/spend.ts';
import type { Middleware } from '../middleware/types.ts';
import type { ClientOptions } from './options.ts';

export function layersFor(options: ClientOptions): Middleware[] {
  const layers: Middleware[] = [...(options.middleware ?? [])];
  if (options.spend) layers.push(spendMiddleware(options.spend));
  return layers;
}
