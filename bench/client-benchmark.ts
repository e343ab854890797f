/** Benchmarks 1 and 2: client CPU per completion and per stream chunk, the four clients side by side. */
import { join } from 'node:path';
import { STREAM_CHUNKS } from './canned.ts';
import type { ClientJob, ClientMeasurement, StreamShape } from './client-worker.ts';
import { CLIENT_LABELS, CLIENT_NAMES, type ClientName } from './clients.ts';
import { errorText, type Harness, measureQuietly, profileFlags, rotated, waitForQuiet } from './harness.ts';
import { REPOSITORY_ROOT, runWorker, type ServerProcess } from './processes.ts';
import { summarizeProfile } from './profile.ts';
import type { ClientBenchmark, ProfiledRun } from './results.ts';
import { figure } from './stats.ts';

async function profileClient(
  harness: Harness,
  client: ClientName,
  job: ClientJob,
): Promise<ProfiledRun | undefined> {
  const name = `${job.mode}${job.shape ? `-${job.shape}` : ''}-${client}.cpuprofile`;
  try {
    const measurement = await runWorker<ClientMeasurement>('client-worker.ts', job, {
      execArgv: profileFlags(harness, name),
    });
    const file = join(harness.profileDir, name);
    return {
      client,
      count: measurement.count,
      cpuUsPerOperation: (measurement.cpuUserUs + measurement.cpuSystemUs) / measurement.count,
      summary: summarizeProfile(file, REPOSITORY_ROOT, {
        startUs: measurement.windowStartUs,
        endUs: measurement.windowEndUs,
      }),
      file,
    };
  } catch (error) {
    harness.log(`profile of ${client} ${name} failed: ${errorText(error)}`);
    return undefined;
  }
}

export async function clientBenchmark(
  harness: Harness,
  mode: 'complete' | 'stream',
  stub: ServerProcess,
  shape?: StreamShape,
): Promise<ClientBenchmark> {
  const config =
    mode === 'complete'
      ? harness.settings.completion
      : shape === 'flushed'
        ? harness.settings.streamFlushed
        : harness.settings.stream;
  const what = shape ? `${mode} (${shape})` : mode;
  const byClient: ClientBenchmark['byClient'] = {
    floor: { measurements: [] },
    ours: { measurements: [] },
    openai: { measurements: [] },
    'ai-sdk': { measurements: [] },
  };
  const stubStart = stub.cpuMs();
  let requests = 0;
  const { runs, pairedRuns } = harness.settings;
  for (let run = 0; run < Math.max(runs, pairedRuns); run++) {
    const line: string[] = [];
    const clients = run < runs ? CLIENT_NAMES : (['floor', 'ours'] as const);
    for (const client of rotated(clients, run)) {
      const entry = byClient[client];
      if (entry.error) continue;
      const count = client === 'ours' || client === 'floor' ? config.count : config.alternativeCount;
      const job: ClientJob = {
        client,
        mode,
        shape,
        url: stub.url,
        oursEntry: harness.oursEntry,
        warmup: config.warmup,
        count,
        concurrency: config.concurrency,
      };
      try {
        await waitForQuiet(harness, [stub]);
        const measurement = await measureQuietly(
          harness,
          `${CLIENT_LABELS[client]} ${what}`,
          () => runWorker<ClientMeasurement>('client-worker.ts', job, { servers: [stub] }),
          () => {
            requests += count + config.warmup + 1;
          },
        );
        entry.measurements.push(measurement);
        const units = mode === 'stream' ? measurement.count * STREAM_CHUNKS : measurement.count;
        line.push(`${client} ${figure((measurement.cpuUserUs + measurement.cpuSystemUs) / units)}`);
      } catch (error) {
        entry.error = errorText(error);
        harness.log(`${CLIENT_LABELS[client]} failed: ${entry.error}`);
      }
    }
    harness.log(
      `${what} run ${run + 1}/${Math.max(runs, pairedRuns)}, CPU µs per ${mode === 'stream' ? 'chunk' : 'request'}: ${line.join(', ')}`,
    );
  }
  const stubEnd = stub.cpuMs();
  const profiles: ProfiledRun[] = [];
  for (const client of ['ours', 'floor'] as const) {
    await waitForQuiet(harness, [stub]);
    const profile = await profileClient(harness, client, {
      client,
      mode,
      shape,
      url: stub.url,
      oursEntry: harness.oursEntry,
      warmup: config.warmup,
      count: config.count,
      concurrency: config.concurrency,
    });
    if (profile) profiles.push(profile);
  }
  return {
    mode,
    shape,
    runs,
    pairedRuns,
    ...config,
    byClient,
    stubCpuUsPerRequest:
      stubStart === undefined || stubEnd === undefined || requests === 0
        ? undefined
        : ((stubEnd - stubStart) * 1000) / requests,
    profiles,
  };
}
