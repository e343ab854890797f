/**
 * Fault injection. A fault is named by the request header `x-emulator-fault: <kind>` (every attempt
 * fails) or `<kind>:<n>` (the first n attempts of an identical request fail, later ones succeed), or by
 * the `fault` option of `startEmulator` for every request.
 */
import { createHash } from 'node:crypto';

export const FAULT_KINDS = [
  'rate-limit',
  'server-error',
  'unavailable',
  'overloaded',
  'hang',
  'stall',
  'reset',
  'malformed',
  'stream-error',
  'content-filter',
] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export const FAULT_DESCRIPTIONS: Readonly<Record<FaultKind, string>> = {
  'rate-limit': '429 with retry-after / retry-after-ms and the provider’s rate-limit body',
  'server-error': '500 with the provider’s internal-error body',
  unavailable: '503 service unavailable',
  overloaded: '529 overloaded (Anthropic’s status; other providers’ bodies)',
  hang: 'accepts the request and never sends response headers',
  stall: 'sends the headers and part of the body (a few stream chunks), then goes silent',
  reset: 'destroys the connection without a response',
  malformed: '200 whose body (or first stream event) is broken JSON',
  'stream-error': 'streams: an error event after a few chunks; otherwise a 500',
  'content-filter': 'the provider’s content-filter refusal (Azure: 400 code content_filter)',
};

export interface FaultSpec {
  kind: FaultKind;
  /** Fail only the first `times` identical attempts; undefined = always. */
  times?: number;
}

export function parseFault(value: string | undefined): FaultSpec | undefined | Error {
  if (value === undefined || value.trim() === '' || value === 'none') return undefined;
  const [kind, times] = value.trim().split(':');
  if (!(FAULT_KINDS as readonly string[]).includes(kind!)) {
    return new Error(`unknown fault kind "${kind}"; known: ${FAULT_KINDS.join(', ')}`);
  }
  if (times === undefined) return { kind: kind as FaultKind };
  const n = Number(times);
  if (!Number.isInteger(n) || n < 0)
    return new Error(`fault count must be a non-negative integer, got "${times}"`);
  return { kind: kind as FaultKind, times: n };
}

/** Counts attempts of identical requests so that `kind:n` fails exactly the first n. */
export class FaultCounter {
  readonly #seen = new Map<string, number>();

  /** True when this attempt should fail. */
  shouldFail(spec: FaultSpec, identity: string): boolean {
    if (spec.times === undefined) return true;
    const key = createHash('sha256').update(spec.kind).update('\0').update(identity).digest('hex');
    const count = this.#seen.get(key) ?? 0;
    this.#seen.set(key, count + 1);
    return count < spec.times;
  }
}
