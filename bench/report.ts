/** Turns a harness run into bench/RESULTS.md: machine, targets, one table per benchmark, profiles. */
import { STREAM_BYTES, STREAM_CHUNKS } from './canned.ts';
import { CLIENT_LABELS, CLIENT_NAMES } from './clients.ts';
import { loadNote, status, table } from './markdown.ts';
import { coldStartSection, embeddingsSection, longLineSection, tokensSection } from './report-sections.ts';
import {
  type BenchResults,
  type ClientBenchmark,
  checkTargets,
  cpuSpread,
  type Environment,
  type ProfiledRun,
} from './results.ts';
import { figure, percent, ratio, spread, spreadText } from './stats.ts';

function repeatNote(benchmark: ClientBenchmark): string {
  const repeated = CLIENT_NAMES.reduce(
    (sum, name) => sum + benchmark.byClient[name].measurements.filter((m) => m.repeated).length,
    0,
  );
  return repeated === 0
    ? ''
    : ` ${repeated} run(s) were measured twice because other processes took over 15 % of the CPU meanwhile; the quieter one was kept.`;
}

function environmentSection(environment: Environment): string {
  const packages = Object.entries(environment.packages)
    .map(([name, version]) => `${name} ${version}`)
    .join(', ');
  return [
    '## Machine and software',
    '',
    table(
      ['', ''],
      [
        ['date', environment.date],
        ['CPU', `${environment.cpuModel}, ${environment.cores} cores`],
        ['memory', `${environment.memoryGb} GB`],
        ['OS', environment.os],
        ['Node', environment.node],
        ['packages', packages],
        [
          'llm-factory',
          `commit ${environment.gitCommit}${environment.srcChanges ? `, with ${environment.srcChanges} uncommitted file(s) under src/ (work in progress by others at run time)` : ''}`,
        ],
        [
          'run',
          `${environment.quick ? '`--quick` (short, indicative only)' : 'full'}, ${figure(environment.durationS)} s`,
        ],
      ],
    ),
  ].join('\n');
}

function targetsSection(results: BenchResults): string {
  return [
    '## Targets',
    '',
    table(
      ['target', 'measured (medians)', 'status'],
      checkTargets(results).map((check) => [
        check.target,
        check.measured,
        status(check.met, check.borderline),
      ]),
    ),
    noiseNote(results),
  ].join('\n');
}

/** How far one client's runs strayed from their median here: the noise the verdicts live with. */
function noiseNote(results: BenchResults): string {
  let widest = 0;
  for (const benchmark of [results.completion, results.stream, results.streamFlushed]) {
    for (const name of ['ours', 'floor'] as const) {
      const runs = cpuSpread(benchmark?.byClient[name]);
      if (runs.runs > 1) widest = Math.max(widest, (runs.max - runs.min) / runs.median);
    }
  }
  if (widest === 0) return '';
  return `\nThe same client, measured again in a fresh process, varied by up to ${percent(widest, 0)} of its median (max − min) in this run: the 2-core machine is shared and virtualised. Hence medians of many interleaved runs, the run-by-run ratios beside them, and “borderline” for verdicts within 10 % of their limit.`;
}

