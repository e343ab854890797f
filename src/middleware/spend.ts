/** Feeds a SpendTracker with every completion's and stream's usage (cache hits excluded: they cost nothing). */
import type { SpendTracker } from '../pricing/spend-tracker.ts';
import type { Middleware } from './types.ts';

export function spendMiddleware(tracker: SpendTracker): Middleware {
  return {
    name: 'spend',
    async complete(request, call, next) {
      const result = await next(request, call);
      if (!result.cached) tracker.record(call.provider, result.model || request.model, result.usage);
      return result;
    },
    async *stream(request, call, next) {
      for await (const event of next(request, call)) {
        if (event.type === 'finish' && !event.cached) {
          tracker.record(call.provider, event.model ?? request.model, event.usage);
        }
        yield event;
      }
    },
    async embed(batch, call, next) {
      const result = await next(batch, call);
      if (result.usage) tracker.record(call.provider, batch.model, result.usage);
      return result;
    },
  };
}
