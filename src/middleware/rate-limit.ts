/**
 * Client-side rate limits, off by default. One limiter per provider, model and `rateLimit` settings, shared
 * by every client of the process with the same three (whatever their key or server): request and token
 * budgets per minute that QUEUE rather than fail; the provider's own
 * rate-limit headers pause the queue when they say the budget is spent; and an adaptive concurrency
 * limit that halves on a 429 and grows back by one after a run of successes (AIMD, as TCP does).
 *
 * Hand-written rather than a library: p-queue and bottleneck count requests per interval, but none
 * weighs requests by tokens, reads the server's remaining/reset headers or adapts concurrency to 429s —
 * and those are the three things that matter here.
 */
import { abortError, sleep } from '../http/abort.ts';
import { type HeaderMap, headerValue } from '../http/retry-timing.ts';
import type { NormalizedRequest } from '../providers/provider.ts';
import { isLLMError } from '../spec/errors.ts';
import type { CallInfo, Middleware } from './types.ts';

export interface RateLimitOptions {
  /** Requests per minute. Default: unlimited. */
  requestsPerMinute?: number;
  /** Tokens (prompt estimate + maxTokens) per minute. Default: unlimited. */
  tokensPerMinute?: number;
  /** Most calls in flight; with `adaptive`, the ceiling it grows back to. Default 64. */
  maxConcurrency?: number;
  /** Halve concurrency on a 429 and grow it back by one after `maxConcurrency` successes. Default true. */
  adaptive?: boolean;
}

