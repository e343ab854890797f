/** The gateway benchmark's section of bench/RESULTS.md, and its targets (bench/gateway.ts measures). */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import type { LatencyResult, StreamsResult, ThroughputResult } from './gateway-load-worker.ts';
import { loadNote, status, table } from './markdown.ts';
import { REPOSITORY_ROOT, type WorkerStats } from './processes.ts';
import { figure, spread, spreadText } from './stats.ts';

export const TARGET_NAMES = [
  'direct OpenAI',
  'llm-factory pass-through',
  'llm-factory pass-through, master key',
  'Portkey pass-through',
  'direct Anthropic',
  'llm-factory translated',
  'Portkey translated',
] as const;
export type TargetName = (typeof TARGET_NAMES)[number];

export interface GatewaySettings {
  runs: number;
  throughputS: number;
  connections: number;
  rate: number;
  latencyS: number;
  streams: number;
  paced: { events: number; intervalMs: number };
  soakRequests: number;
}

export type ThroughputRun = ThroughputResult &
  WorkerStats & { cpuUsPerRequest: number | undefined; rssBytes: number | undefined };
export type StreamsRun = StreamsResult &
  WorkerStats & {
    rssBeforeBytes: number | undefined;
    rssPeakBytes: number;
    rssAfterBytes: number | undefined;
  };
export interface SoakRun extends ThroughputResult, WorkerStats {
  wallMs: number;
  samples: Array<{ atMs: number; rssBytes: number }>;
}

export interface GatewayResults {
  settings: GatewaySettings;
  throughput: Partial<Record<TargetName, ThroughputRun[]>>;
  latency: Partial<Record<TargetName, Array<LatencyResult & WorkerStats>>>;
  streams: Partial<Record<'ours' | 'portkey', StreamsRun>>;
  idleRssBytes: { ours: number | undefined; portkey: number | undefined };
  soak?: SoakRun;
}

const MB = 2 ** 20;
const mb = (bytes: number | undefined) => (bytes === undefined ? 'n/a' : figure(bytes / MB));

