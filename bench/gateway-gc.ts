/**
 * `node bench/gateway-gc.ts [path] [--rounds=N] [--secs=S]`: the gateway's garbage collection on one path of
 * bench/gateway.ts (`pass-through`, a virtual key, by default; `master`; `translated`) at 64 connections, as
 * `llmf serve` runs it (V8's allocation-site pretenuring off, `tuneGatewayProcess()`) and with V8's defaults,
 * a fresh gateway process per run, the two interleaved. Per run: requests/s, scavenges and their time, what
 * they promoted to the old generation, full GCs (bench/gateway-gc-worker.ts); then medians. The figures behind
 * docs/decisions/0010-gateway.md ("allocation-site pretenuring off"); copied by hand into bench/RESULTS.md.
 */

import type { GcJob, GcResult } from './gateway-gc-worker.ts';
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
const path = PATHS[pathName];
if (!path) throw new Error(`Unknown path ${pathName}: one of ${Object.keys(PATHS).join(', ')}`);
const rounds = option('rounds', 3);
const seconds = option('secs', 6);

const VARIANTS = [
  ['as llmf serve (pretenuring off)', true],
  ["V8's defaults", false],
] as const;
const results = new Map<string, GcResult[]>();
const stub = await startServer('stub-server.ts');
try {
  for (let round = 1; round <= rounds; round++) {
    // Alternate which goes first: the machine's speed drifts.
    const order = round % 2 === 1 ? VARIANTS : [...VARIANTS].reverse();
    for (const [label, tuned] of order) {
      const job: GcJob = { stub: stub.url, path, tuned, seconds };
      const result = await runWorker<GcResult>('gateway-gc-worker.ts', job, { timeoutMs: 300_000 });
      results.set(label, [...(results.get(label) ?? []), result]);
      console.log(
        `${pathName} round ${round}, ${label}: ${Math.round(result.requestsPerSecond)} req/s; ${result.scavenges} scavenges, ${result.scavengeMs.toFixed(0)} ms; promoted ${result.promotedMB.toFixed(0)} MB; ${result.fullGcs} full GCs`,
      );
    }
  }
} finally {
  await stub.stop();
}
console.log(
  `\n| ${pathName}, ${seconds} s at 64 connections | requests/s | scavenge ms | promoted MB | full GCs |`,
);
console.log('| --- | --- | --- | --- | --- |');
for (const [label, runs] of results) {
  const column = (pick: (run: GcResult) => number, digits = 3) => spreadText(spread(runs.map(pick)), digits);
  console.log(
    `| ${label} | ${column((run) => run.requestsPerSecond)} | ${column((run) => run.scavengeMs)} | ${column((run) => run.promotedMB)} | ${column((run) => run.fullGcs)} |`,
  );
}
process.exit(0);
