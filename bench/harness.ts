/** What every benchmark of a harness run shares: its settings, its log, and how it repeats noisy runs. */
import { otherLoadNow, type ServerProcess, type WorkerStats } from './processes.ts';
import { figure } from './stats.ts';

export interface ClientConfig {
  warmup: number;
  /** Measured operations for llm-factory and the floor. */
  count: number;
  /** Measured operations for openai and the AI SDK, which cost 4–15 times more CPU each. */
  alternativeCount: number;
  concurrency: number;
}

export interface Settings {
  /** Runs per client for the CPU benchmarks (medians of these are reported). */
  runs: number;
  /**
   * Runs of llm-factory and the floor (at least `runs`): the pair the targets compare, cheap to measure,
   * so measured more often to steady the ratio on a noisy machine.
   */
  pairedRuns: number;
  completion: ClientConfig;
  stream: ClientConfig;
  streamFlushed: ClientConfig;
  /** `realisticTexts`: texts for the extra full-size-vector run (0: skip it). */
  embeddings: { texts: number; realisticTexts: number; warmupTexts: number; runs: number };
  tokenPasses: number;
  coldStartRuns: number;
  /** Runs per client and line length of the long-line benchmark. */
  longLineRuns: number;
}

export const QUICK_SETTINGS: Settings = {
  runs: 3,
  pairedRuns: 3,
  completion: { warmup: 500, count: 2_000, alternativeCount: 1_000, concurrency: 32 },
  stream: { warmup: 10, count: 40, alternativeCount: 20, concurrency: 8 },
  streamFlushed: { warmup: 10, count: 20, alternativeCount: 10, concurrency: 8 },
  embeddings: { texts: 20_000, realisticTexts: 0, warmupTexts: 2_000, runs: 1 },
  tokenPasses: 2,
  coldStartRuns: 3,
  longLineRuns: 1,
};

export const FULL_SETTINGS: Settings = {
  runs: 5,
  pairedRuns: 9,
  completion: { warmup: 1_500, count: 4_500, alternativeCount: 2_500, concurrency: 32 },
  stream: { warmup: 25, count: 75, alternativeCount: 40, concurrency: 8 },
  streamFlushed: { warmup: 15, count: 40, alternativeCount: 20, concurrency: 8 },
  embeddings: { texts: 100_000, realisticTexts: 50_000, warmupTexts: 5_000, runs: 3 },
  tokenPasses: 3,
  coldStartRuns: 5,
  longLineRuns: 3,
};

export interface Harness {
  settings: Settings;
  /** A file URL of another build of the library to measure as `ours`, from `--ours=`. */
  oursEntry: string | undefined;
  /** Where CPU profiles go: bench/.tmp/profiles. */
  profileDir: string;
  log(message: string): void;
  /** Repeats of noisy measurements still allowed in this run. */
  repeatsLeft: number;
  /** Time this run may still spend waiting for other processes to quieten down, ms. */
  quietWaitLeftMs: number;
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The clients in a different order each run, so none always runs first or last. */
export function rotated<T>(items: readonly T[], by: number): T[] {
  const shift = by % items.length;
  return [...items.slice(shift), ...items.slice(0, shift)];
}

/** Node flags for a V8 CPU profile sampled every 100 µs into the profile folder. */
export function profileFlags(harness: Harness, name: string): string[] {
  return [
    '--cpu-prof',
    `--cpu-prof-dir=${harness.profileDir}`,
    `--cpu-prof-name=${name}`,
    '--cpu-prof-interval=100',
  ];
}

/** Other processes' share of the machine above which a measurement waits, or is taken again. */
export const NOISY_SHARE = 0.15;

/**
 * Waits (within the run's budget) until other processes use at most NOISY_SHARE of the CPU, so a shared
 * machine's bursts of someone else's work land between measurements rather than inside them.
 */
export async function waitForQuiet(
  harness: Pick<Harness, 'log' | 'quietWaitLeftMs'>,
  servers: readonly ServerProcess[] = [],
): Promise<void> {
  let waitedMs = 0;
  for (;;) {
    const load = await otherLoadNow(servers);
    if (load === undefined || load <= NOISY_SHARE || harness.quietWaitLeftMs <= 0) break;
    await new Promise((resolve) => setTimeout(resolve, 1000));
    harness.quietWaitLeftMs -= 1000;
    waitedMs += 1000;
  }
  if (waitedMs > 0) harness.log(`waited ${waitedMs / 1000} s for other processes to quieten down`);
}

/**
 * Runs `measure`; when other processes (someone else's tests on a shared machine) took more than
 * NOISY_SHARE of the CPU meanwhile, measures once more and keeps the quieter of the two.
 */
export async function measureQuietly<T extends WorkerStats>(
  harness: Harness,
  label: string,
  measure: () => Promise<T>,
  onMeasured: () => void,
): Promise<T & { repeated?: boolean }> {
  const first = await measure();
  onMeasured();
  if ((first.otherCpuShare ?? 0) <= NOISY_SHARE || harness.repeatsLeft <= 0) return first;
  harness.repeatsLeft--;
  harness.log(
    `${label}: other processes used ${figure((first.otherCpuShare ?? 0) * 100)} % of the CPU; measuring again`,
  );
  const second = await measure();
  onMeasured();
  const quieter = (second.otherCpuShare ?? 0) < (first.otherCpuShare ?? 0) ? second : first;
  return { ...quieter, repeated: true };
}
