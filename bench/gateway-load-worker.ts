/**
 * One measurement of bench/gateway.ts, in its own process, against one target (the stub, our gateway or
 * Portkey's): `node bench/gateway-load-worker.ts '<job>'` prints one RESULT line.
 *
 * - `throughput`: autocannon, `connections` keep-alive connections each sending its next request as soon
 *   as its answer is in (closed loop), for `durationS`: requests per second.
 * - `latency`: open loop at a fixed `rate`: a request is sent every 1/rate s whatever the answers do (so a
 *   slow answer cannot hold back the next request and hide itself), over a pool of 64 connections; each
 *   request's time from being sent to its whole body read.
 * - `streams`: `count` streams opened at once and read to their end, over as many connections.
 * - `soak`: autocannon as for `throughput`, for a number of `requests` (the parent samples memory meanwhile).
 *
 * Every job first sends one request and checks its answer (status 200, the canned answer's text), so that a
 * target answering errors fast cannot pass for a fast one; `throughput` also counts non-2xx answers.
 */
import { createRequire } from 'node:module';
import { Pool } from 'undici';
import { emitResult } from './worker-support.ts';

export interface Target {
  /** Origin and path of the chat endpoint. */
  url: string;
  headers: Record<string, string>;
  body: string;
  /** Text every answer must contain. */
  expect: string;
}

export type LoadJob =
  | { kind: 'throughput'; target: Target; connections: number; durationS: number }
  | { kind: 'latency'; target: Target; rate: number; durationS: number }
  | { kind: 'streams'; target: Target; count: number }
  | { kind: 'soak'; target: Target; connections: number; requests: number };

export interface ThroughputResult {
  requestsPerSecond: number;
  requests: number;
  non2xx: number;
  errors: number;
}
export interface LatencyResult {
  /** Each request's ms, in the order sent. */
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requests: number;
  failed: number;
  /** How late the generator sent requests behind their schedule, ms (its own noise). */
  lateP99Ms: number;
}
export interface StreamsResult {
  completed: number;
  failed: number;
  /** Wall time from the first stream opened to the last one ended, ms. */
  wallMs: number;
  /** Data events the slowest and fastest streams carried. */
  eventsMin: number;
  eventsMax: number;
}

interface AutocannonResult {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
  duration: number;
}
type Autocannon = (options: Record<string, unknown>) => Promise<AutocannonResult>;

function parts(url: string): { origin: string; path: string } {
  const parsed = new URL(url);
  return { origin: parsed.origin, path: `${parsed.pathname}${parsed.search}` };
}

/** One request, answered 200 with the canned text, or this throws with what came back instead. */
async function check(pool: Pool, target: Target): Promise<void> {
  const { path } = parts(target.url);
  const response = await pool.request({ path, method: 'POST', headers: target.headers, body: target.body });
  const text = await response.body.text();
  if (response.statusCode !== 200 || !text.includes(target.expect)) {
    throw new Error(`${target.url} answered ${response.statusCode}: ${text.slice(0, 300)}`);
  }
}

async function throughput(
  target: Target,
  connections: number,
  length: { durationS: number } | { requests: number },
): Promise<ThroughputResult> {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  const options = {
    url: target.url,
    method: 'POST',
    headers: target.headers,
    body: target.body,
    connections,
    pipelining: 1,
  };
  const result = await autocannon(
    'requests' in length
      ? { ...options, amount: length.requests }
      : { ...options, duration: length.durationS },
  );
  return {
    requestsPerSecond: result.requests.total / result.duration,
    requests: result.requests.total,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

const quantile = (sorted: Float64Array, q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;

async function latency(pool: Pool, target: Target, rate: number, durationS: number): Promise<LatencyResult> {
  const { path } = parts(target.url);
  const send = async (): Promise<boolean> => {
    const response = await pool.request({ path, method: 'POST', headers: target.headers, body: target.body });
    await response.body.text();
    return response.statusCode === 200;
  };
  const run = (total: number, record: boolean) => {
    const times = new Float64Array(total);
    const late = new Float64Array(total);
    const intervalMs = 1000 / rate;
    let sent = 0;
    let answered = 0;
    let failed = 0;
    const start = performance.now();
    return new Promise<{ times: Float64Array; late: Float64Array; failed: number }>((resolve) => {
      const fire = (index: number) => {
        const sentAt = performance.now();
        late[index] = sentAt - (start + index * intervalMs);
        send()
          .then(
            (ok) => {
              times[index] = performance.now() - sentAt;
              if (!ok) failed++;
            },
            () => {
              times[index] = performance.now() - sentAt;
              failed++;
            },
          )
          .finally(() => {
            if (++answered === total) resolve({ times, late, failed: record ? failed : 0 });
          });
      };
      const tick = () => {
        const due = Math.min(total, Math.floor((performance.now() - start) / intervalMs) + 1);
        while (sent < due) fire(sent++);
        if (sent < total) setTimeout(tick, Math.max(0, start + sent * intervalMs - performance.now()));
      };
      tick();
    });
  };
  await run(rate * 2, false);
  const { times, late, failed } = await run(rate * durationS, true);
  times.sort();
  late.sort();
  return {
    p50Ms: quantile(times, 0.5),
    p90Ms: quantile(times, 0.9),
    p99Ms: quantile(times, 0.99),
    maxMs: times.at(-1) ?? Number.NaN,
    requests: times.length,
    failed,
    lateP99Ms: quantile(late, 0.99),
  };
}

async function streams(target: Target, count: number): Promise<StreamsResult> {
  const { origin, path } = parts(target.url);
  const pool = new Pool(origin, { connections: count, pipelining: 1 });
  let completed = 0;
  let failed = 0;
  let eventsMin = Number.POSITIVE_INFINITY;
  let eventsMax = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: count }, async () => {
      try {
        const response = await pool.request({
          path,
          method: 'POST',
          headers: target.headers,
          body: target.body,
        });
        // Events end with a blank line; one character carried over finds those split between chunks.
        let events = 0;
        let tail = '';
        for await (const chunk of response.body) {
          const piece = (chunk as Buffer).toString('utf8');
          events += (tail.slice(-1) + piece).split('\n\n').length - 1;
          tail = (tail + piece).slice(-16);
        }
        if (response.statusCode === 200 && tail.endsWith('data: [DONE]\n\n')) {
          completed++;
          eventsMin = Math.min(eventsMin, events);
          eventsMax = Math.max(eventsMax, events);
        } else failed++;
      } catch {
        failed++;
      }
    }),
  );
  const wallMs = performance.now() - started;
  await pool.close();
  return { completed, failed, wallMs, eventsMin, eventsMax };
}

async function main(): Promise<void> {
  const job = JSON.parse(process.argv[2] ?? '{}') as LoadJob;
  const pool = new Pool(parts(job.target.url).origin, { connections: 64, pipelining: 1 });
  await check(pool, job.target);
  let result: object;
  if (job.kind === 'throughput') result = await throughput(job.target, job.connections, job);
  else if (job.kind === 'soak') result = await throughput(job.target, job.connections, job);
  else if (job.kind === 'latency') result = await latency(pool, job.target, job.rate, job.durationS);
  else result = await streams(job.target, job.count);
  await pool.close();
  emitResult(result);
}

await main();
