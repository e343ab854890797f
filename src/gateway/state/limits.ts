/**
 * The limit semantics both stores share (the Redis store mirrors `brokenLimits` in Lua; one test suite holds
 * both to it).
 *
 * `rpm` and `tpm` count over a rolling minute kept as one-second buckets: a reservation counts in the bucket
 * of its `at`, and a check adds up the current bucket and the 60 before it. The counted span is therefore 60
 * to 61 s, never less: a key never gets more than its limit in any 60 s, and at worst a request is refused up
 * to 1 s before an exact log would allow it (under steady saturation, at least 60/61 = 98.4% of the limit
 * passes). Tokens are reserved from the estimate and corrected to the actual usage in the bucket they were
 * reserved in; a call whose actual tokens exceed its estimate can take the minute past `tpm` by the excess.
 *
 * Budgets are reserved with the estimated cost and settled with the actual one, in integer nano-dollars so
 * that sums are exact in both stores. Spend is charged to the UTC day or month the call finished in (or to
 * the key's lifetime); a reservation holds budget until it is settled or its lease ends (a process that died
 * mid-call cannot hold a budget forever).
 */
import type { BudgetPeriod, KeyRecord, KeySpend, Refusal, Reservation } from './types.ts';

export const WINDOW_MS = 60_000;
export const BUCKET_MS = 1_000;
/** Buckets before the current one that still count. */
export const WINDOW_BUCKETS = WINDOW_MS / BUCKET_MS;
/** How long a reservation holds budget when its call is never settled. */
export const DEFAULT_RESERVATION_TTL_MS = 15 * 60_000;
/** `Retry-After` when only calls in flight hold the rest of a budget: they may settle for less. */
export const IN_FLIGHT_RETRY_MS = 1_000;
/** `Retry-After` when the store cannot be reached. */
export const UNAVAILABLE_RETRY_MS = 1_000;

const NANOS_PER_USD = 1_000_000_000;

/** Dollars as integer nano-dollars: what the stores add up. */
export function toNanos(usd: number): number {
  return Math.round(usd * NANOS_PER_USD);
}

export function toUsd(nanos: number): number {
  return nanos / NANOS_PER_USD;
}

export function bucketOf(at: number): number {
  return Math.floor(at / BUCKET_MS);
}

/** The oldest bucket still counted at `at`. */
export function firstLiveBucket(at: number): number {
  return bucketOf(at) - WINDOW_BUCKETS;
}

export interface Period {
  /** Epoch ms; 0 for the lifetime. */
  start: number;
  /** Epoch ms; undefined for the lifetime. */
  end: number | undefined;
}

/** The UTC calendar period `at` falls in. */
export function periodAt(period: BudgetPeriod | undefined, at: number): Period {
  if (period === undefined) return { start: 0, end: undefined };
  const date = new Date(at);
  const year = date.getUTCFullYear();
  const month = date.getUTCMonth();
  if (period === 'month') return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 1) };
  const day = date.getUTCDate();
  return { start: Date.UTC(year, month, day), end: Date.UTC(year, month, day + 1) };
}

/** What the window and the period hold when a reservation is checked. */
export interface Usage {
  requests: number;
  tokens: number;
  spentNanos: number;
  reservedNanos: number;
}

export type LimitReason = 'rpm' | 'tpm' | 'budget';

/**
 * The limits `reservation` would break. A reservation of more tokens than `tpm` passes when the window holds
 * none (it then takes the whole minute), so a large `maxTokens` does not lock a key out for good. A spent
 * budget refuses even a call of unknown price.
 */
export function brokenLimits(record: KeyRecord, reservation: Reservation, usage: Usage): LimitReason[] {
  const reasons: LimitReason[] = [];
  if (record.rpm !== undefined && usage.requests + 1 > record.rpm) reasons.push('rpm');
  if (
    record.tpm !== undefined &&
    reservation.tokens > 0 &&
    usage.tokens + reservation.tokens > record.tpm &&
    !(reservation.tokens > record.tpm && usage.tokens <= 0)
  ) {
    reasons.push('tpm');
  }
  if (record.budgetUsd !== undefined) {
    const budget = toNanos(record.budgetUsd);
    const held = usage.spentNanos + usage.reservedNanos;
    if (held >= budget || held + toNanos(reservation.costUsd) > budget) reasons.push('budget');
  }
  return reasons;
}

/** One second of the window: what was reserved in it. */
export interface BucketCount {
  bucket: number;
  requests: number;
  tokens: number;
}

/** Ms from `at` until the oldest buckets have freed `need` of what `count` counts. */
function windowRetryMs(
  buckets: readonly BucketCount[],
  need: number,
  count: (bucket: BucketCount) => number,
  at: number,
): number {
  const leaves = (bucket: number) => (bucket + WINDOW_BUCKETS + 1) * BUCKET_MS - at;
  let freed = 0;
  for (const bucket of [...buckets].sort((a, b) => a.bucket - b.bucket)) {
    freed += count(bucket);
    if (freed >= need) return leaves(bucket.bucket);
  }
  return leaves(bucketOf(at));
}

export function formatUsd(usd: number): string {
  return `$${Number(usd.toFixed(6))}`;
}

function seconds(ms: number): string {
  return `${Math.max(1, Math.ceil(ms / 1000))} s`;
}

