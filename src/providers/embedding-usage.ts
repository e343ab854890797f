/** Embeddings bill input tokens only: the count a response reports, as usage (undefined when it has none). */
import type { Usage } from '../spec/types.ts';

export function inputTokensUsage(count: unknown): Usage | undefined {
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0) return undefined;
  return { inputTokens: count, outputTokens: 0, totalTokens: count };
}
