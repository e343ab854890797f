/**
 * One routed call's plan: which deployments it may use, what it has tried, what a failure ruled out, and
 * the route the caller will see. `select` names the next deployment: among those not yet tried that can
 * serve the request (its context window fits, another provider after a content filter, a larger window
 * after a context-window error, the same vector space for embeddings) and are available now (not cooling,
 * within their declared budgets), the best priority level, then the strategy's pick. When every remaining
 * one is only temporarily unavailable, it says how long until the first returns.
 */
import type { RouteAttempt } from '../spec/types.ts';
import type { Deployment } from './deployment.ts';
import type { RequestSize } from './request-size.ts';
import { STRATEGIES } from './strategies.ts';
import type { RoutingStrategy } from './types.ts';

export type RouterOperation = 'complete' | 'stream' | 'embed' | 'count';

/** What a request's `model` names: a group, or one deployment. */
export interface Target {
  name: string;
  deployments: readonly Deployment[];
}

export type Selection =
  | { deployment: Deployment /** Another deployment could take the call now. */; alternatives: boolean }
  | { waitMs: number }
  | undefined;

export class CallPlan {
  readonly operation: RouterOperation;
  readonly target: Target;
  /** The request's size, for chat calls. */
  readonly size: RequestSize | undefined;
  /** Embeddings: the only vector space this call may use. */
  readonly space: string | undefined;
  readonly dimensions: number | undefined;
  /** Embeddings: the texts' estimated tokens. */
  inputTokens: number | undefined;
  readonly attempts: RouteAttempt[] = [];
  readonly tried: Deployment[] = [];
  /** Providers ruled out by a content filter. */
  excludedProviders: Set<string> | undefined;
  /** After a context-window error: only deployments whose known window is larger than this. */
  minContextWindow = 0;
  lastError: unknown;
  /** Time spent waiting for cooling deployments, in ms. */
  waitedMs = 0;
  /** Set by `select` when a deployment was passed over because the request does not fit its window. */
  contextSkipped: Deployment[] | undefined;

  constructor(
    operation: RouterOperation,
    target: Target,
    size: RequestSize | undefined,
    dimensions?: number,
  ) {
    this.operation = operation;
    this.target = target;
    this.size = size;
    this.dimensions = dimensions;
    this.space = operation === 'embed' ? primary(target).embeddingSpace(dimensions) : undefined;
  }

  /** The deployment last tried, for an error's route. */
  get last(): Deployment | undefined {
    return this.tried[this.tried.length - 1];
  }

  #eligible(deployment: Deployment): boolean {
    if (this.tried.includes(deployment)) return false;
    if (this.excludedProviders?.has(deployment.provider)) return false;
    if (this.minContextWindow > 0 && !((deployment.contextWindow ?? 0) > this.minContextWindow)) return false;
    if (this.space !== undefined && deployment.embeddingSpace(this.dimensions) !== this.space) return false;
    if (this.size && !this.size.fits(deployment.contextWindow, deployment.model, deployment.exactTokens)) {
      this.contextSkipped ??= [];
      this.contextSkipped.push(deployment);
      return false;
    }
    return true;
  }

  select(strategy: RoutingStrategy, now: number, random: () => number): Selection {
    const { deployments } = this.target;
    this.contextSkipped = undefined;
    if (deployments.length === 1) {
      const only = deployments[0]!;
      if (!this.#eligible(only)) return undefined;
      const wait = only.stats.readyInMs(now);
      return wait > 0 ? { waitMs: wait } : { deployment: only, alternatives: false };
    }
    let available: Deployment[] | undefined;
    let waitMs = Number.POSITIVE_INFINITY;
    let level = Number.POSITIVE_INFINITY;
    let count = 0;
    for (const deployment of deployments) {
      if (!this.#eligible(deployment)) continue;
      const wait = deployment.stats.readyInMs(now);
      if (wait > 0) {
        waitMs = Math.min(waitMs, wait);
        continue;
      }
      count++;
      if (!available || deployment.priority < level) {
        level = deployment.priority;
        available = [deployment];
      } else if (deployment.priority === level) available.push(deployment);
    }
    if (!available) return Number.isFinite(waitMs) ? { waitMs } : undefined;
    const deployment =
      available.length === 1
        ? available[0]!
        : STRATEGIES[strategy](available, {
            now,
            stream: this.operation === 'stream',
            size: this.size,
            inputTokens: this.inputTokens,
            random,
          });
    return { deployment, alternatives: count > 1 };
  }
}

/** The deployment that sets a group's vector space: the first of the best priority level. */
function primary(target: Target): Deployment {
  let best = target.deployments[0]!;
  for (const deployment of target.deployments) if (deployment.priority < best.priority) best = deployment;
  return best;
}
