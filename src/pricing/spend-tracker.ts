/** Sums cost and tokens per provider and model, for budgets, dashboards and end-of-job reports. */
import type { Usage } from '../spec/types.ts';

export interface SpendLine {
  provider: string;
  model: string;
  requests: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  /** Sum over the requests whose price was known. */
  costUsd: number;
  /** Requests whose model had no known price (not counted in `costUsd`). */
  unpricedRequests: number;
}

export class SpendTracker {
  readonly #lines = new Map<string, SpendLine>();

  /** Adds one call's usage. */
  record(provider: string, model: string, usage: Usage): void {
    const key = `${provider}\0${model}`;
    let line = this.#lines.get(key);
    if (!line) {
      line = {
        provider,
        model,
        requests: 0,
        inputTokens: 0,
        outputTokens: 0,
        cachedInputTokens: 0,
        costUsd: 0,
        unpricedRequests: 0,
      };
      this.#lines.set(key, line);
    }
    line.requests++;
    line.inputTokens += usage.inputTokens;
    line.outputTokens += usage.outputTokens;
    line.cachedInputTokens += usage.cachedInputTokens ?? 0;
    if (usage.costUsd === undefined) line.unpricedRequests++;
    else line.costUsd += usage.costUsd;
  }

  /** One line per provider and model, most expensive first. */
  lines(): SpendLine[] {
    return [...this.#lines.values()].map((line) => ({ ...line })).sort((a, b) => b.costUsd - a.costUsd);
  }

  /** Everything summed. */
  total(): Omit<SpendLine, 'provider' | 'model'> {
    const total = {
      requests: 0,
      inputTokens: 0,
      outputTokens: 0,
      cachedInputTokens: 0,
      costUsd: 0,
      unpricedRequests: 0,
    };
    for (const line of this.#lines.values()) {
      total.requests += line.requests;
      total.inputTokens += line.inputTokens;
      total.outputTokens += line.outputTokens;
      total.cachedInputTokens += line.cachedInputTokens;
      total.costUsd += line.costUsd;
      total.unpricedRequests += line.unpricedRequests;
    }
    return total;
  }

  reset(): void {
    this.#lines.clear();
  }
}