function clientSection(benchmark: ClientBenchmark): string {
  const stream = benchmark.mode === 'stream';
  const unit = stream ? 'chunk' : 'request';
  const floor = cpuSpread(benchmark.byClient.floor).median;
  const ours = cpuSpread(benchmark.byClient.ours).median;
  const rows = CLIENT_NAMES.map((name) => {
    const runs = benchmark.byClient[name];
    if (runs.error) return [CLIENT_LABELS[name], `failed: ${runs.error.split('\n')[0]}`, '', '', '', '', ''];
    const cpu = cpuSpread(runs);
    const system = spread(
      runs.measurements.map((m) => m.cpuSystemUs / (stream ? m.count * STREAM_CHUNKS : m.count)),
    ).median;
    const perSecond = spread(
      runs.measurements.map((m) => (m.count * (stream ? STREAM_CHUNKS : 1)) / (m.wallMs / 1000)),
    );
    const rss = spread(runs.measurements.map((m) => m.maxRssKb / 1024)).median;
    return [
      name === 'ours' ? `**${CLIENT_LABELS[name]}**` : CLIENT_LABELS[name],
      spreadText(cpu),
      ratio(cpu.median, floor),
      ratio(cpu.median, ours),
      figure(system),
      figure(perSecond.median),
      figure(rss),
    ];
  });
  const flushed = benchmark.shape === 'flushed';
  const title = !stream
    ? `## 1. Client CPU per non-streaming completion (${benchmark.concurrency} in flight)`
    : flushed
      ? `## 2b. Client CPU per stream chunk, one HTTP chunk per event (${benchmark.concurrency} streams in flight)`
      : `## 2a. Client CPU per stream chunk, body in one write (${STREAM_CHUNKS}-chunk streams, ${benchmark.concurrency} in flight)`;
  const shapeText = flushed
    ? 'each event sent as its own HTTP chunk, as a server that flushes every token does, so clients read it in smaller pieces and their per-read costs (stream machinery, generator hops) weigh more'
    : 'the whole body written at once, so every client reads the same socket-sized pieces and the cost is mostly per event';
  const method = stream
    ? `Each stream is ${STREAM_CHUNKS} \`chat.completion.chunk\` events (${STREAM_CHUNKS - 1} text deltas and a finish chunk), a usage chunk and \`[DONE]\` (${figure(STREAM_BYTES / 1024)} KiB), ${shapeText}. Per client and run: ${benchmark.warmup} streams of warm-up, then ${benchmark.count} measured streams (openai and the AI SDK: ${benchmark.alternativeCount}, as each costs far more); CPU ÷ (streams × ${STREAM_CHUNKS}).`
    : `Per client and run: ${benchmark.warmup} requests of warm-up, then ${benchmark.count} measured requests (openai and the AI SDK: ${benchmark.alternativeCount}, as each costs 4–6 times more); CPU ÷ requests.`;
  return [
    title,
    '',
    `${method} Each client in a fresh process per run, clients interleaved run by run: ${benchmark.pairedRuns} runs of llm-factory and the floor (the pair the target compares), ${benchmark.runs} of the others; median (min–max) of the runs. Stub CPU per request: ${benchmark.stubCpuUsPerRequest === undefined ? 'n/a' : `${figure(benchmark.stubCpuUsPerRequest)} µs`} (its own process).${repeatNote(benchmark)}${loadNote(CLIENT_NAMES.flatMap((name) => benchmark.byClient[name].measurements.map((m) => m.otherCpuShare)))}`,
    '',
    table(
      [
        'client',
        `CPU µs / ${unit}`,
        '× floor',
        '× llm-factory',
        `of which system µs / ${unit}`,
        `${unit}s / s (wall)`,
        'max RSS MB',
      ],
      rows,
    ),
  ].join('\n');
}

