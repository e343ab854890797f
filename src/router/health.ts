/**
 * What the router knows about each deployment, in this process: cooldown, failures in the current window,
 * calls in flight, recent latencies, requests and tokens per minute, and the rate-limit budgets the
 * provider last reported. Everything the hot path reads is here, synchronously; with shared state, the
 * Redis sync (`redis-state.ts`) folds other processes' numbers into the same records.
 */
import type { RateLimitBudget } from '../middleware/rate-limit.ts';

export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

const MINUTE_MS = 60_000;
/** Weight of the newest sample in a latency average. */
const EWMA_ALPHA = 0.25;
/** How fast an average that is not refreshed fades. */
const HALF_LIFE_MS = 10_000;
/** Latencies kept for a percentile. */
const SAMPLES = 128;
/** Fewer samples than this: no percentile yet (a hedge by percentile waits for data). */
export const MIN_PERCENTILE_SAMPLES = 16;

/** A recent-latency average, and the last samples for percentiles. */
export class LatencyTrack {
  ewmaMs: number | undefined;
  /** Other processes' averages (shared state), blended into `recentMs`. */
  othersMs: number | undefined;
  readonly #samples: number[] = [];
  #next = 0;
  #sorted: number[] | undefined;
  #sortedAt = 0;
  #count = 0;
  #sampledAt = 0;