export interface Clock {
  now(): number;
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

// The project's one `sleep`: it removes its abort listener when it wakes, so a long-lived signal shared by
// many calls does not collect one listener per wait.
const realClock: Clock = { now: () => Date.now(), sleep };

/** A bucket that refills continuously to `capacity` per minute. */
class Bucket {
  level: number;
  readonly capacity: number;
  #at: number;
  constructor(capacity: number, now: number) {
    this.capacity = capacity;
    this.level = capacity;
    this.#at = now;
  }
  refill(now: number): void {
    this.level = Math.min(this.capacity, this.level + ((now - this.#at) * this.capacity) / 60_000);
    this.#at = now;
  }
  /** Ms until `amount` is available (an amount above capacity waits for a full bucket). */
  waitFor(amount: number): number {
    const need = Math.min(amount, this.capacity) - this.level;
    return need <= 0 ? 0 : Math.ceil((need * 60_000) / this.capacity);
  }
}

/** Parses OpenAI's reset durations ("6ms", "1s", "6m0s", "1h2m3.5s") and RFC 3339 times to ms from now. */
export function resetInMs(value: string | undefined, now: number): number | undefined {
  if (!value) return undefined;
  if (/^\d{4}-\d\d-\d\dT/.test(value)) {
    const at = Date.parse(value);
    return Number.isNaN(at) ? undefined : Math.max(0, at - now);
  }
  let total = 0;
  let matched = false;
  for (const [, amount, unit] of value.matchAll(/(\d+(?:\.\d+)?)(ms|h|m|s)/g)) {
    matched = true;
    const n = Number(amount);
    total += unit === 'ms' ? n : unit === 's' ? n * 1000 : unit === 'm' ? n * 60_000 : n * 3_600_000;
  }
  return matched ? total : undefined;
}

/** One budget a provider reports in its response headers. */
export interface RateLimitBudget {
  kind: 'requests' | 'tokens' | 'input-tokens' | 'output-tokens';
  remaining: number;
  /** The budget's size, when the provider says. */
  limit: number | undefined;
  /** Ms until it refills, when the provider says. */
  resetInMs: number | undefined;
}

const BUDGET_HEADERS: ReadonlyArray<readonly [RateLimitBudget['kind'], string, string, string]> = [
  ['requests', 'x-ratelimit-remaining-requests', 'x-ratelimit-limit-requests', 'x-ratelimit-reset-requests'],
  ['tokens', 'x-ratelimit-remaining-tokens', 'x-ratelimit-limit-tokens', 'x-ratelimit-reset-tokens'],
  [
    'requests',
    'anthropic-ratelimit-requests-remaining',
    'anthropic-ratelimit-requests-limit',
    'anthropic-ratelimit-requests-reset',
  ],
  [
    'tokens',
    'anthropic-ratelimit-tokens-remaining',
    'anthropic-ratelimit-tokens-limit',
    'anthropic-ratelimit-tokens-reset',
  ],
  [
    'input-tokens',
    'anthropic-ratelimit-input-tokens-remaining',
    'anthropic-ratelimit-input-tokens-limit',
    'anthropic-ratelimit-input-tokens-reset',
  ],
  [
    'output-tokens',
    'anthropic-ratelimit-output-tokens-remaining',
    'anthropic-ratelimit-output-tokens-limit',
    'anthropic-ratelimit-output-tokens-reset',
  ],
];

/**
 * The budgets a response's headers report (OpenAI's `x-ratelimit-*`, Anthropic's `anthropic-ratelimit-*`),
 * read once here for the limiter and the router.
 */
export function rateLimitBudgets(headers: HeaderMap, now: number): RateLimitBudget[] {
  const budgets: RateLimitBudget[] = [];
  for (const [kind, remainingHeader, limitHeader, resetHeader] of BUDGET_HEADERS) {
    const left = headerValue(headers, remainingHeader);
    if (left === undefined) continue;
    const remaining = Number(left);
    if (!Number.isFinite(remaining)) continue;
    const limit = Number(headerValue(headers, limitHeader));
    budgets.push({
      kind,
      remaining,
      limit: Number.isFinite(limit) && limit > 0 ? limit : undefined,
      resetInMs: resetInMs(headerValue(headers, resetHeader), now),
    });
  }
  return budgets;
}

export class RateLimiter {
  readonly #requests: Bucket | undefined;
  readonly #tokens: Bucket | undefined;
  readonly #ceiling: number;
  readonly #adaptive: boolean;
  readonly #clock: Clock;
  #limit: number;
  #inFlight = 0;
  #successes = 0;
  #pausedUntil = 0;
  readonly #waiters: Array<() => void> = [];

  constructor(options: RateLimitOptions, clock: Clock = realClock) {
    this.#clock = clock;
    const now = clock.now();
    if (options.requestsPerMinute) this.#requests = new Bucket(options.requestsPerMinute, now);
    if (options.tokensPerMinute) this.#tokens = new Bucket(options.tokensPerMinute, now);
    this.#ceiling = options.maxConcurrency ?? 64;
    this.#limit = this.#ceiling;
    this.#adaptive = options.adaptive ?? true;
  }

  /** Current concurrency limit (it moves when adaptive). */
  get concurrency(): number {
    return this.#limit;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** Waits for a concurrency slot and for the budgets; resolves when the call may go. */
  async acquire(tokens: number, signal?: AbortSignal): Promise<void> {
    while (this.#inFlight >= this.#limit) {
      await new Promise<void>((resolve, reject) => {
        const wake = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const index = this.#waiters.indexOf(wake);
          if (index !== -1) this.#waiters.splice(index, 1);
          reject(abortError(signal!));
        };
        if (signal?.aborted) return reject(abortError(signal));
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiters.push(wake);
      });
    }
    this.#inFlight++;
    try {
      for (;;) {
        const now = this.#clock.now();
        this.#requests?.refill(now);
        this.#tokens?.refill(now);
        const wait = Math.max(
          this.#pausedUntil - now,
          this.#requests?.waitFor(1) ?? 0,
          this.#tokens?.waitFor(tokens) ?? 0,
        );
        if (wait <= 0) break;
        await this.#clock.sleep(wait, signal);
      }
      if (this.#requests) this.#requests.level -= 1;
      if (this.#tokens) this.#tokens.level -= Math.min(tokens, this.#tokens.capacity);
    } catch (error) {
      this.release();
      throw error;
    }
  }

  /** Frees the slot taken by `acquire`. */
  release(): void {
    this.#inFlight--;
    this.#waiters.shift()?.();
  }

  /** Corrects the token budget once the real usage is known. */
  settle(estimated: number, actual: number): void {
    if (this.#tokens)
      this.#tokens.level = Math.min(this.#tokens.capacity, this.#tokens.level + estimated - actual);
  }

  onSuccess(): void {
    if (!this.#adaptive || this.#limit >= this.#ceiling) return;
    if (++this.#successes >= this.#limit) {
      this.#successes = 0;
      this.#limit++;
      this.#waiters.shift()?.();
    }
  }

  onRateLimited(retryAfterMs: number | undefined): void {
    if (this.#adaptive) {
      this.#limit = Math.max(1, Math.floor(this.#limit / 2));
      this.#successes = 0;
    }
    if (retryAfterMs !== undefined)
      this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + retryAfterMs);
  }

  /** Reads the provider's remaining/reset headers; a spent budget pauses the queue until its reset. */
  observe(headers: HeaderMap): void {
    const now = this.#clock.now();
    for (const budget of rateLimitBudgets(headers, now)) {
      if (budget.remaining > 0 || budget.resetInMs === undefined) continue;
      this.#pausedUntil = Math.max(this.#pausedUntil, now + budget.resetInMs);
    }
  }
}

const shared = new Map<string, RateLimiter>();

/** The limiter for a provider, model and settings in this process, made on first use. */
export function limiterFor(
  call: Pick<CallInfo, 'provider' | 'model'>,
  options: RateLimitOptions,
): RateLimiter {
  const key = `${call.provider}\0${call.model}\0${JSON.stringify(options)}`;
  let limiter = shared.get(key);
  if (!limiter) {
    limiter = new RateLimiter(options);
    shared.set(key, limiter);
  }
  return limiter;
}

/** Feeds the limiter the response headers, and passes them on to an observer further out (a router). */
function observer(limiter: RateLimiter, call: CallInfo): NonNullable<CallInfo['onHeaders']> {
  const outer = call.onHeaders;
  return outer
    ? (headers) => {
        limiter.observe(headers);
        outer(headers);
      }
    : (headers) => limiter.observe(headers);
}

/**
 * The layer. `estimateTokens` gives the prompt's tokens for the token budget (the client passes the
 * provider's local count); `maxTokens` is added, as providers count it against the budget.
 */
export function rateLimitMiddleware(
  options: RateLimitOptions,
  estimateTokens: (request: NormalizedRequest) => number,
): Middleware {
  const run = async <T>(
    call: CallInfo,
    tokens: number,
    go: (call: CallInfo) => Promise<T>,
    used: (result: T) => number | undefined,
  ): Promise<T> => {
    const limiter = limiterFor(call, options);
    await limiter.acquire(tokens, call.signal);
    try {
      const result = await go({ ...call, onHeaders: observer(limiter, call) });
      limiter.onSuccess();
      const actual = used(result);
      if (actual !== undefined) limiter.settle(tokens, actual);
      return result;
    } catch (error) {
      if (isLLMError(error) && error.code === 'rate_limit') limiter.onRateLimited(error.retryAfterMs);
      throw error;
    } finally {
      limiter.release();
    }
  };
  return {
    name: 'rate-limit',
    complete: (request, call, next) =>
      run(
        call,
        estimateTokens(request) + (request.maxTokens ?? 0),
        (inner) => next(request, inner),
        (result) => result.usage.totalTokens || undefined,
      ),
    embed: (batch, call, next) =>
      run(
        call,
        batch.texts.reduce((sum, text) => sum + Math.ceil(text.length / 4), 0),
        (inner) => next(batch, inner),
        () => undefined,
      ),
    // A request slot and a request from the budget; no tokens: counting endpoints generate none and bill none.
    countTokens: (request, call, next) =>
      run(
        call,
        0,
        (inner) => next(request, inner),
        () => undefined,
      ),
    // A native body is not parsed: a slot and a request, its tokens are the caller's to count.
    forward: (native, call, next) =>
      run(
        call,
        0,
        (inner) => next(native, inner),
        () => undefined,
      ),
    async *stream(request, call, next) {
      const limiter = limiterFor(call, options);
      const tokens = estimateTokens(request) + (request.maxTokens ?? 0);
      await limiter.acquire(tokens, call.signal);
      try {
        for await (const event of next(request, { ...call, onHeaders: observer(limiter, call) })) {
          if (event.type === 'finish') limiter.settle(tokens, event.usage.totalTokens);
          yield event;
        }
        limiter.onSuccess();
      } catch (error) {
        if (isLLMError(error) && error.code === 'rate_limit') limiter.onRateLimited(error.retryAfterMs);
        throw error;
      } finally {
        limiter.release();
      }
    },
  };
}
