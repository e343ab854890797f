/**
 * `node bench/gateway-path.ts [path] [--rounds=N] [--secs=S] [--latency]`: one path of bench/gateway.ts,
 * alone and repeatable — the tool for measuring a change to the gateway. The same processes as the full
 * benchmark (the stub, `bench/gateway-server.ts`, the load worker) and no Portkey; each round is 64
 * connections for `--secs` (default 6) and prints requests/s and the gateway's CPU µs a request, or, with
 * `--latency`, p50/p90/p99 at 500 requests/s. `path` is a row of the gateway section: `pass-through`
 * (a virtual key; the default), `master` (the master key) or `translated`.
 *
 * For an A/B, check the two versions out side by side and run this in each, alternately, several times:
 * the machine's speed drifts between runs by more than most changes (bench/RESULTS.md, "run to run").
 */
import { createKey, SETTINGS, startOurGateway, targets } from './gateway.ts';
import type { LatencyResult, ThroughputResult } from './gateway-load-worker.ts';
import type { TargetName } from './gateway-report.ts';
import { runWorker, startServer } from './processes.ts';
import { spread, spreadText } from './stats.ts';

const PATHS: Record<string, TargetName> = {
  'pass-through': 'llm-factory pass-through',
  master: 'llm-factory pass-through, master key',
  translated: 'llm-factory translated',
};

const args = process.argv.slice(2);
const option = (name: string, fallback: number) => {
  const value = args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  const parsed = value === undefined ? fallback : Number(value);
  if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number`);
  return parsed;
};
const pathName = args.find((arg) => !arg.startsWith('--')) ?? 'pass-through';
const name = PATHS[pathName];
if (!name) throw new Error(`Unknown path ${pathName}: one of ${Object.keys(PATHS).join(', ')}`);
const rounds = option('rounds', 3);
const seconds = option('secs', 6);
const latency = args.includes('--latency');

const stub = await startServer('stub-server.ts');
const ours = await startOurGateway(stub.url);
try {
  const target = targets(stub.url, ours.url, '', await createKey(ours.url))[name];
  const run = <T>(job: Parameters<typeof runWorker>[1]) =>
    runWorker<T>('gateway-load-worker.ts', job, { servers: [stub, ours], timeoutMs: 600_000 });
  await run({ kind: 'throughput', target, connections: SETTINGS.connections, durationS: 2 });
  const rates: number[] = [];
  for (let round = 1; round <= rounds; round++) {
    if (latency) {
      const measured = await run<LatencyResult>({
        kind: 'latency',
        target,
        rate: SETTINGS.rate,
        durationS: seconds,
      });
      const ms = (value: number) => value.toFixed(3);
      console.log(
        `${pathName} round ${round}: p50 ${ms(measured.p50Ms)} ms, p90 ${ms(measured.p90Ms)} ms, p99 ${ms(measured.p99Ms)} ms`,
      );
      continue;
    }
    const before = ours.cpuMs();
    const measured = await run<ThroughputResult>({
      kind: 'throughput',
      target,
      connections: SETTINGS.connections,
      durationS: seconds,
    });
    const after = ours.cpuMs();
    const cpu =
      before !== undefined && after !== undefined
        ? ((after - before) * 1000) / measured.requests
        : Number.NaN;
    rates.push(measured.requestsPerSecond);
    console.log(
      `${pathName} round ${round}: ${Math.round(measured.requestsPerSecond)} req/s, ${cpu.toFixed(1)} µs CPU a request, ${measured.non2xx} non-2xx`,
    );
  }
  if (rates.length > 0) console.log(`${pathName}: ${spreadText(spread(rates))} req/s (median, min–max)`);
} finally {
  await ours.stop();
  await stub.stop();
}
process.exit(0);
