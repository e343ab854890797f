/**
 * The engine every routed operation runs through: pick a deployment, send, and on failure judge the
 * error, update the deployment's health and move on — or, with hedging, send a second request when the
 * first is late and keep whichever answers first. An operation is a function from a chosen deployment's
 * client to a promise (`complete`, the first event of a stream, a batch of embeddings, later
 * `generateObject`); the engine knows nothing else about it.
 */
import { sleep } from '../http/abort.ts';
import { isLLMError, LLMContextWindowError, LLMError, LLMRateLimitError } from '../spec/errors.ts';
import type { RouteInfo } from '../spec/types.ts';
import { Attempt, type AttemptSettings, type Operation, type RunOptions, type Settled } from './attempt.ts';
import type { Deployment } from './deployment.ts';
import { judge } from './failures.ts';
import type { Clock } from './health.ts';
import type { RouterInstruments } from './instruments.ts';
import type { CallPlan } from './plan.ts';
import type { SharedState } from './shared-state.ts';
import type { HedgeConfig, RoutingStrategy } from './types.ts';

export interface CooldownSettings {
  allowedFails: number;
  windowMs: number;
  cooldownMs: number;
}

export interface RunnerSettings {
  strategy: RoutingStrategy;
  fallbacks: ReadonlySet<string>;
  /** Undefined: cooldowns are off. */
  cooldown: CooldownSettings | undefined;
  hedge: HedgeConfig | undefined;
  maxWaitMs: number;
  clock: Clock;
  random: () => number;
  instruments: RouterInstruments;
  shared: SharedState | undefined;
}

const HEDGE_TIMER = Symbol('hedge');

export class Runner {
  readonly settings: RunnerSettings;
  readonly #attempts: AttemptSettings;

