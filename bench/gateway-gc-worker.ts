/**
 * `node bench/gateway-gc-worker.ts '<job>'`, run by bench/gateway-gc.ts: our gateway in this process (with or
 * without `tuneGatewayProcess()`), one path of bench/gateway.ts driven at 64 connections by the load worker in
 * its own process, and what V8's garbage collector did meanwhile, read with `v8.GCProfiler`: the young-
 * generation collections (scavenges), their time, what they moved to the old generation, and the full GCs.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GCProfiler } from 'node:v8';
import { tuneGatewayProcess } from '../src/gateway/process-tuning.ts';
import { startGateway } from '../src/gateway/server.ts';
import { createKey, MASTER_KEY, SETTINGS, targets } from './gateway.ts';
import { benchGatewayConfig } from './gateway-config.ts';
import type { ThroughputResult } from './gateway-load-worker.ts';
import type { TargetName } from './gateway-report.ts';
import { runWorker } from './processes.ts';
import { emitResult } from './worker-support.ts';

export interface GcJob {
  stub: string;
  path: TargetName;
  /** As `llmf serve` runs (pretenuring off), or with V8's defaults. */
  tuned: boolean;
  seconds: number;
}

export interface GcResult {
  requestsPerSecond: number;
  scavenges: number;
  scavengeMs: number;
  /** Old-generation growth across the scavenges: what they promoted. */
  promotedMB: number;
  fullGcs: number;
}

interface GcStatistic {
  gcType: string;
  cost: number;
  beforeGC: { heapSpaceStatistics: Array<{ spaceName: string; spaceUsedSize: number }> };
  afterGC: { heapSpaceStatistics: Array<{ spaceName: string; spaceUsedSize: number }> };
}

const OLD_SPACES = new Set(['old_space', 'code_space', 'lo_space', 'trusted_space', 'trusted_lo_space']);

function oldBytes(spaces: Array<{ spaceName: string; spaceUsedSize: number }>): number {
  return spaces.reduce((sum, space) => sum + (OLD_SPACES.has(space.spaceName) ? space.spaceUsedSize : 0), 0);
}

const job = JSON.parse(process.argv[2] ?? '{}') as GcJob;
if (job.tuned) tuneGatewayProcess();
const stateDir = mkdtempSync(join(tmpdir(), 'llmf-bench-gc-'));
const gateway = await startGateway({
  config: benchGatewayConfig({ stub: job.stub, masterKey: MASTER_KEY, stateDir, paced: SETTINGS.paced }),
  port: 0,
});
try {
  const target = targets(job.stub, gateway.url, '', await createKey(gateway.url))[job.path];
  const load = (durationS: number) =>
    runWorker<ThroughputResult>('gateway-load-worker.ts', {
      kind: 'throughput',
      target,
      connections: SETTINGS.connections,
      durationS,
    });
  // The warm-up is where V8 makes its pretenuring decisions: profiled from after it, as the benchmark measures.
  await load(2);
  const profiler = new GCProfiler();
  profiler.start();
  const measured = await load(job.seconds);
  const statistics = (profiler.stop()?.statistics ?? []) as GcStatistic[];
  const scavenges = statistics.filter((gc) => gc.gcType === 'Scavenge' || gc.gcType === 'MinorMarkSweep');
  const result: GcResult = {
    requestsPerSecond: measured.requestsPerSecond,
    scavenges: scavenges.length,
    scavengeMs: scavenges.reduce((sum, gc) => sum + gc.cost, 0) / 1000,
    promotedMB:
      scavenges.reduce(
        (sum, gc) =>
          sum +
          Math.max(0, oldBytes(gc.afterGC.heapSpaceStatistics) - oldBytes(gc.beforeGC.heapSpaceStatistics)),
        0,
      ) /
      2 ** 20,
    fullGcs: statistics.filter((gc) => gc.gcType === 'MarkSweepCompact').length,
  };
  emitResult(result);
} finally {
  await gateway.close();
  rmSync(stateDir, { recursive: true, force: true });
}
process.exit(0);
