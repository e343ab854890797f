/** Benchmark 5: cold start of each client in a fresh process, and where ours spends it. */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CLIENT_LABELS } from './clients.ts';
import type { ColdStartJob, ColdStartMeasurement } from './cold-start-worker.ts';
import { errorText, type Harness, profileFlags, rotated, waitForQuiet } from './harness.ts';
import { REPOSITORY_ROOT, runWorker, type ServerProcess, timeWorker } from './processes.ts';
import { startupAttribution } from './profile.ts';
import type { ColdStartBenchmark, ColdStartVariant } from './results.ts';
import { figure } from './stats.ts';

/**
 * Compiles src/ into a temporary folder so the cold start of a built package can be timed too. The
 * folder is outside the repository (so linters never see it), with a link to our node_modules so its
 * imports resolve as they would in an install.
 */
function buildCompiledCopy(outDir: string): string | undefined {
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  symlinkSync(join(REPOSITORY_ROOT, 'node_modules'), join(outDir, 'node_modules'), 'dir');
  writeFileSync(join(outDir, 'package.json'), '{ "type": "module" }\n');
  try {
    execFileSync(
      join(REPOSITORY_ROOT, 'node_modules', '.bin', 'tsc'),
      ['-p', 'tsconfig.json', '--outDir', outDir, '--declaration', 'false', '--sourceMap', 'false'],
      { cwd: REPOSITORY_ROOT, stdio: 'pipe' },
    );
  } catch {
    // Type errors still emit JavaScript; only a missing entry point means the build is unusable.
  }
  try {
    readFileSync(join(outDir, 'index.js'));
    return pathToFileURL(join(outDir, 'index.js')).href;
  } catch {
    return undefined;
  }
}

export async function coldStartBenchmark(harness: Harness, stub: ServerProcess): Promise<ColdStartBenchmark> {
  const compiledDir = join(tmpdir(), `llm-factory-bench-${process.pid}`);
  try {
    return await coldStartIn(harness, stub, buildCompiledCopy(compiledDir));
  } finally {
    rmSync(compiledDir, { recursive: true, force: true });
  }
}

async function coldStartIn(
  harness: Harness,
  stub: ServerProcess,
  compiled: string | undefined,
): Promise<ColdStartBenchmark> {
  const variants: Array<ColdStartVariant & { job: ColdStartJob }> = [
    { key: 'floor', label: CLIENT_LABELS.floor, runs: [], job: { client: 'floor', url: stub.url } },
    {
      key: 'ours',
      label: harness.oursEntry
        ? `llm-factory (${harness.oursEntry})`
        : 'llm-factory (src/index.ts, type-stripped)',
      runs: [],
      job: { client: 'ours', url: stub.url, oursEntry: harness.oursEntry },
    },
  ];
  if (compiled && !harness.oursEntry) {
    variants.push({
      key: 'ours-compiled',
      label: 'llm-factory (compiled JS, as published)',
      runs: [],
      job: { client: 'ours', url: stub.url, oursEntry: compiled },
    });
  }
  variants.push(
    { key: 'openai', label: CLIENT_LABELS.openai, runs: [], job: { client: 'openai', url: stub.url } },
    { key: 'ai-sdk', label: CLIENT_LABELS['ai-sdk'], runs: [], job: { client: 'ai-sdk', url: stub.url } },
  );
  for (let run = 0; run < harness.settings.coldStartRuns; run++) {
    await waitForQuiet(harness, [stub]);
    for (const variant of rotated(variants, run)) {
      if (variant.error) continue;
      try {
        const { result, wallMs } = await timeWorker<ColdStartMeasurement>(
          'cold-start-worker.ts',
          variant.job,
          {
            servers: [stub],
          },
        );
        variant.runs.push({ ...result, wallMs });
      } catch (error) {
        variant.error = errorText(error);
        harness.log(`cold start of ${variant.label} failed: ${variant.error}`);
      }
    }
  }
  harness.log(
    `cold start, ms to first answer (last run): ${variants.map((v) => `${v.key} ${figure(v.runs.at(-1)?.totalMs ?? Number.NaN)}`).join(', ')}`,
  );
  const startup: NonNullable<ColdStartBenchmark['startup']> = [];
  for (const variant of variants.filter((candidate) => candidate.key.startsWith('ours'))) {
    const name = `cold-start-${variant.key}.cpuprofile`;
    try {
      const measurement = await runWorker<ColdStartMeasurement>('cold-start-worker.ts', variant.job, {
        execArgv: profileFlags(harness, name),
        servers: [stub],
      });
      startup.push({
        label: variant.label,
        groups: startupAttribution(join(harness.profileDir, name), REPOSITORY_ROOT, {
          startUs: measurement.windowStartUs,
          endUs: measurement.windowEndUs,
        }),
      });
    } catch (error) {
      harness.log(`cold start profile of ${variant.label} failed: ${errorText(error)}`);
    }
  }
  return {
    variants: variants.map(({ job: _job, ...variant }) => variant),
    startup,
    note: compiled
      ? 'The compiled variant is src/ built at run time with the repository’s tsconfig into a temporary folder (the checked-in dist/ may be stale).'
      : 'src/ could not be compiled at run time, so only the type-stripped sources were timed.',
  };
}
