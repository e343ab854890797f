/**
 * One long SSE line, in a fresh process: stream a short one first (so loading and connecting are not
 * timed), then one text delta of `lineBytes` characters whose line arrives in 64 KiB pieces and ends only
 * after the last. Reports the wall and CPU time of that stream and the process's peak RSS.
 *
 *   node bench/long-line-worker.ts '{"client":"ours","url":"http://127.0.0.1:1234","lineBytes":10000000}'
 *
 * `ours-default-limits` keeps `maxEventBytes` at its default (16 MiB): a longer line is refused, and the
 * time and memory it took to refuse it are reported instead.
 */
import { type BenchClient, createBenchClient } from './clients.ts';
import type { LongLineClient } from './long-line-benchmark.ts';
import { emitResult } from './worker-support.ts';

export interface LongLineJob {
  client: LongLineClient;
  /** The stub's root URL. */
  url: string;
  lineBytes: number;
  /** A file URL of another build of the library to measure as `ours`. */
  oursEntry?: string;
}

export interface LongLineMeasurement {
  client: LongLineClient;
  lineBytes: number;
  wallMs: number;
  cpuUs: number;
  /** RSS before the long stream (after the warm-up), and the process's peak. */
  baselineRssKb: number;
  maxRssKb: number;
  /** Set when the client refused the line (the error's message). */
  refused?: string;
}

const WARM_UP_BYTES = 64 * 1024;
/** For `ours`: room for the longest line measured, so it is read like the other clients read it. */
const RAISED_MAX_EVENT_BYTES = 256 * 1024 * 1024;

const job = JSON.parse(process.argv[2] ?? '{}') as LongLineJob;

function clientFor(lineBytes: number): Promise<BenchClient> {
  const name = job.client === 'openai' ? 'openai' : 'ours';
  const oursOptions = job.client === 'ours' ? { maxEventBytes: RAISED_MAX_EVENT_BYTES } : undefined;
  return createBenchClient(name, `${job.url}/long-line/${lineBytes}/v1`, {
    oursEntry: job.oursEntry,
    oursOptions,
  });
}

/** Streams one long line; throws unless the one text delta is exactly `lineBytes` long. */
async function streamOnce(lineBytes: number): Promise<void> {
  const client = await clientFor(lineBytes);
  try {
    const tally = await client.stream(false);
    if (tally.deltas !== 1 || tally.characters !== lineBytes) {
      throw new Error(
        `${job.client}: ${tally.deltas} deltas, ${tally.characters} of ${lineBytes} characters`,
      );
    }
  } finally {
    await client.close();
  }
}

await streamOnce(WARM_UP_BYTES);

const baselineRssKb = Math.round(process.memoryUsage.rss() / 1024);
const startCpu = process.cpuUsage();
const startNs = process.hrtime.bigint();
let refused: string | undefined;
try {
  await streamOnce(job.lineBytes);
} catch (error) {
  const code = (error as { code?: string }).code;
  if (job.client !== 'ours-default-limits' || code !== 'invalid_response') throw error;
  refused = (error as Error).message;
}
const wallMs = Number(process.hrtime.bigint() - startNs) / 1e6;
const cpu = process.cpuUsage(startCpu);

const measurement: LongLineMeasurement = {
  client: job.client,
  lineBytes: job.lineBytes,
  wallMs,
  cpuUs: cpu.user + cpu.system,
  baselineRssKb,
  maxRssKb: process.resourceUsage().maxRSS,
};
if (refused !== undefined) measurement.refused = refused;
emitResult(measurement);
