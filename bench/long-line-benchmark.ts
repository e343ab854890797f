/**
 * Benchmark 6: one long SSE line (10, 20 and 40 MB) through `stream()`, llm-factory beside the `openai`
 * SDK, each client in a fresh process per line: wall and CPU time, and peak RSS. A decoder that re-scans
 * its pending line on every chunk shows here as time growing with the square of the line.
 */
import { errorText, type Harness, rotated, waitForQuiet } from './harness.ts';
import type { LongLineJob, LongLineMeasurement } from './long-line-worker.ts';
import { runWorker, type ServerProcess, type WorkerStats } from './processes.ts';
import { figure } from './stats.ts';

export const LONG_LINE_SIZES = [10_000_000, 20_000_000, 40_000_000];
export const LONG_LINE_CLIENTS = ['ours', 'ours-default-limits', 'openai'] as const;
export type LongLineClient = (typeof LONG_LINE_CLIENTS)[number];

export interface LongLineBenchmark {
  sizes: number[];
  runs: number;
  byClient: Record<
    LongLineClient,
    { measurements: Array<LongLineMeasurement & Partial<WorkerStats>>; errors: string[] }
  >;
}

export async function longLineBenchmark(harness: Harness, stub: ServerProcess): Promise<LongLineBenchmark> {
  const runs = harness.settings.longLineRuns;
  const result: LongLineBenchmark = {
    sizes: LONG_LINE_SIZES,
    runs,
    byClient: {
      ours: { measurements: [], errors: [] },
      'ours-default-limits': { measurements: [], errors: [] },
      openai: { measurements: [], errors: [] },
    },
  };
  for (let run = 0; run < runs; run++) {
    for (const lineBytes of LONG_LINE_SIZES) {
      for (const client of rotated(LONG_LINE_CLIENTS, run)) {
        const job: LongLineJob = { client, url: stub.url, lineBytes, oursEntry: harness.oursEntry };
        const entry = result.byClient[client];
        await waitForQuiet(harness, [stub]);
        try {
          const measurement = await runWorker<LongLineMeasurement>('long-line-worker.ts', job, {
            servers: [stub],
          });
          entry.measurements.push(measurement);
          harness.log(
            `long line ${figure(lineBytes / 1e6)} MB ${client}: ${figure(measurement.wallMs)} ms, peak RSS ${figure(measurement.maxRssKb / 1024)} MB${measurement.refused ? ' (refused)' : ''}`,
          );
        } catch (error) {
          entry.errors.push(`${figure(lineBytes / 1e6)} MB: ${errorText(error)}`);
          harness.log(`long line ${figure(lineBytes / 1e6)} MB ${client} failed: ${errorText(error)}`);
        }
      }
    }
  }
  return result;
}
