/** The report sections for embeddings, token counting, cold start and the long line. */

import {
  LONG_LINE_CLIENTS,
  LONG_LINE_SIZES,
  type LongLineBenchmark,
  type LongLineClient,
} from './long-line-benchmark.ts';
import { loadNote, table } from './markdown.ts';
import {
  type ColdStartBenchmark,
  type EmbeddingsConfig,
  embeddingsOfIdeal,
  MB,
  mbPerSecond,
  type TokensBenchmark,
} from './results.ts';
import { figure, percent, ratio, spread, spreadText } from './stats.ts';
import { TOKENIZER_LABELS, TOKENIZERS } from './tokenizers.ts';

export function embeddingsSection(configs: EmbeddingsConfig[]): string {
  const parts = [
    '## 3. Embeddings throughput (wall clock) against the emulator',
    '',
    'The library’s emulator (`startEmulator({ latencyMs, recordRequests: false })`) runs in its own process; the client embeds the texts with `generateEmbeddings(texts, { batchSize, concurrency, dimensions })` after a warm-up batch run. The floor is bare undici through the same sliding window, decoding the same base64 vectors into the same `number[][]`. Ideal = concurrency × batch ÷ latency. Texts are prose lines from the corpus (40–400 characters, 82 on average). The emulator does real work per text (token count, a seeded vector, base64) that adds to every request’s latency and shares the 2 cores with the client: its CPU per text is shown.',
  ];
  for (const config of configs) {
    const ideal = (config.concurrency * config.batchSize) / (config.latencyMs / 1000);
    const floorSpeed = spread(
      config.byClient.floor.measurements.map((m) => m.texts / (m.wallMs / 1000)),
    ).median;
    const rows = (['floor', 'ours'] as const).map((client) => {
      const entry = config.byClient[client];
      if (entry.error) return [client, `failed: ${entry.error.split('\n')[0]}`, '', '', '', '', ''];
      const speed = spread(entry.measurements.map((m) => m.texts / (m.wallMs / 1000)));
      return [
        client === 'ours' ? '**llm-factory**' : 'floor (undici)',
        spreadText(speed),
        spreadText(embeddingsOfIdeal(config, client)),
        ratio(speed.median, floorSpeed),
        figure(spread(entry.measurements.map((m) => m.cpuUs / m.texts)).median),
        figure(spread(entry.emulatorCpuUsPerText).median),
        figure(spread(entry.measurements.map((m) => m.maxRssKb / 1024)).median),
      ];
    });
    parts.push(
      '',
      `### ${config.label}`,
      '',
      `${config.texts.toLocaleString('en-US')} texts, latency ${config.latencyMs} ms, batch ${config.batchSize}, concurrency ${config.concurrency}, ${config.dimensions} dimensions: ideal ${figure(ideal)} texts/s. ${config.runs} run(s) per client.${loadNote([...config.byClient.ours.measurements, ...config.byClient.floor.measurements].map((m) => m.otherCpuShare))}`,
      '',
      table(
        [
          'client',
          'texts / s',
          'of ideal',
          '× floor',
          'client CPU µs / text',
          'emulator CPU µs / text',
          'max RSS MB',
        ],
        rows,
      ),
    );
    const slot = spread(config.byClient.floor.measurements.map((m) => m.meanSlotMs ?? Number.NaN)).median;
    const headers = spread(
      config.byClient.floor.measurements.map((m) => m.meanHeadersMs ?? Number.NaN),
    ).median;
    if (Number.isFinite(slot)) {
      const ceiling = (config.concurrency * config.batchSize) / (slot / 1000);
      const oursSpeed = spread(
        config.byClient.ours.measurements.map((m) => m.texts / (m.wallMs / 1000)),
      ).median;
      parts.push(
        '',
        `In the floor run a request held its window slot for ${figure(slot)} ms on average, ${figure(headers)} ms of it until the response headers (the emulator’s ${config.latencyMs} ms wait, then its own work on the batch, and queueing behind other batches on its one thread), the rest reading and decoding the body. So no client can exceed about ${figure(ceiling)} texts/s here (${percent(ceiling / ideal)} of ideal); llm-factory reached ${percent(oursSpeed / ceiling)} of that.`,
      );
    }
  }
  return parts.join('\n');
}

