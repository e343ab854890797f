/**
 * `npm run bench`: every benchmark side by side, each client in its own process, then bench/RESULTS.md.
 *
 *   npm run bench                      full run (about 4–5 minutes on 2 cores), writes bench/RESULTS.md
 *   npm run bench -- --quick           short run, written to bench/.tmp/RESULTS-quick.md
 *   npm run bench -- --only=tokens     some of: completion, stream, stream-flushed, embeddings, tokens,
 *                                      cold-start, long-line (written to bench/.tmp/)
 *   npm run bench -- --only=router     a section another script keeps in bench/RESULTS.md (layers,
 *                                      router, conversation, gateway): measured and written in place,
 *                                      the rest left as it is
 *   npm run bench -- --ours=<file>     measure another build of the library as `ours` (its index.ts or
 *                                      index.js) for an A/B check of a change (written to bench/.tmp/)
 *
 * Raw measurements of the last run go to bench/.tmp/results.json, CPU profiles to bench/.tmp/profiles/.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { clientBenchmark } from './client-benchmark.ts';
import { CLIENT_NAMES } from './clients.ts';
import { coldStartBenchmark } from './cold-start-benchmark.ts';
import { describeEnvironment } from './environment.ts';
import { FULL_SETTINGS, type Harness, QUICK_SETTINGS } from './harness.ts';
import { longLineBenchmark } from './long-line-benchmark.ts';
import { BENCH_DIR, startServer } from './processes.ts';
import { renderReport } from './report.ts';
import { type BenchResults, checkTargets, cpuSpread } from './results.ts';
import { figure } from './stats.ts';
import { embeddingsBenchmark, tokensBenchmark } from './throughput-benchmarks.ts';

const BENCHMARKS = [
  'completion',
  'stream',
  'stream-flushed',
  'embeddings',
  'tokens',
  'cold-start',
  'long-line',
] as const;
type BenchmarkName = (typeof BENCHMARKS)[number];
/** Scripts that measure one concern and keep their own section of the report (between their markers). */
const SECTIONS = {
  layers: 'layers.ts',
  router: 'router.ts',
  conversation: 'conversation.ts',
  gateway: 'gateway.ts',
} as const;
type SectionName = keyof typeof SECTIONS;

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyArgument = args.find((arg) => arg.startsWith('--only='));
const only = onlyArgument ? onlyArgument.slice('--only='.length).split(',') : undefined;
for (const name of only ?? []) {
  if (!(BENCHMARKS as readonly string[]).includes(name) && !(name in SECTIONS)) {
    console.error(
      `Unknown benchmark '${name}'. Choose from: ${[...BENCHMARKS, ...Object.keys(SECTIONS)].join(', ')}`,
    );
    process.exit(2);
  }
}
const selected = (name: BenchmarkName) => !only || only.includes(name);
const oursArgument = args.find((arg) => arg.startsWith('--ours='));

const TMP_DIR = join(BENCH_DIR, '.tmp');

/** Runs a section's script, which replaces its section of `report`. */
function runSection(name: SectionName, report: string): void {
  spawnSync(
    process.execPath,
    [join(BENCH_DIR, SECTIONS[name]), `--report=${report}`, ...(quick ? ['--quick'] : [])],
    {
      stdio: 'inherit',
    },
  );
}

// Only sections asked for: each is measured and written into its place in the report, nothing else runs.
if (only?.every((name) => name in SECTIONS)) {
  mkdirSync(TMP_DIR, { recursive: true });
  const report = quick ? join(TMP_DIR, 'RESULTS-quick.md') : join(BENCH_DIR, 'RESULTS.md');
  for (const name of only as SectionName[]) runSection(name, report);
  process.exit(0);
}

/**
 * Sections other scripts keep in the same file between `<!-- name:start -->` and `<!-- name:end -->`
 * (bench/layers.ts does): carried over unchanged, after this run's report.
 */
function keptSections(path: string): string {
  if (!existsSync(path)) return '';
  const current = readFileSync(path, 'utf8');
  const sections = current.match(/<!-- ([\w-]+):start -->[\s\S]*?<!-- \1:end -->\n?/g) ?? [];
  return sections.map((section) => `\n${section.trimEnd()}\n`).join('');
}
const started = performance.now();
const harness: Harness = {
  settings: quick ? QUICK_SETTINGS : FULL_SETTINGS,
  oursEntry: oursArgument ? pathToFileURL(resolve(oursArgument.slice('--ours='.length))).href : undefined,
  profileDir: join(TMP_DIR, 'profiles'),
  log(message) {
    const seconds = ((performance.now() - started) / 1000).toFixed(0).padStart(3);
    console.error(`[bench ${seconds} s] ${message}`);
  },
  repeatsLeft: 6,
  quietWaitLeftMs: 45_000,
};

mkdirSync(harness.profileDir, { recursive: true });
const results: BenchResults = { environment: describeEnvironment(quick) };
harness.log(`${quick ? 'quick' : 'full'} run: ${BENCHMARKS.filter(selected).join(', ')}`);

if (
  selected('completion') ||
  selected('stream') ||
  selected('stream-flushed') ||
  selected('cold-start') ||
  selected('long-line')
) {
  const stub = await startServer('stub-server.ts');
  try {
    if (selected('completion')) results.completion = await clientBenchmark(harness, 'complete', stub);
    if (selected('stream')) results.stream = await clientBenchmark(harness, 'stream', stub, 'burst');
    if (selected('stream-flushed')) {
      results.streamFlushed = await clientBenchmark(harness, 'stream', stub, 'flushed');
    }
    if (selected('cold-start')) results.coldStart = await coldStartBenchmark(harness, stub);
    if (selected('long-line')) results.longLine = await longLineBenchmark(harness, stub);
  } finally {
    await stub.stop();
  }
}
if (selected('embeddings')) results.embeddings = await embeddingsBenchmark(harness);
if (selected('tokens')) results.tokens = await tokensBenchmark(harness);

results.environment.durationS = (performance.now() - started) / 1000;
// Only a full run of everything against src/ replaces the checked-in results.
const reportPath =
  quick || only || harness.oursEntry
    ? join(TMP_DIR, `RESULTS-${quick ? 'quick' : 'partial'}${harness.oursEntry ? '-ours-build' : ''}.md`)
    : join(BENCH_DIR, 'RESULTS.md');
writeFileSync(reportPath, renderReport(results) + keptSections(reportPath));
writeFileSync(join(TMP_DIR, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);

console.log(`\nTargets (${quick ? 'quick run' : 'full run'}, medians):`);
for (const check of checkTargets(results)) {
  const mark = check.met === undefined ? '?     ' : check.met ? 'met   ' : 'MISSED';
  console.log(`  ${mark}  ${check.target}: ${check.measured}${check.borderline ? ' (borderline)' : ''}`);
}
for (const benchmark of [results.completion, results.stream, results.streamFlushed]) {
  if (!benchmark) continue;
  const unit = benchmark.mode === 'stream' ? `chunk (${benchmark.shape})` : 'request';
  const medians = CLIENT_NAMES.map((name) => `${name} ${figure(cpuSpread(benchmark.byClient[name]).median)}`);
  console.log(`  CPU µs per ${unit}: ${medians.join(', ')}`);
}
console.log(`\nWrote ${reportPath} in ${figure(results.environment.durationS)} s.`);

// The optional layers' cost, the cache-hit latencies and the router's overhead, in the same report.
if (!harness.oursEntry) {
  for (const name of Object.keys(SECTIONS) as SectionName[]) {
    if (!only || only.includes(name)) runSection(name, reportPath);
  }
}