function profileSection(title: string, benchmark: ClientBenchmark): string {
  const stream = benchmark.mode === 'stream';
  const unit = stream ? 'chunk' : 'request';
  const ours = benchmark.profiles.find((profile) => profile.client === 'ours');
  const floor = benchmark.profiles.find((profile) => profile.client === 'floor');
  if (!ours) return '';
  const perUnit = (profile: ProfiledRun, ms: number) =>
    (ms * 1000) / (profile.count * (stream ? STREAM_CHUNKS : 1));
  const groups = new Set([...ours.summary.groups, ...(floor?.summary.groups ?? [])].map((g) => g.group));
  const groupRows = [...groups].map((group) => {
    const oursMs = ours.summary.groups.find((g) => g.group === group)?.selfMs ?? 0;
    const floorMs = floor?.summary.groups.find((g) => g.group === group)?.selfMs ?? 0;
    return [group, figure(perUnit(ours, oursMs)), floor ? figure(perUnit(floor, floorMs)) : 'n/a'];
  });
  groupRows.sort(
    (a, b) => Number.parseFloat(b[1]!.replace(/,/g, '')) - Number.parseFloat(a[1]!.replace(/,/g, '')),
  );
  const functionRows = ours.summary.functions
    .slice(0, 15)
    .map((entry) => [
      `\`${entry.label}\``,
      entry.group,
      figure(perUnit(ours, entry.selfMs)),
      percent(entry.selfShare),
    ]);
  const inclusiveRows = ours.summary.oursInclusive
    .slice(0, 12)
    .map((entry) => [`\`${entry.label}\``, figure(perUnit(ours, entry.totalMs)), percent(entry.totalShare)]);
  return [
    `### ${title}`,
    '',
    `\`node --cpu-prof --cpu-prof-interval 100\`, only the samples inside the measured window (${ours.count} ${stream ? 'streams' : 'requests'}). Profiled runs are slower than the timed ones (${figure(ours.cpuUsPerOperation / (stream ? STREAM_CHUNKS : 1))} µs / ${unit} for llm-factory here), so read the µs as proportions. Main thread only; the profile files are in \`bench/.tmp/profiles/\`.`,
    '',
    'Self time by package, µs per ' + unit + ':',
    '',
    table(['where', 'llm-factory run', 'floor run'], groupRows),
    '',
    'Top self-time functions in the llm-factory run:',
    '',
    table(['function', 'package', `self µs / ${unit}`, 'share of busy'], functionRows),
    '',
    'llm-factory functions by inclusive time (everything below them on the stack):',
    '',
    table(['function', `total µs / ${unit}`, 'share of busy'], inclusiveRows),
  ].join('\n');
}

export function renderReport(results: BenchResults): string {
  const sections = [
    '# llm-factory benchmarks',
    '',
    'Written by `npm run bench` (bench/run.ts); do not edit by hand. Every client runs in its own process against the same local stub (a bare node:http server in another process answering instantly with canned OpenAI bytes), on the machine below. CPU is `process.cpuUsage()` (user + system, all threads) of the client process over the measured window only.',
    '',
    environmentSection(results.environment),
    '',
    targetsSection(results),
  ];
  if (results.completion) sections.push('', clientSection(results.completion));
  if (results.stream) sections.push('', clientSection(results.stream));
  if (results.streamFlushed) sections.push('', clientSection(results.streamFlushed));
  if (results.embeddings) sections.push('', embeddingsSection(results.embeddings));
  if (results.tokens) sections.push('', tokensSection(results.tokens));
  if (results.coldStart) sections.push('', coldStartSection(results.coldStart));
  if (results.longLine) sections.push('', longLineSection(results.longLine));
  if (results.completion || results.stream || results.streamFlushed) {
    sections.push('', '## Where llm-factory’s CPU goes (profiles)');
    if (results.completion) sections.push('', profileSection('Non-streaming completion', results.completion));
    if (results.stream) sections.push('', profileSection('Stream, body in one write', results.stream));
    if (results.streamFlushed) {
      sections.push('', profileSection('Stream, one HTTP chunk per event', results.streamFlushed));
    }
  }
  sections.push(
    '',
    '## Reproduce',
    '',
    '```sh',
    'npm run bench             # everything, about 4–5 minutes on 2 cores; writes bench/RESULTS.md',
    'npm run bench -- --quick  # about a minute; writes bench/.tmp/RESULTS-quick.md',
    'npm run bench -- --only=completion,stream   # any of: completion, stream, stream-flushed, embeddings, tokens, cold-start, long-line',
    '```',
    '',
    'Raw measurements of the last run: `bench/.tmp/results.json`.',
    '',
  );
  return sections.join('\n');
}
