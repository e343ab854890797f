/** Usage added up over several calls (a tool loop's steps, an embedding call's batches). */
import type { Usage } from '../spec/types.ts';

/**
 * The sum of `usages`: tokens of every kind added, and a cost only when every one was priced (a partial sum
 * would under-count). None at all is zero, and costs nothing.
 */
export function sumUsage(usages: readonly Usage[]): Usage {
  const total: Usage = { inputTokens: 0, outputTokens: 0, totalTokens: 0 };
  let cost: number | undefined = 0;
  for (const usage of usages) {
    total.inputTokens += usage.inputTokens;
    total.outputTokens += usage.outputTokens;
    total.totalTokens += usage.totalTokens;
    if (usage.cachedInputTokens !== undefined)
      total.cachedInputTokens = (total.cachedInputTokens ?? 0) + usage.cachedInputTokens;
    if (usage.cacheWriteInputTokens !== undefined)
      total.cacheWriteInputTokens = (total.cacheWriteInputTokens ?? 0) + usage.cacheWriteInputTokens;
    if (usage.reasoningTokens !== undefined)
      total.reasoningTokens = (total.reasoningTokens ?? 0) + usage.reasoningTokens;
    cost = cost === undefined || usage.costUsd === undefined ? undefined : cost + usage.costUsd;
  }
  if (cost !== undefined) total.costUsd = cost;
  return total;
}