  constructor(settings: RunnerSettings) {
    this.settings = settings;
    this.#attempts = {
      clock: settings.clock,
      instruments: settings.instruments,
      windowMs: settings.cooldown?.windowMs ?? 60_000,
    };
  }

  /** Runs `operation` on the plan's deployments until one answers; the answering attempt comes back too. */
  async run<T>(
    plan: CallPlan,
    options: RunOptions<T>,
    operation: Operation<T>,
  ): Promise<{ value: T; attempt: Attempt<T> }> {
    if (options.hedge && this.settings.hedge) return this.#race(plan, options, operation);
    for (;;) {
      const next = await this.#next(plan, options.signal);
      const attempt = new Attempt(this.#attempts, plan, next, false, options, operation);
      try {
        const value = await attempt.promise;
        attempt.succeeded(options, value);
        return { value, attempt };
      } catch (error) {
        attempt.failed(options, error);
        await this.#afterFailure(plan, attempt.deployment, error);
      }
    }
  }

  /** The route of a plan, as results and errors carry it. */
  route(plan: CallPlan, deployment: Deployment): RouteInfo {
    return { deployment: deployment.id, attempts: plan.attempts };
  }

  /** Judges a failure of a stream after its first event: health only, never a fallback. */
  async failedAfterOutput(
    plan: CallPlan,
    deployment: Deployment,
    error: unknown,
  ): Promise<LLMError | unknown> {
    plan.lastError = error;
    const verdict = judge(error, this.settings.fallbacks, this.settings.cooldown?.cooldownMs ?? 0);
    await this.#health(plan, deployment, error, verdict.coolForMs, verdict.counted);
    return this.#finalize(plan, error);
  }

  async #race<T>(
    plan: CallPlan,
    options: RunOptions<T>,
    operation: Operation<T>,
  ): Promise<{ value: T; attempt: Attempt<T> }> {
    const running: Array<Attempt<T>> = [];
    let hedged = false;
    let timer: NodeJS.Timeout | undefined;
    const first = await this.#next(plan, options.signal);
    running.push(new Attempt(this.#attempts, plan, first, false, options, operation));
    let primaryStartedAt = performance.now();
    try {
      for (;;) {
        const contenders: Array<Promise<Settled<T> | typeof HEDGE_TIMER>> = running.map(
          (attempt) => attempt.settled,
        );
        const delay =
          !hedged && running.length === 1 ? this.#hedgeDelay(running[0]!.deployment, options) : undefined;
        if (delay !== undefined) {
          const left = Math.max(0, delay - (performance.now() - primaryStartedAt));
          contenders.push(new Promise((resolve) => (timer = setTimeout(() => resolve(HEDGE_TIMER), left))));
        }
        const outcome = await Promise.race(contenders);
        clearTimeout(timer);
        if (outcome === HEDGE_TIMER) {
          hedged = true;
          const pick = plan.select(this.settings.strategy, this.settings.clock.now(), this.settings.random);
          if (pick && 'deployment' in pick) {
            this.settings.instruments.hedge(plan.target.name, pick.deployment, delay ?? 0);
            running.push(
              new Attempt(
                this.#attempts,
                plan,
                { deployment: pick.deployment, alternatives: true },
                true,
                options,
                operation,
              ),
            );
          }
          continue;
        }
        running.splice(running.indexOf(outcome.attempt), 1);
        if (outcome.ok) {
          outcome.attempt.succeeded(options, outcome.value);
          for (const other of running.splice(0)) other.cancel(plan, options.discard);
          return { value: outcome.value, attempt: outcome.attempt };
        }
        outcome.attempt.failed(options, outcome.error);
        try {
          await this.#afterFailure(plan, outcome.attempt.deployment, outcome.error);
        } catch (error) {
          for (const other of running.splice(0)) other.cancel(plan, options.discard);
          throw error;
        }
        if (running.length > 0) continue;
        const next = await this.#next(plan, options.signal);
        running.push(new Attempt(this.#attempts, plan, next, false, options, operation));
        primaryStartedAt = performance.now();
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** When to hedge the attempt on `deployment`: the fixed delay, or its latency percentile once known. */
  #hedgeDelay(deployment: Deployment, options: { track: RunOptions<unknown>['track'] }): number | undefined {
    const hedge = this.settings.hedge;
    if (!hedge) return undefined;
    if ('afterMs' in hedge) return hedge.afterMs;
    const track = options.track === 'ttft' ? deployment.stats.ttft : deployment.stats.latency;
    return track.percentile(hedge.percentile);
  }

  /** The next deployment, waiting (within `maxWaitMs`) when every remaining one is cooling. */
  async #next(
    plan: CallPlan,
    signal: AbortSignal | undefined,
  ): Promise<{ deployment: Deployment; alternatives: boolean }> {
    const { settings } = this;
    for (;;) {
      const selection = plan.select(settings.strategy, settings.clock.now(), settings.random);
      if (!selection) throw this.#noneLeft(plan);
      if ('deployment' in selection) {
        if (plan.last)
          settings.instruments.fallback(plan.target.name, plan.last, selection.deployment, plan.lastError);
        return selection;
      }
      if (selection.waitMs > settings.maxWaitMs - plan.waitedMs)
        throw this.#unavailable(plan, selection.waitMs);
      await sleep(selection.waitMs, signal);
      plan.waitedMs += selection.waitMs;
    }
  }

  #noneLeft(plan: CallPlan): unknown {
    if (plan.lastError !== undefined) return this.#finalize(plan, plan.lastError);
    if (plan.contextSkipped) {
      const largest = Math.max(...plan.contextSkipped.map((deployment) => deployment.contextWindow ?? 0));
      return new LLMContextWindowError(
        `The request (about ${plan.size?.estimate()} input tokens) fits no deployment of '${plan.target.name}'; the largest context window is ${largest} tokens`,
      );
    }
    return new LLMError(`No deployment of '${plan.target.name}' can take this call`);
  }

  #unavailable(plan: CallPlan, waitMs: number): unknown {
    if (plan.lastError !== undefined) return this.#finalize(plan, plan.lastError);
    return new LLMRateLimitError(
      `Every deployment of '${plan.target.name}' is cooling down or over its budget; the first is back in ${Math.ceil(waitMs)} ms`,
      { retryAfterMs: Math.ceil(waitMs), retryable: true },
    );
  }

  /** Sets the route on the error that ends a call. */
  #finalize(plan: CallPlan, error: unknown): unknown {
    const last = plan.last;
    if (isLLMError(error) && last) error.route = this.route(plan, last);
    return error;
  }

  async #afterFailure(plan: CallPlan, deployment: Deployment, error: unknown): Promise<void> {
    plan.lastError = error;
    const verdict = judge(error, this.settings.fallbacks, this.settings.cooldown?.cooldownMs ?? 0);
    await this.#health(plan, deployment, error, verdict.coolForMs, verdict.counted);
    if (!verdict.fallback) throw this.#finalize(plan, error);
    const code = isLLMError(error) ? error.code : 'unknown';
    if (code === 'context_window_exceeded') {
      const known = deployment.contextWindow ?? plan.size?.estimate() ?? 0;
      plan.minContextWindow = Math.max(plan.minContextWindow, known);
    } else if (code === 'content_filter') {
      plan.excludedProviders ??= new Set();
      plan.excludedProviders.add(deployment.provider);
    }
  }

  async #health(
    plan: CallPlan,
    deployment: Deployment,
    error: unknown,
    coolForMs: number | undefined,
    counted: boolean,
  ): Promise<void> {
    const { cooldown, shared, clock } = this.settings;
    if (!cooldown) return;
    const code = isLLMError(error) ? error.code : 'unknown';
    if (coolForMs !== undefined) return this.#cool(deployment, coolForMs, code);
    if (!counted) return;
    const now = clock.now();
    let failures = deployment.stats.countFailure(now, cooldown.windowMs);
    const global = await shared?.countFailure(deployment.id, cooldown.windowMs);
    if (global !== undefined && global > failures) failures = deployment.stats.failures = global;
    if (failures <= cooldown.allowedFails) return;
    // A busy deployment with a few errors is healthy: cool only when at least half its calls failed.
    if (failures < deployment.stats.successesIn(now)) return;
    if (this.#lastHealthy(plan, deployment, now)) return;
    return this.#cool(deployment, cooldown.cooldownMs, code);
  }

  /** True when every other deployment that could serve the plan's calls is cooling: low-traffic noise must not take the last one out. */
  #lastHealthy(plan: CallPlan, deployment: Deployment, now: number): boolean {
    for (const other of plan.target.deployments) {
      if (other === deployment || other.stats.isCooling(now)) continue;
      if (plan.space !== undefined && other.embeddingSpace(plan.dimensions) !== plan.space) continue;
      return false;
    }
    return true;
  }

  async #cool(deployment: Deployment, cooldownMs: number, code: string): Promise<void> {
    if (!deployment.stats.coolUntil(this.settings.clock.now() + cooldownMs, code)) return;
    this.settings.instruments.cooldown(deployment, cooldownMs, code);
    await this.settings.shared?.cool(deployment.id, cooldownMs, code);
  }
}
