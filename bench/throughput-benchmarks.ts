/** Benchmarks 3 and 4: embeddings throughput against the emulator, and token counting speed. */
import type { EmbeddingsJob, EmbeddingsMeasurement } from './embeddings-worker.ts';
import { errorText, type Harness, rotated, waitForQuiet } from './harness.ts';
import { runWorker, startServer } from './processes.ts';
import type { EmbeddingsConfig, TokensBenchmark } from './results.ts';
import { figure } from './stats.ts';
import { TOKENIZERS } from './tokenizers.ts';
import type { TokenizerJob, TokenizerMeasurement } from './tokens-worker.ts';

export async function embeddingsBenchmark(harness: Harness): Promise<EmbeddingsConfig[]> {
  const configs: Array<Omit<EmbeddingsConfig, 'byClient'>> = [
    {
      label: 'latency-bound: 256-dimension vectors',
      latencyMs: 50,
      batchSize: 100,
      concurrency: 8,
      dimensions: 256,
      texts: harness.settings.embeddings.texts,
      runs: harness.settings.embeddings.runs,
    },
  ];
  if (harness.settings.embeddings.realisticTexts > 0) {
    configs.push({
      label: 'full-size 1536-dimension vectors, default concurrency',
      latencyMs: 50,
      batchSize: 100,
      concurrency: 4,
      dimensions: 1536,
      texts: harness.settings.embeddings.realisticTexts,
      runs: 1,
    });
  }
  const results: EmbeddingsConfig[] = [];
  for (const config of configs) {
    const emulator = await startServer('emulator-server.ts', { latencyMs: config.latencyMs });
    const byClient: EmbeddingsConfig['byClient'] = {
      ours: { measurements: [], emulatorCpuUsPerText: [] },
      floor: { measurements: [], emulatorCpuUsPerText: [] },
    };
    try {
      // One untimed run first, so the emulator's own code is warm for every measured one.
      await runWorker<EmbeddingsMeasurement>('embeddings-worker.ts', {
        client: 'floor',
        url: emulator.url,
        texts: harness.settings.embeddings.warmupTexts,
        warmupTexts: 0,
        batchSize: config.batchSize,
        concurrency: config.concurrency,
        dimensions: config.dimensions,
      } satisfies EmbeddingsJob).catch(() => undefined);
      for (let run = 0; run < config.runs; run++) {
        for (const client of rotated(['floor', 'ours'] as const, run)) {
          const entry = byClient[client];
          if (entry.error) continue;
          const job: EmbeddingsJob = {
            client,
            url: emulator.url,
            texts: config.texts,
            warmupTexts: harness.settings.embeddings.warmupTexts,
            batchSize: config.batchSize,
            concurrency: config.concurrency,
            dimensions: config.dimensions,
            oursEntry: harness.oursEntry,
          };
          await waitForQuiet(harness, [emulator]);
          const emulatorBefore = emulator.cpuMs();
          try {
            const measurement = await runWorker<EmbeddingsMeasurement>('embeddings-worker.ts', job, {
              servers: [emulator],
              execArgv: ['--max-old-space-size=8192'],
            });
            const emulatorAfter = emulator.cpuMs();
            entry.measurements.push(measurement);
            if (emulatorBefore !== undefined && emulatorAfter !== undefined) {
              entry.emulatorCpuUsPerText.push(
                ((emulatorAfter - emulatorBefore) * 1000) /
                  (config.texts + harness.settings.embeddings.warmupTexts),
              );
            }
            const ideal = (config.concurrency * config.batchSize) / (config.latencyMs / 1000);
            const speed = measurement.texts / (measurement.wallMs / 1000);
            harness.log(
              `embeddings (${config.dimensions} d) ${client}: ${figure(speed)} texts/s, ${figure((100 * speed) / ideal)} % of ideal`,
            );
          } catch (error) {
            entry.error = errorText(error);
            harness.log(`embeddings ${client} failed: ${entry.error}`);
          }
        }
      }
    } finally {
      await emulator.stop();
    }
    results.push({ ...config, byClient });
  }
  return results;
}

export async function tokensBenchmark(harness: Harness): Promise<TokensBenchmark> {
  const result: TokensBenchmark = { passes: harness.settings.tokenPasses, byTokenizer: {}, errors: {} };
  for (const tokenizer of TOKENIZERS) {
    const job: TokenizerJob = { tokenizer, passes: harness.settings.tokenPasses };
    try {
      await waitForQuiet(harness);
      const measurement = await runWorker<TokenizerMeasurement>('tokens-worker.ts', job);
      result.byTokenizer[tokenizer] = measurement;
      harness.log(
        `tokens ${tokenizer}: ${measurement.corpora
          .map((entry) => {
            const sorted = [...entry.passMs].sort((a, b) => a - b);
            return `${entry.corpus} ${figure(entry.bytes / 1e6 / (sorted[sorted.length >> 1]! / 1000))} MB/s`;
          })
          .join(', ')}`,
      );
    } catch (error) {
      result.errors[tokenizer] = errorText(error);
      harness.log(`tokens ${tokenizer} failed: ${result.errors[tokenizer]}`);
    }
  }
  return result;
}