function keyLabel(record: KeyRecord): string {
  return `key "${record.name}" (${record.prefix})`;
}

function budgetRefusal(record: KeyRecord, reservation: Reservation, usage: Usage): Refusal {
  const budgetUsd = record.budgetUsd ?? 0;
  const spentUsd = toUsd(usage.spentNanos);
  const period = periodAt(record.budgetPeriod, reservation.at);
  const which = record.budgetPeriod === 'day' ? 'daily ' : record.budgetPeriod === 'month' ? 'monthly ' : '';
  const base = `Budget exceeded: ${keyLabel(record)} has spent ${formatUsd(spentUsd)} of its ${formatUsd(budgetUsd)} ${which}budget`;
  if (
    usage.spentNanos + toNanos(reservation.costUsd) <= toNanos(budgetUsd) &&
    usage.spentNanos < toNanos(budgetUsd)
  ) {
    return {
      reason: 'budget',
      message: `${base}, and calls in flight hold ${formatUsd(toUsd(usage.reservedNanos))} of the rest; this call is estimated at ${formatUsd(reservation.costUsd)}.`,
      retryAfterMs: IN_FLIGHT_RETRY_MS,
    };
  }
  if (period.end === undefined) {
    return { reason: 'budget', message: `${base}; it is a lifetime budget and does not reset.` };
  }
  return {
    reason: 'budget',
    message: `${base}; it resets at ${new Date(period.end).toISOString()}.`,
    retryAfterMs: period.end - reservation.at,
  };
}

/**
 * The refusal to give for `reasons` (from `brokenLimits`): the one that ends last, so a client that waits its
 * `Retry-After` is not refused at once by another limit.
 */
export function refusalFor(
  reasons: readonly LimitReason[],
  record: KeyRecord,
  reservation: Reservation,
  usage: Usage,
  buckets: readonly BucketCount[],
): Refusal {
  const refusals = reasons.map((reason): Refusal => {
    if (reason === 'budget') return budgetRefusal(record, reservation, usage);
    if (reason === 'rpm') {
      const rpm = record.rpm ?? 0;
      const retryAfterMs = windowRetryMs(
        buckets,
        usage.requests + 1 - rpm,
        (b) => b.requests,
        reservation.at,
      );
      return {
        reason,
        message: `Rate limit: ${keyLabel(record)} allows ${rpm} requests a minute and has made ${usage.requests} in the last one; try again in ${seconds(retryAfterMs)}.`,
        retryAfterMs,
      };
    }
    const tpm = record.tpm ?? 0;
    const need = usage.tokens + Math.min(reservation.tokens, tpm) - tpm;
    const retryAfterMs = windowRetryMs(buckets, need, (b) => b.tokens, reservation.at);
    const whole =
      reservation.tokens > tpm
        ? ' (more than the whole limit: it passes when the last minute holds none)'
        : '';
    return {
      reason,
      message: `Token limit: ${keyLabel(record)} allows ${tpm} tokens a minute, ${usage.tokens} are taken and this request needs ${reservation.tokens}${whole}; try again in ${seconds(retryAfterMs)}.`,
      retryAfterMs,
    };
  });
  const last = (refusal: Refusal) => refusal.retryAfterMs ?? Number.POSITIVE_INFINITY;
  return refusals.reduce((latest, refusal) => (last(refusal) > last(latest) ? refusal : latest));
}

/** The refusal of a key the gateway holds but the store no longer has (refused as a revoked one). */
export function missingKeyRefusal(record: KeyRecord): Refusal {
  return { reason: 'revoked', message: `The ${keyLabel(record)} is not in the store.` };
}

/** The refusal of a key that can no longer be used, or undefined. `revokedAt` may come from the store. */
export function keyRefusal(record: KeyRecord, at: number, revokedAt = record.revokedAt): Refusal | undefined {
  if (revokedAt !== undefined) {
    return {
      reason: 'revoked',
      message: `The ${keyLabel(record)} was revoked at ${new Date(revokedAt).toISOString()}.`,
    };
  }
  if (record.expiresAt !== undefined && at >= record.expiresAt) {
    return {
      reason: 'expired',
      message: `The ${keyLabel(record)} expired at ${new Date(record.expiresAt).toISOString()}.`,
    };
  }
  return undefined;
}

/** Totals of one period, as the stores keep them. */
export interface PeriodTotals {
  spentNanos: number;
  inputTokens: number;
  outputTokens: number;
  requests: number;
  unpricedRequests: number;
}

export const EMPTY_TOTALS: PeriodTotals = {
  spentNanos: 0,
  inputTokens: 0,
  outputTokens: 0,
  requests: 0,
  unpricedRequests: 0,
};

export function keySpend(
  record: KeyRecord,
  period: Period,
  totals: PeriodTotals,
  reservedNanos: number,
): KeySpend {
  return {
    keyId: record.id,
    spendUsd: toUsd(totals.spentNanos),
    inputTokens: totals.inputTokens,
    outputTokens: totals.outputTokens,
    requests: totals.requests,
    unpricedRequests: totals.unpricedRequests,
    reservedUsd: toUsd(reservedNanos),
    periodStart: period.start,
    periodEnd: period.end,
    budgetUsd: record.budgetUsd,
    budgetPeriod: record.budgetPeriod,
  };
}