export function tokensSection(tokens: TokensBenchmark): string {
  const ours = tokens.byTokenizer.ours ?? Object.values(tokens.byTokenizer)[0];
  if (!ours) return '## 4. Token counting\n\nNo tokenizer ran.';
  const parts = [
    '## 4. Token counting (o200k_base, as for gpt-4o-mini)',
    '',
    `Each tokenizer in its own process; per corpus one untimed pass, then ${tokens.passes} timed passes (median, min–max), one call per document. gpt-tokenizer’s merge cache is cleared before each timed pass; the “warm” column is one more pass with the cache as the previous pass left it. MB = 10⁶ bytes of UTF-8, per second of the counting thread’s CPU time (\`process.threadCpuUsage()\`), so other processes on a shared machine do not skew it; the wall-clock rate of the median pass is shown beside it. Special-token text counts as ordinary text in all three (\`countOpenAITokens\`, \`encode(text, [], [])\`, \`encode_ordinary\`).${loadNote(TOKENIZERS.map((name) => tokens.byTokenizer[name]?.otherCpuShare))}`,
  ];
  for (const timing of ours.corpora) {
    const best = Math.max(
      ...TOKENIZERS.filter((name) => name !== 'ours').map(
        (name) => mbPerSecond(tokens.byTokenizer[name], timing.corpus).median,
      ),
    );
    const rows = TOKENIZERS.map((name) => {
      const measurement = tokens.byTokenizer[name];
      if (!measurement)
        return [
          TOKENIZER_LABELS[name],
          `failed: ${tokens.errors[name]?.split('\n')[0] ?? ''}`,
          '',
          '',
          '',
          '',
          '',
        ];
      const entry = measurement.corpora.find((candidate) => candidate.corpus === timing.corpus)!;
      const speed = mbPerSecond(measurement, timing.corpus);
      return [
        name === 'ours' ? `**${TOKENIZER_LABELS[name]}**` : TOKENIZER_LABELS[name],
        spreadText(speed),
        figure(entry.bytes / MB / (spread(entry.passWallMs).median / 1000)),
        figure(entry.bytes / MB / (entry.warmPassMs / 1000)),
        ratio(speed.median, best),
        entry.tokens.toLocaleString('en-US'),
        entry.countsDigest === timing.countsDigest
          ? `yes (${entry.countsDigest})`
          : entry.ordinaryDigest !== undefined && entry.ordinaryDigest === timing.ordinaryDigest
            ? `yes but for the ${Object.keys(entry.longRunCounts ?? {}).length} with a run of 128+ characters`
            : `**no** (${entry.countsDigest})`,
      ];
    });
    parts.push(
      '',
      `### ${timing.corpus}: ${timing.description}`,
      '',
      `${timing.documents.toLocaleString('en-US')} documents, ${figure(timing.bytes / MB)} MB, fingerprint ${timing.fingerprint}.`,
      '',
      table(
        [
          'tokenizer',
          'MB / s (thread CPU)',
          'MB / s (wall)',
          'warm MB / s',
          '× fastest alternative',
          'tokens',
          'per-document counts = ours',
        ],
        rows,
      ),
    );
  }
  parts.push(
    '',
    'Load (import and vocabulary, to the first count), ms: ' +
      TOKENIZERS.map((name) => `${name} ${figure(tokens.byTokenizer[name]?.loadMs ?? Number.NaN)}`).join(
        ', ',
      ) +
      '.',
  );
  return parts.join('\n');
}

export function coldStartSection(coldStart: ColdStartBenchmark): string {
  const floor = coldStart.variants.find((variant) => variant.key === 'floor');
  const floorTotal = spread(floor?.runs.map((run) => run.totalMs) ?? []).median;
  const oursTotal = spread(
    coldStart.variants.find((v) => v.key === 'ours')?.runs.map((run) => run.totalMs) ?? [],
  ).median;
  const rows = coldStart.variants.map((variant) => {
    if (variant.error) return [variant.label, `failed: ${variant.error.split('\n')[0]}`, '', '', '', '', ''];
    const total = spread(variant.runs.map((run) => run.totalMs));
    return [
      variant.key.startsWith('ours') ? `**${variant.label}**` : variant.label,
      spreadText(spread(variant.runs.map((run) => run.importMs))),
      spreadText(spread(variant.runs.map((run) => run.firstCallMs))),
      spreadText(total),
      spreadText(spread(variant.runs.map((run) => run.wallMs))),
      ratio(total.median, floorTotal),
      ratio(total.median, oursTotal),
    ];
  });
  const parts = [
    '## 5. Cold start',
    '',
    `A fresh process per run: import the library, create one client, make the first completion against the stub. Times from \`performance.now()\` (the process’s time origin); “spawn to exit” is measured by the parent and includes Node’s start-up (${figure(spread(coldStart.variants.flatMap((v) => v.runs.map((r) => r.bootMs))).median)} ms to the first line of the worker) and exit. Median (min–max) of ${coldStart.variants[0]?.runs.length ?? 0} runs.${coldStart.note ? ` ${coldStart.note}` : ''}${loadNote(coldStart.variants.flatMap((v) => v.runs.map((r) => r.otherCpuShare)))}`,
    '',
    table(
      [
        'client',
        'import + create ms',
        'first call ms',
        'to first answer ms',
        'spawn to exit ms',
        '× floor',
        '× llm-factory (src)',
      ],
      rows,
    ),
  ];
  for (const profile of coldStart.startup ?? []) {
    const busy = profile.groups.reduce((sum, group) => sum + group.selfMs, 0);
    parts.push(
      '',
      `Where the cold start of ${profile.label} goes (\`--cpu-prof\` of one more cold start, whole process, ${figure(busy)} ms busy on the main thread; each sample goes to the outermost package on its stack):`,
      '',
      table(
        ['part', 'ms', 'share'],
        profile.groups.map((entry) => [entry.group, figure(entry.selfMs), percent(entry.selfShare)]),
      ),
    );
  }
  return parts.join('\n');
}

