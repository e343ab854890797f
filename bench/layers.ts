/**
 * `node bench/layers.ts`: what the optional layers cost. Client CPU µs per completion against a local stub
 * (in its own process) with no layer, with metrics, with tracing (no SDK, and an SDK with a no-op
 * exporter), with a logger, and with all of them; then the latency of a cache hit per store (memory,
 * SQLite, Redis on loopback). Appends its section to bench/RESULTS.md (replacing the previous one).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trace } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { type ClientOptions, createClient } from '../src/index.ts';
import { writeSection } from './markdown.ts';
import { cpuPerCall, median } from './per-call.ts';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 5;
const REQUESTS = quick ? 1500 : 5000;
const HITS = 1000;

const STUB = `
const { createServer } = require('node:http');
const body = JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', created: 1, model: 'gpt-4o-mini',
  choices: [{ index: 0, message: { role: 'assistant', content: 'Hello there, how can I help?' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 10, completion_tokens: 8, total_tokens: 18 } });
const server = createServer((req, res) => { req.resume(); req.on('end', () => {
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-request-id': 'req_1' });
  res.end(body); }); });
server.listen(0, '127.0.0.1', () => process.send(server.address().port));
`;

const cpuWith = (baseURL: string, options: ClientOptions) =>
  cpuPerCall(createClient('openai/gpt-4o-mini', { apiKey: 'sk-bench', baseURL, ...options }), REQUESTS);

const silentLogger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  isLevelEnabled: () => false,
};
const countingLogger = {
  lines: 0,
  debug() {},
  info() {
    this.lines++;
  },
  warn() {},
  error() {},
};
class NullExporter implements SpanExporter {
  export(_spans: ReadableSpan[], done: (result: { code: number }) => void) {
    done({ code: 0 });
  }
  async shutdown() {}
}

/** The stub in its own process, so that its CPU is not the client's. */
async function startStub(): Promise<{ child: ChildProcess; baseURL: string }> {
  const child = spawn(process.execPath, ['-e', STUB], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) =>
    child.once('message', (message) => resolve(message as number)),
  );
  return { child, baseURL: `http://127.0.0.1:${port}/v1` };
}

async function main() {
  const { child, baseURL } = await startStub();

  const withSdk = () => {
    trace.setGlobalTracerProvider(
      new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new NullExporter())] }),
    );
  };
  const configs: Array<[string, ClientOptions, (() => void)?]> = [
    ['no optional layer', {}],
    ['metrics', { metrics: true }],
    ['tracing, no SDK registered', { tracing: true }],
    ['tracing, SDK with a no-op exporter', { tracing: true }, withSdk],
    ['logger (level off)', { logger: silentLogger }],
    ['logger (info on, discarding)', { logger: countingLogger }],
    ['metrics + tracing (SDK) + logger', { metrics: true, tracing: true, logger: countingLogger }, withSdk],
  ];
  const results = new Map<string, number[]>();
  // One pass to warm the JIT for every configuration, then interleaved runs: each configuration sees
  // the same machine conditions.
  for (let run = -1; run < RUNS; run++) {
    for (const [name, options, setup] of configs) {
      setup?.();
      const value = await cpuWith(baseURL, options);
      trace.disable();
      if (run >= 0) results.set(name, [...(results.get(name) ?? []), value]);
    }
  }
  child.kill();

  const { child: hitStub, baseURL: hitURL } = await startStub();
  const storeDir = mkdtempSync(join(tmpdir(), 'llmf-bench-'));
  const hits: Array<[string, number | string]> = [];
  for (const [name, cache] of [
    ['memory', { store: 'memory' }],
    ['SQLite (file, WAL)', { store: 'sqlite', path: join(storeDir, 'cache.sqlite') }],
    ['Redis (loopback)', { store: 'redis', url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' }],
  ] as const) {
    const client = createClient('openai/gpt-4o-mini', { apiKey: 'sk-bench-cache', baseURL: hitURL, cache });
    let value: number | string;
    try {
      await client.complete({ prompt: `warm ${name}` });
      const times: number[] = [];
      for (let i = 0; i < HITS + 100; i++) {
        const started = performance.now();
        const result = await client.complete({ prompt: `warm ${name}` });
        if (i >= 100) times.push(performance.now() - started);
        if (!result.cached) throw new Error('expected a cache hit');
      }
      value = median(times) * 1000;
    } catch (error) {
      value = `unavailable (${(error as Error).message.slice(0, 80)})`;
    }
    await client.close();
    hits.push([name, value]);
  }
  hitStub.kill();

  const base = median(results.get('no optional layer')!);
  const lines = [
    '<!-- layers:start -->',
    '## Layers: what the optional middleware costs (bench/layers.ts)',
    '',
    `Client CPU µs per non-streaming completion, 32 in flight, against a stub in its own process; ${REQUESTS} requests per run after 500 of warm-up, a first pass over every configuration discarded, then ${RUNS} interleaved runs, median; one process for every configuration (so absolute numbers differ from section 1's: the differences are what counts, and they are within the run-to-run noise of a few µs when small).`,
    '',
    '| layers | CPU µs / request | added µs / request |',
    '| --- | --- | --- |',
    ...configs.map(([name]) => {
      const value = median(results.get(name)!);
      return `| ${name} | ${value.toFixed(1)} | ${name === 'no optional layer' ? '—' : `${value - base >= 0 ? '+' : ''}${(value - base).toFixed(1)}`} |`;
    }),
    '',
    `Cache-hit latency: a whole \`complete\` served from the cache, median of ${HITS} hits after 100 of warm-up, a 1-message request.`,
    '',
    '| store | median µs per hit |',
    '| --- | --- |',
    ...hits.map(([name, value]) => `| ${name} | ${typeof value === 'number' ? value.toFixed(1) : value} |`),
    '<!-- layers:end -->',
    '',
  ];
  const section = lines.join('\n');
  writeSection('layers', section);
  console.log(section);
  process.exit(0);
}

await main();
