/**
 * The routing strategies: each picks one deployment among candidates that are all available now and at
 * the same priority level (earlier levels come first; the router falls back to later ones).
 *
 * - `priority`: the group's order.
 * - `weighted`: random, in proportion to `weight` (0: only when nothing else is left).
 * - `least-busy`: fewest calls in flight (every process's, with shared state); ties at random.
 * - `latency`: power of two choices: two at random, the one with the lower recent latency (time to first
 *   event for streams) times its calls in flight plus one; a deployment not measured yet goes first, so
 *   every one is measured.
 * - `usage`: the largest share of rate-limit budget left (the provider's headers, the declared rpm/tpm).
 * - `cost`: the cheapest for this request's estimated tokens (the price table); unpriced ones last.
 */
import type { Deployment } from './deployment.ts';
import type { RequestSize } from './request-size.ts';
import type { RoutingStrategy } from './types.ts';

export interface StrategyInput {
  now: number;
  /** Streams rank by time to first event, calls by whole latency. */
  stream: boolean;
  /** The request's size, for the cost strategy (absent for embeddings: the texts' estimate is used). */
  size: RequestSize | undefined;
  /** Input tokens to price when there is no request (embeddings). */
  inputTokens?: number;
  random: () => number;
}

type Pick = (candidates: readonly Deployment[], input: StrategyInput) => Deployment;

function busy(deployment: Deployment): number {
  return deployment.stats.inFlight + deployment.stats.othersInFlight;
}

const weighted: Pick = (candidates, input) => {
  let total = 0;
  for (const candidate of candidates) total += candidate.weight;
  if (total <= 0) return candidates[0]!;
  let point = input.random() * total;
  for (const candidate of candidates) {
    point -= candidate.weight;
    if (point < 0) return candidate;
  }
  // Rounding left a sliver: the last deployment with a weight.
  return candidates.findLast((candidate) => candidate.weight > 0)!;
};

const leastBusy: Pick = (candidates, input) => {
  let best: Deployment[] = [];
  let least = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const load = busy(candidate);
    if (load < least) {
      least = load;
      best = [candidate];
    } else if (load === least) best.push(candidate);
  }
  return best.length === 1 ? best[0]! : best[Math.floor(input.random() * best.length)]!;
};

function latencyScore(deployment: Deployment, stream: boolean, now: number): number {
  const recent = (stream ? deployment.stats.ttft : deployment.stats.latency).recentMs(now);
  return recent === undefined ? 0 : recent * (1 + busy(deployment));
}

const latency: Pick = (candidates, input) => {
  if (candidates.length === 1) return candidates[0]!;
  const first = Math.floor(input.random() * candidates.length);
  let second = Math.floor(input.random() * (candidates.length - 1));
  if (second >= first) second++;
  const a = candidates[first]!;
  const b = candidates[second]!;
  const scoreA = latencyScore(a, input.stream, input.now);
  const scoreB = latencyScore(b, input.stream, input.now);
  if (scoreA !== scoreB) return scoreA < scoreB ? a : b;
  return input.random() < 0.5 ? a : b;
};

const usage: Pick = (candidates, input) => {
  let best = candidates[0]!;
  let bestShare = best.stats.remainingShare(input.now);
  for (let i = 1; i < candidates.length; i++) {
    const share = candidates[i]!.stats.remainingShare(input.now);
    if (share > bestShare) {
      best = candidates[i]!;
      bestShare = share;
    }
  }
  return best;
};

const cost: Pick = (candidates, input) => {
  let best = candidates[0]!;
  let bestCost = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const inputTokens = input.size ? input.size.tokensFor(candidate.model, false) : (input.inputTokens ?? 0);
    const price = candidate.estimatedCostUsd(inputTokens, input.size?.outputTokens ?? 0);
    const value = price ?? Number.POSITIVE_INFINITY;
    if (value < bestCost) {
      best = candidate;
      bestCost = value;
    }
  }
  return best;
};

export const STRATEGIES: Readonly<Record<RoutingStrategy, Pick>> = {
  priority: (candidates) => candidates[0]!,
  weighted,
  'least-busy': leastBusy,
  latency,
  usage,
  cost,
};