const LONG_LINE_LABELS: Record<LongLineClient, string> = {
  ours: '**llm-factory** (`maxEventBytes` raised to 256 MiB)',
  'ours-default-limits': 'llm-factory, default `maxEventBytes` (16 MiB)',
  openai: 'openai',
};

export function longLineSection(longLine: LongLineBenchmark): string {
  const rows: string[][] = [];
  for (const lineBytes of longLine.sizes.length > 0 ? longLine.sizes : LONG_LINE_SIZES) {
    const of = (client: LongLineClient) =>
      longLine.byClient[client].measurements.filter((m) => m.lineBytes === lineBytes);
    const openaiWall = spread(of('openai').map((m) => m.wallMs)).median;
    const openaiRss = spread(of('openai').map((m) => m.maxRssKb / 1024)).median;
    for (const client of LONG_LINE_CLIENTS) {
      const runs = of(client);
      if (runs.length === 0) {
        rows.push([
          `${figure(lineBytes / MB)} MB`,
          LONG_LINE_LABELS[client],
          'failed',
          '',
          '',
          '',
          '',
          '',
          '',
        ]);
        continue;
      }
      const wall = spread(runs.map((m) => m.wallMs));
      const peak = spread(runs.map((m) => m.maxRssKb / 1024));
      const refused = runs.find((m) => m.refused);
      rows.push([
        `${figure(lineBytes / MB)} MB`,
        LONG_LINE_LABELS[client],
        spreadText(wall),
        figure(spread(runs.map((m) => m.cpuUs / 1000)).median),
        figure(spread(runs.map((m) => m.baselineRssKb / 1024)).median),
        spreadText(peak),
        ratio(wall.median, openaiWall),
        ratio(peak.median, openaiRss),
        refused ? 'refused: over `maxEventBytes`' : 'read whole',
      ]);
    }
  }
  const errors = LONG_LINE_CLIENTS.flatMap((client) =>
    longLine.byClient[client].errors.map((error) => `- ${client}, ${error.split('\n')[0]}`),
  );
  return [
    '## 6. One long SSE line through `stream()`',
    '',
    `The stub sends one \`chat.completion.chunk\` whose \`content\` is the given number of bytes (MB = 10⁶), its SSE line written in 64 KiB pieces and ended only after the last (as a broken proxy, or a multi-megabyte tool argument or image, would send it), then the finish, usage and \`[DONE]\` events. Each client in a fresh process per line and run: one short stream untimed, then the long one, read to its end and checked; wall and CPU time of that stream, RSS before it, and the process's peak RSS. A decoder that re-scans its pending line on every chunk shows as time growing with the square of the line. llm-factory runs twice: with \`maxEventBytes\` raised so that it reads the line whole, as openai does, and with its default, which refuses a longer line as soon as the limit is passed. Median (min–max) of ${longLine.runs} run(s).${loadNote(LONG_LINE_CLIENTS.flatMap((client) => longLine.byClient[client].measurements.map((m) => m.otherCpuShare)))}`,
    '',
    table(
      [
        'line',
        'client',
        'wall ms',
        'CPU ms',
        'RSS before MB',
        'peak RSS MB',
        '× openai (wall)',
        '× openai (peak RSS)',
        'outcome',
      ],
      rows,
    ),
    ...(errors.length > 0 ? ['', 'Failures:', '', ...errors] : []),
  ].join('\n');
}