function version(name: string): string {
  try {
    const manifest = readFileSync(join(REPOSITORY_ROOT, 'node_modules', name, 'package.json'), 'utf8');
    return (JSON.parse(manifest) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

const directOf = (name: TargetName): TargetName =>
  name.endsWith('translated') || name === 'direct Anthropic' ? 'direct Anthropic' : 'direct OpenAI';

const portkeyOf = (name: TargetName): TargetName =>
  name.endsWith('translated') ? 'Portkey translated' : 'Portkey pass-through';

const rps = (results: GatewayResults, name: TargetName) =>
  spread((results.throughput[name] ?? []).map((run) => run.requestsPerSecond));

/** Per run, the gateway's percentile minus the direct path's in the same round. */
function added(results: GatewayResults, name: TargetName, field: 'p50Ms' | 'p99Ms') {
  const runs = results.latency[name] ?? [];
  const direct = results.latency[directOf(name)] ?? [];
  return spread(runs.flatMap((run, index) => (direct[index] ? [run[field] - direct[index][field]] : [])));
}

/** Least-squares slope of RSS over the second half of the soak, bytes per request. */
function soakSlope(soak: SoakRun): number | undefined {
  const half = soak.samples.slice(Math.floor(soak.samples.length / 2));
  if (half.length < 4 || soak.requests === 0) return undefined;
  const requestsPerMs = soak.requests / soak.wallMs;
  const xs = half.map((sample) => sample.atMs * requestsPerMs);
  const ys = half.map((sample) => sample.rssBytes);
  const meanX = xs.reduce((a, b) => a + b, 0) / xs.length;
  const meanY = ys.reduce((a, b) => a + b, 0) / ys.length;
  let numerator = 0;
  let denominator = 0;
  xs.forEach((x, i) => {
    numerator += (x - meanX) * (ys[i]! - meanY);
    denominator += (x - meanX) ** 2;
  });
  return denominator === 0 ? undefined : numerator / denominator;
}

export interface GatewayTargetCheck {
  target: string;
  measured: string;
  met: boolean | undefined;
}

export function targetsMet(results: GatewayResults): GatewayTargetCheck[] {
  const checks: GatewayTargetCheck[] = [];
  const ours = [
    'llm-factory pass-through',
    'llm-factory pass-through, master key',
    'llm-factory translated',
  ] as const;
  for (const name of ours) {
    const measured = rps(results, name).median;
    const portkey = rps(results, portkeyOf(name)).median;
    const times = measured / portkey;
    checks.push({
      target: `requests/s at ${results.settings.connections} connections ≥ 3× Portkey's (${name.slice('llm-factory '.length)})`,
      measured: `${figure(times)}× (${figure(measured)} vs ${figure(portkey)})`,
      met: Number.isFinite(times) ? times >= 3 : undefined,
    });
  }
  for (const name of ours) {
    const path = name.slice('llm-factory '.length);
    const p50 = added(results, name, 'p50Ms').median;
    const p99 = added(results, name, 'p99Ms').median;
    checks.push({
      target: `added p50 ≤ 0.5 ms at ${results.settings.rate} req/s (${path})`,
      measured: `${figure(p50)} ms`,
      met: Number.isFinite(p50) ? p50 <= 0.5 : undefined,
    });
    checks.push({
      target: `added p99 ≤ 2 ms at ${results.settings.rate} req/s (${path})`,
      measured: `${figure(p99)} ms`,
      met: Number.isFinite(p99) ? p99 <= 2 : undefined,
    });
  }
  const soak = results.soak;
  const slope = soak ? soakSlope(soak) : undefined;
  if (soak && slope !== undefined) {
    // "No growth": over the second half, less than 16 MB a million requests (a leak of a few bytes a
    // request, 10 or more, would show as that much).
    const perMillionMb = (slope * 1e6) / MB;
    checks.push({
      target: `RSS through ${soak.requests.toLocaleString('en-US')} requests: no growth (slope over the second half < 16 MB per million)`,
      measured: `${figure(perMillionMb)} MB per million`,
      met: perMillionMb < 16,
    });
  }
  return checks;
}

function throughputTable(results: GatewayResults): string {
  const rows = TARGET_NAMES.map((name) => {
    const runs = results.throughput[name] ?? [];
    const versus = name.startsWith('llm-factory')
      ? `${figure(rps(results, name).median / rps(results, portkeyOf(name)).median)}×`
      : '—';
    const cpu = spread(
      runs.flatMap((run) => (run.cpuUsPerRequest === undefined ? [] : [run.cpuUsPerRequest])),
    );
    const rss = spread(runs.flatMap((run) => (run.rssBytes === undefined ? [] : [run.rssBytes / MB])));
    const failures = runs.reduce((sum, run) => sum + run.non2xx + run.errors, 0);
    return [
      name.startsWith('llm-factory') ? `**${name}**` : name,
      spreadText(rps(results, name)),
      versus,
      name.startsWith('direct') ? '—' : spreadText(cpu),
      name.startsWith('direct') ? '—' : spreadText(rss),
      String(failures),
    ];
  });
  return table(
    ['path', 'requests / s', '× Portkey', 'gateway CPU µs / request', 'gateway RSS MB', 'non-2xx + errors'],
    rows,
  );
}

function latencyTable(results: GatewayResults): string {
  const rows = TARGET_NAMES.map((name) => {
    const runs = results.latency[name] ?? [];
    const pick = (field: 'p50Ms' | 'p90Ms' | 'p99Ms' | 'maxMs') =>
      spreadText(spread(runs.map((r) => r[field])));
    const direct = name.startsWith('direct');
    return [
      name.startsWith('llm-factory') ? `**${name}**` : name,
      pick('p50Ms'),
      pick('p90Ms'),
      pick('p99Ms'),
      direct ? '—' : spreadText(added(results, name, 'p50Ms')),
      direct ? '—' : spreadText(added(results, name, 'p99Ms')),
      String(runs.reduce((sum, run) => sum + run.failed, 0)),
    ];
  });
  return table(['path', 'p50 ms', 'p90 ms', 'p99 ms', 'added p50 ms', 'added p99 ms', 'failed'], rows);
}

function streamsTable(results: GatewayResults): string {
  const rows = (['ours', 'portkey'] as const).map((who) => {
    const run = results.streams[who];
    const name = who === 'ours' ? '**llm-factory**' : 'Portkey';
    if (!run) return [name, 'not measured', '', '', '', '', '', ''];
    const perStream =
      run.rssBeforeBytes === undefined
        ? 'n/a'
        : figure((run.rssPeakBytes - run.rssBeforeBytes) / 1024 / results.settings.streams);
    return [
      name,
      `${run.completed} (${run.failed} failed)`,
      figure(run.wallMs / 1000),
      `${run.eventsMin}–${run.eventsMax}`,
      mb(run.rssBeforeBytes),
      mb(run.rssPeakBytes),
      mb(run.rssAfterBytes),
      perStream,
    ];
  });
  return table(
    [
      'gateway',
      'streams completed',
      'wall s',
      'events per stream',
      'RSS before MB',
      'peak MB',
      'after MB',
      'KB per stream at peak',
    ],
    rows,
  );
}

function soakText(results: GatewayResults): string {
  const soak = results.soak;
  if (!soak) return 'Not measured.';
  const samples = soak.samples;
  const at = (share: number) =>
    samples[Math.min(samples.length - 1, Math.floor(share * samples.length))]?.rssBytes;
  const slope = soakSlope(soak);
  const max = Math.max(...samples.map((sample) => sample.rssBytes));
  return [
    `${soak.requests.toLocaleString('en-US')} pass-through requests through llm-factory (virtual key, SQLite state, ${results.settings.connections} connections) in ${figure(soak.wallMs / 1000)} s (${figure(soak.requests / (soak.wallMs / 1000))} req/s), ${soak.non2xx + soak.errors} non-2xx or errors; the gateway's RSS sampled every 250 ms: ${mb(at(0.1))} MB at 10 % of the requests, ${mb(at(0.5))} MB at half, ${mb(at(1))} MB at the end, ${mb(max)} MB at most.`,
    slope === undefined
      ? ''
      : ` The least-squares slope of RSS over the second half is ${figure((slope * 1e6) / MB)} MB per million requests${soak.requests >= 1e6 ? '' : ' (extrapolated)'}.`,
    soak.requests < 1e6
      ? ` \`node bench/gateway.ts --soak=1000000\` runs the whole million (about ${figure(1e6 / (soak.requests / (soak.wallMs / 1000)) / 60)} min at this rate).`
      : '',
  ].join('');
}

export function renderGatewaySection(results: GatewayResults): string {
  const { settings } = results;
  const load = loadNote([
    ...Object.values(results.throughput).flatMap((runs) => runs.map((run) => run.otherCpuShare)),
    ...Object.values(results.latency).flatMap((runs) => runs.map((run) => run.otherCpuShare)),
  ]);
  return [
    '<!-- gateway:start -->',
    '## Gateway: llm-factory beside Portkey (bench/gateway.ts)',
    '',
    `${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${availableParallelism()} cores shared by every process below. One run, one stub (bench/stub-server.ts) in its own process; each gateway in its own: llm-factory's \`startGateway\` with its defaults (SQLite state, metrics on), in a process set as \`llmf serve\` sets it (V8's allocation-site pretenuring off, decision 0010), and a virtual key with rpm, tpm and a daily budget, so that every request is authenticated, reserved against the key's limits and budget and settled in the ledger (the "master key" row skips that: the master key has no limits to keep, which is as much as Portkey does); Portkey's open-source gateway \`@portkey-ai/gateway\` ${version('@portkey-ai/gateway')} (\`@hono/node-server\` ${version('@hono/node-server')}), unchanged, told where to go by its \`x-portkey-provider\` and \`x-portkey-custom-host\` headers (it keeps no keys, limits or spend). "Pass-through": an OpenAI Chat Completions request to an OpenAI-protocol upstream; "translated": the same request to an Anthropic Messages upstream (the stub's \`/anthropic/v1/messages\`), translated both ways by each gateway; "direct" is the load generator talking to the stub itself. Every measurement checks one answer first (status 200, the canned text).${load}`,
    '',
    `### Requests per second, ${settings.connections} connections`,
    '',
    `autocannon ${version('autocannon')} in its own process, ${settings.connections} keep-alive connections, closed loop, ${settings.throughputS} s per run after a 2 s warm-up of every path; ${settings.runs} interleaved run(s), median (min–max). The load generator, the stub and the gateway share the 2 cores, so a gateway's rate is bounded by its CPU per request; CPU µs per request is the gateway process's own CPU time (from /proc) over the run's requests, RSS its resident memory after the run (idle before the runs: llm-factory ${mb(results.idleRssBytes.ours)} MB, Portkey ${mb(results.idleRssBytes.portkey)} MB).`,
    '',
    throughputTable(results),
    '',
    `### Latency at a fixed ${settings.rate} requests per second`,
    '',
    `Open loop (bench/gateway-load-worker.ts): a request sent every ${figure(1000 / settings.rate)} ms on an undici pool of 64 connections whatever the answers do, ${settings.latencyS} s (${(settings.rate * settings.latencyS).toLocaleString('en-US')} requests) per run after 2 s discarded; time from sending to the whole answer read. "Added" is the path's percentile minus the direct path's in the same protocol and round; median (min–max) over ${settings.runs} interleaved run(s).`,
    '',
    latencyTable(results),
    '',
    `### ${settings.streams.toLocaleString('en-US')} streams at once`,
    '',
    `${settings.streams.toLocaleString('en-US')} streaming requests opened together (one connection each), each answered by the stub with ${settings.paced.events} text deltas ${settings.paced.intervalMs} ms apart (as a model generates them), then the finish, usage and \`[DONE]\` events, read to the end and checked. The gateway's RSS sampled every 50 ms; "after" is 2 s after the last stream ended.`,
    '',
    streamsTable(results),
    '',
    '### Soak',
    '',
    soakText(results),
    '',
    '### Targets',
    '',
    table(
      ['target', 'measured', 'status'],
      targetsMet(results).map((check) => [check.target, check.measured, status(check.met)]),
    ),
    '<!-- gateway:end -->',
    '',
  ].join('\n');
}
