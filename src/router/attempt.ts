/**
 * One request to one deployment and its bookkeeping: in flight while it runs, its requests and tokens in
 * the deployment's usage, its latency (or, for a timeout, the time it took) in the latency record, its
 * place in the route, its span and counters. A stream's attempt stays in flight until its caller has
 * read the stream; a cancelled one leaves flight when its request has actually stopped.
 */
import type { Span } from '@opentelemetry/api';
import type { LLMClient } from '../client/llm-client.ts';
import { isLLMError } from '../spec/errors.ts';
import type { RouteAttempt } from '../spec/types.ts';
import type { Deployment } from './deployment.ts';
import { summarize } from './failures.ts';
import type { Clock } from './health.ts';
import type { RouterInstruments } from './instruments.ts';
import type { CallPlan } from './plan.ts';

/** What an operation is given for one attempt. */
export interface AttemptContext {
  deployment: Deployment;
  client: LLMClient;
  /** The caller's signal, combined with the attempt's own when it can be cancelled (hedging, TTFT). */
  signal: AbortSignal | undefined;
  /** Cancels this attempt alone (present when hedging or a TTFT limit may need to). */
  controller: AbortController | undefined;
}

export type Operation<T> = (context: AttemptContext) => Promise<T>;

export interface RunOptions<T> {
  signal: AbortSignal | undefined;
  /** Send a second request when the first is late (completions and streams). */
  hedge: boolean;
  /** Attempts get their own abort controller (hedging, a TTFT limit). */
  cancellable: boolean;
  /** Which latency a success feeds: whole calls, a stream's first event, or none (token counts). */
  track: 'latency' | 'ttft' | undefined;
  /** A stream stays in flight after its attempt resolves: the caller ends it with `attempt.end()`. */
  keepsRunning: boolean;
  /** Tokens a successful value used, for the per-minute usage. */
  tokensOf?: ((value: T) => number) | undefined;
  /** Releases a value that lost a hedge race (a stream's iterator). */
  discard?: ((value: T) => void) | undefined;
}

/** What attempts need from the router. */
export interface AttemptSettings {
  clock: Clock;
  instruments: RouterInstruments;
  /** The window successes and failures are counted in. */
  windowMs: number;
}

export type Settled<T> =
  | { attempt: Attempt<T>; ok: true; value: T }
  | { attempt: Attempt<T>; ok: false; error: unknown };

export class Attempt<T> {
  readonly deployment: Deployment;
  readonly record: RouteAttempt;
  readonly controller: AbortController | undefined;
  readonly promise: Promise<T>;
  readonly #startedAt = performance.now();
  readonly #settings: AttemptSettings;
  readonly #span: Span | undefined;
  #reported = false;
  #released = false;
  #settled: Promise<Settled<T>> | undefined;

  constructor(
    settings: AttemptSettings,
    plan: CallPlan,
    next: { deployment: Deployment; alternatives: boolean },
    hedge: boolean,
    options: RunOptions<T>,
    operation: Operation<T>,
  ) {
    const { deployment } = next;
    this.#settings = settings;
    this.deployment = deployment;
    this.record = { deployment: deployment.id, ms: 0 };
    if (hedge) this.record.hedge = true;
    plan.attempts.push(this.record);
    plan.tried.push(deployment);
    deployment.stats.inFlight++;
    deployment.stats.usage.add(1, 0, settings.clock.now());
    this.#span = settings.instruments.startAttempt(deployment, plan.target.name, hedge);
    let signal = options.signal;
    if (options.cancellable) {
      this.controller = new AbortController();
      signal = signal ? AbortSignal.any([signal, this.controller.signal]) : this.controller.signal;
    }
    // Retries inside one deployment only when no other can take the call.
    const context: AttemptContext = {
      deployment,
      client: deployment.client(!next.alternatives),
      signal,
      controller: this.controller,
    };
    let promise: Promise<T>;
    try {
      promise = settings.instruments.within(this.#span, () => operation(context));
    } catch (error) {
      promise = Promise.reject(error);
    }
    this.promise = promise;
  }

  /** The outcome as a value (never rejects), for racing. */
  get settled(): Promise<Settled<T>> {
    this.#settled ??= this.promise.then(
      (value) => ({ attempt: this, ok: true as const, value }),
      (error: unknown) => ({ attempt: this, ok: false as const, error }),
    );
    return this.#settled;
  }

  #elapsed(): number {
    return performance.now() - this.#startedAt;
  }

  succeeded(options: RunOptions<T>, value: T): void {
    const ms = this.#elapsed();
    this.record.ms = Math.round(ms);
    const { stats } = this.deployment;
    const now = this.#settings.clock.now();
    stats.countSuccess(now, this.#settings.windowMs);
    if (options.track === 'latency') stats.latency.add(ms, now);
    else if (options.track === 'ttft') stats.ttft.add(ms, now);
    const tokens = options.tokensOf?.(value);
    if (tokens) stats.usage.add(0, tokens, now);
    // A stream stays in flight until its caller has read it: `end()` then.
    if (!options.keepsRunning) this.end();
  }

  failed(options: RunOptions<T>, error: unknown): void {
    const ms = this.#elapsed();
    this.record.ms = Math.round(ms);
    this.record.error = summarize(error);
    // A timeout took at least this long: the latency strategy should know, not only the cooldown.
    if (isLLMError(error) && error.code === 'timeout' && options.track) {
      const track = options.track === 'latency' ? this.deployment.stats.latency : this.deployment.stats.ttft;
      track.add(ms, this.#settings.clock.now());
    }
    this.end(error);
  }

  /** Lost a hedge race: cancelled at once, its estimated prompt still counted as spent. */
  cancel(plan: CallPlan, discard: ((value: T) => void) | undefined): void {
    this.record.ms = Math.round(this.#elapsed());
    this.record.cancelled = true;
    const inputTokens = plan.size?.estimate() ?? plan.inputTokens ?? 0;
    const costUsd = this.deployment.estimatedCostUsd(inputTokens, 0);
    if (costUsd !== undefined) this.record.costUsd = costUsd;
    this.deployment.stats.usage.add(0, inputTokens, this.#settings.clock.now());
    this.deployment.spend?.record(this.deployment.provider, this.deployment.model, {
      inputTokens,
      outputTokens: 0,
      totalTokens: inputTokens,
      ...(costUsd === undefined ? {} : { costUsd }),
    });
    this.#report('cancelled');
    this.controller?.abort(new Error('another deployment answered first'));
    void this.settled.then((outcome) => {
      if (outcome.ok) discard?.(outcome.value);
      this.#release();
    });
  }

  /** Reports the outcome and leaves flight, once: `error` for a failure, nothing for a success. */
  end(error?: unknown): void {
    this.#report(error === undefined ? 'success' : { error });
    this.#release();
  }

  #report(outcome: 'success' | 'cancelled' | { error: unknown }): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#settings.instruments.endAttempt(this.deployment, this.#span, outcome);
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    this.deployment.stats.inFlight--;
  }
}
