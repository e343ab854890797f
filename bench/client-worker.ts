/**
 * One client, one process, one measurement: warm up, then run `count` operations with `concurrency` in
 * flight and report the process's CPU time (user + system, every thread) over exactly that window.
 *
 *   node bench/client-worker.ts '{"client":"ours","mode":"complete","url":"http://127.0.0.1:1234",…}'
 *
 * Prints one line `RESULT {…}` on stdout.
 */

import { COMPLETION_TEXT, STREAM_TEXT, STREAM_TEXT_CHUNKS } from './canned.ts';
import { type ClientName, createBenchClient } from './clients.ts';
import { emitResult, runWithConcurrency } from './worker-support.ts';

export interface ClientJob {
  client: ClientName;
  mode: 'complete' | 'stream';
  /** The stub's root URL; the worker adds the path that selects the canned answer. */
  url: string;
  /** Streams: the whole body in one write (`burst`) or one HTTP chunk per event (`flushed`). */
  shape?: StreamShape;
  /** A file URL of another build of the library to measure as `ours` (A/B checks of a change). */
  oursEntry?: string;
  warmup: number;
  count: number;
  concurrency: number;
}

export type StreamShape = 'burst' | 'flushed';

/** The stub path that serves `mode` (and, for streams, `shape`). */
function stubPath(mode: 'complete' | 'stream', shape: StreamShape = 'burst'): string {
  if (mode === 'complete') return '/complete/v1';
  return shape === 'flushed' ? '/stream-flushed/v1' : '/stream/v1';
}

export interface ClientMeasurement {
  client: ClientName;
  mode: 'complete' | 'stream';
  count: number;
  concurrency: number;
  cpuUserUs: number;
  cpuSystemUs: number;
  wallMs: number;
  maxRssKb: number;
  /** Minor page faults and context switches in the window (kernel work that shows up as system time). */
  minorPageFaults: number;
  voluntaryContextSwitches: number;
  /** process.hrtime of the measured window, in µs (the clock V8's CPU profiles use). */
  windowStartUs: number;
  windowEndUs: number;
}

const job = JSON.parse(process.argv[2] ?? '{}') as ClientJob;
const client = await createBenchClient(job.client, `${job.url}${stubPath(job.mode, job.shape)}`, {
  oursEntry: job.oursEntry,
});

// Every client must read the canned answer completely and correctly, or its numbers mean nothing.
if (job.mode === 'complete') {
  const text = await client.complete();
  if (text !== COMPLETION_TEXT) throw new Error(`${job.client}: wrong completion text: ${text.slice(0, 80)}`);
} else {
  const tally = await client.stream(true);
  if (tally.text !== STREAM_TEXT || tally.deltas !== STREAM_TEXT_CHUNKS) {
    throw new Error(`${job.client}: wrong stream: ${tally.deltas} deltas, ${tally.characters} characters`);
  }
}

const operation =
  job.mode === 'complete'
    ? async () => {
        await client.complete();
      }
    : async () => {
        const tally = await client.stream(false);
        if (tally.deltas !== STREAM_TEXT_CHUNKS) throw new Error(`${job.client}: ${tally.deltas} deltas`);
      };

await runWithConcurrency(job.warmup, job.concurrency, operation);

const startUsage = process.resourceUsage();
const startCpu = process.cpuUsage();
const startNs = process.hrtime.bigint();
await runWithConcurrency(job.count, job.concurrency, operation);
const endNs = process.hrtime.bigint();
const cpu = process.cpuUsage(startCpu);
const endUsage = process.resourceUsage();

await client.close();
const measurement: ClientMeasurement = {
  client: job.client,
  mode: job.mode,
  count: job.count,
  concurrency: job.concurrency,
  cpuUserUs: cpu.user,
  cpuSystemUs: cpu.system,
  wallMs: Number(endNs - startNs) / 1e6,
  maxRssKb: endUsage.maxRSS,
  minorPageFaults: endUsage.minorPageFault - startUsage.minorPageFault,
  voluntaryContextSwitches: endUsage.voluntaryContextSwitches - startUsage.voluntaryContextSwitches,
  windowStartUs: Number(startNs / 1000n),
  windowEndUs: Number(endNs / 1000n),
};
emitResult(measurement);