  add(ms: number, now: number): void {
    this.ewmaMs = this.ewmaMs === undefined ? ms : this.ewmaMs + EWMA_ALPHA * (ms - this.ewmaMs);
    this.#sampledAt = now;
    if (this.#samples.length < SAMPLES) this.#samples.push(ms);
    else this.#samples[this.#next] = ms;
    this.#next = (this.#next + 1) % SAMPLES;
    this.#count++;
  }

  /**
   * The average this process measured, blended with other processes' when they share state. An average
   * nobody has refreshed for a while fades (half-life 10 s), so that a deployment one slow answer made
   * look slow is measured again rather than left out for good.
   */
  recentMs(now: number): number | undefined {
    const own =
      this.ewmaMs === undefined
        ? undefined
        : this.ewmaMs * 2 ** (-Math.max(0, now - this.#sampledAt) / HALF_LIFE_MS);
    if (this.othersMs === undefined) return own;
    return own === undefined ? this.othersMs : (own + this.othersMs) / 2;
  }

  /** The p-th percentile of the last samples; undefined until there are enough. Re-sorted every 8 samples. */
  percentile(p: number): number | undefined {
    if (this.#samples.length < MIN_PERCENTILE_SAMPLES) return undefined;
    if (!this.#sorted || this.#count - this.#sortedAt >= 8) {
      this.#sorted = [...this.#samples].sort((a, b) => a - b);
      this.#sortedAt = this.#count;
    }
    const index = Math.min(this.#sorted.length - 1, Math.ceil((p / 100) * this.#sorted.length) - 1);
    return this.#sorted[Math.max(0, index)];
  }
}

/** Requests and tokens per fixed minute, read as a sliding minute (the previous one weighted by what is left). */
export class UsageWindow {
  minute = 0;
  requests = 0;
  tokens = 0;
  previousRequests = 0;
  previousTokens = 0;
  /** Other processes' counts for the same two minutes (shared state). */
  othersRequests = 0;
  othersTokens = 0;
  othersPreviousRequests = 0;
  othersPreviousTokens = 0;

  roll(now: number): void {
    const minute = Math.floor(now / MINUTE_MS);
    if (minute === this.minute) return;
    const next = minute === this.minute + 1;
    this.previousRequests = next ? this.requests : 0;
    this.previousTokens = next ? this.tokens : 0;
    this.othersPreviousRequests = next ? this.othersRequests : 0;
    this.othersPreviousTokens = next ? this.othersTokens : 0;
    this.requests = 0;
    this.tokens = 0;
    this.othersRequests = 0;
    this.othersTokens = 0;
    this.minute = minute;
  }

  add(requests: number, tokens: number, now: number): void {
    this.roll(now);
    this.requests += requests;
    this.tokens += tokens;
  }

  /** Requests and tokens in the minute up to `now`, every process's. */
  perMinute(now: number): { requests: number; tokens: number } {
    this.roll(now);
    const left = 1 - (now % MINUTE_MS) / MINUTE_MS;
    return {
      requests:
        this.requests + this.othersRequests + (this.previousRequests + this.othersPreviousRequests) * left,
      tokens: this.tokens + this.othersTokens + (this.previousTokens + this.othersPreviousTokens) * left,
    };
  }
}

/** Declared limits of a deployment (from its config). */
export interface DeploymentLimits {
  rpm: number | undefined;
  tpm: number | undefined;
  maxConcurrency: number | undefined;
}

/** How long a poll waits for a concurrency slot held by another call or process. */
const CONCURRENCY_POLL_MS = 25;

export class DeploymentStats {
  readonly id: string;
  readonly limits: DeploymentLimits;
  coolingUntil = 0;
  coolingCode: string | undefined;
  /** Failures and successes in the current window, which starts at the first call after the last one ended. */
  failures = 0;
  successes = 0;
  windowEndsAt = 0;
  inFlight = 0;
  othersInFlight = 0;
  readonly latency = new LatencyTrack();
  readonly ttft = new LatencyTrack();
  readonly usage = new UsageWindow();
  #budgets: RateLimitBudget[] | undefined;
  #budgetsAt = 0;

  constructor(id: string, limits: DeploymentLimits) {
    this.id = id;
    this.limits = limits;
  }

  isCooling(now: number): boolean {
    return this.coolingUntil > now;
  }

  /** Cools the deployment until `until`; a cooldown only ever extends, never shortens. True when it did. */
  coolUntil(until: number, code: string): boolean {
    if (until <= this.coolingUntil) return false;
    this.coolingUntil = until;
    this.coolingCode = code;
    return true;
  }

  #roll(now: number, windowMs: number): void {
    if (now < this.windowEndsAt) return;
    this.failures = 0;
    this.successes = 0;
    this.windowEndsAt = now + windowMs;
  }

  /** Counts a failure in the current window; returns the window's count. */
  countFailure(now: number, windowMs: number): number {
    this.#roll(now, windowMs);
    return ++this.failures;
  }

  countSuccess(now: number, windowMs: number): void {
    this.#roll(now, windowMs);
    this.successes++;
  }

  failuresIn(now: number): number {
    return now >= this.windowEndsAt ? 0 : this.failures;
  }

  successesIn(now: number): number {
    return now >= this.windowEndsAt ? 0 : this.successes;
  }

  /** The provider's rate-limit headers from the latest response. */
  observeBudgets(budgets: RateLimitBudget[], now: number): void {
    if (budgets.length === 0) return;
    this.#budgets = budgets;
    this.#budgetsAt = now;
  }

  /**
   * The share of its rate-limit budget the deployment has left, 0 to 1: the least of what the provider
   * last reported (refilled once its reset time has passed) and the declared `rpm` / `tpm` less this
   * minute's use. 1 when nothing is known.
   */
  remainingShare(now: number): number {
    let share = 1;
    if (this.#budgets) {
      for (const budget of this.#budgets) {
        if (budget.limit === undefined) continue;
        if (budget.resetInMs !== undefined && now >= this.#budgetsAt + budget.resetInMs) continue;
        share = Math.min(share, Math.max(0, budget.remaining / budget.limit));
      }
    }
    const { rpm, tpm } = this.limits;
    if (rpm !== undefined || tpm !== undefined) {
      const used = this.usage.perMinute(now);
      if (rpm !== undefined) share = Math.min(share, Math.max(0, (rpm - used.requests) / rpm));
      if (tpm !== undefined) share = Math.min(share, Math.max(0, (tpm - used.tokens) / tpm));
    }
    return share;
  }

  /**
   * Ms until the deployment can take a call: 0 when it can now; otherwise until its cooldown ends, its
   * declared budgets free up, its provider's spent budget resets, or (concurrency) a short poll.
   */
  readyInMs(now: number): number {
    let wait = Math.max(0, this.coolingUntil - now);
    const { rpm, tpm, maxConcurrency } = this.limits;
    if (rpm !== undefined || tpm !== undefined) {
      const used = this.usage.perMinute(now);
      if ((rpm !== undefined && used.requests >= rpm) || (tpm !== undefined && used.tokens >= tpm))
        wait = Math.max(wait, MINUTE_MS - (now % MINUTE_MS));
    }
    if (maxConcurrency !== undefined && this.inFlight + this.othersInFlight >= maxConcurrency)
      wait = Math.max(wait, CONCURRENCY_POLL_MS);
    if (this.#budgets) {
      for (const budget of this.#budgets) {
        if (budget.remaining > 0 || budget.resetInMs === undefined) continue;
        wait = Math.max(wait, this.#budgetsAt + budget.resetInMs - now);
      }
    }
    return wait;
  }
}
