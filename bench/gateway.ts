/**
 * `node bench/gateway.ts [--quick] [--soak=<requests>]` (or `npm run bench -- --only=gateway`): the gateway
 * beside Portkey's open-source gateway, on the same stub, in one run. Every party in its own process: the
 * stub (bench/stub-server.ts), our gateway (bench/gateway-server.ts: `startGateway`, SQLite state, a virtual
 * key with rpm, tpm and a daily budget, so every request is authenticated, reserved and settled; and the
 * master key, which has no limits to keep), Portkey's
 * (bench/portkey-server.ts), and the load (bench/gateway-load-worker.ts). Measured:
 *
 * 1. requests per second at 64 connections (autocannon, closed loop), with each gateway's CPU per request
 *    and resident memory: direct to the stub, pass-through (an OpenAI client to an OpenAI deployment) and
 *    translated (an OpenAI client to an Anthropic deployment), for both gateways;
 * 2. latency at a fixed 500 requests per second (open loop): percentiles, and what each gateway adds over
 *    going direct to the stub in the same protocol;
 * 3. 1,000 streams at once through each gateway (paced like a model's), and the gateway's memory meanwhile;
 * 4. a soak through our gateway: RSS sampled while `--soak` requests (default 1,000,000, the million,
 *    about 1.5 minutes; 30,000 quick) go through it, and the slope of RSS over the second half (extrapolated
 *    to a million when `--soak=N` asks for fewer).
 *
 * Writes its section into bench/RESULTS.md between `<!-- gateway:start -->` and `<!-- gateway:end -->`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { API_KEY, COMPLETION_TEXT, MESSAGES, MODEL, PROMPT, SYSTEM } from './canned.ts';
import type {
  LatencyResult,
  LoadJob,
  StreamsResult,
  Target,
  ThroughputResult,
} from './gateway-load-worker.ts';
import { type GatewayResults, renderGatewaySection, type TargetName, targetsMet } from './gateway-report.ts';
import { rotated, waitForQuiet } from './harness.ts';
import { writeSection } from './markdown.ts';
import { runWorker, type ServerProcess, startServer, type WorkerStats } from './processes.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const soakArgument = args.find((arg) => arg.startsWith('--soak='));
export const SETTINGS = {
  runs: quick ? 1 : 3,
  throughputS: quick ? 4 : 6,
  connections: 64,
  rate: 500,
  latencyS: quick ? 6 : 12,
  streams: 1000,
  paced: { events: 30, intervalMs: 100 },
  soakRequests: soakArgument ? Number(soakArgument.slice('--soak='.length)) : quick ? 30_000 : 1_000_000,
};
export const MASTER_KEY = 'bench-master-key-not-real-0000';

const harness = {
  log: (message: string) => console.error(`[gateway] ${message}`),
  quietWaitLeftMs: 60_000,
};

/** The chat request every target gets, in OpenAI's shape or Anthropic's. */
function openAIBody(model: string, stream = false): string {
  return JSON.stringify({ model, messages: MESSAGES, max_tokens: 256, ...(stream ? { stream: true } : {}) });
}
const ANTHROPIC_BODY = JSON.stringify({
  model: 'claude-sonnet-4-5',
  system: SYSTEM,
  messages: [{ role: 'user', content: PROMPT }],
  max_tokens: 256,
});
const JSON_TYPE = { 'content-type': 'application/json' };

/**
 * Our gateway (bench/gateway-server.ts) in its own process over `stub`, its SQLite state in a new temporary
 * folder; `stop()` ends the process and deletes the folder.
 */
export async function startOurGateway(stub: string): Promise<ServerProcess> {
  const stateDir = mkdtempSync(join(tmpdir(), 'llmf-bench-gateway-'));
  const server = await startServer('gateway-server.ts', {
    stub,
    masterKey: MASTER_KEY,
    stateDir,
    paced: SETTINGS.paced,
  });
  return {
    ...server,
    stop: async () => {
      await server.stop();
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

/** A virtual key with rpm, tpm and a daily budget, so that every request is reserved and settled. */
export async function createKey(gateway: string): Promise<string> {
  const response = await fetch(`${gateway}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER_KEY}`, ...JSON_TYPE },
    body: JSON.stringify({
      name: 'bench',
      rpm: 1_000_000_000,
      tpm: 1_000_000_000_000,
      budgetUsd: 1_000_000_000,
      budgetPeriod: 'day',
    }),
  });
  if (response.status !== 201)
    throw new Error(`POST /admin/keys: ${response.status} ${await response.text()}`);
  return ((await response.json()) as { key: string }).key;
}

export function targets(
  stub: string,
  ours: string,
  portkey: string,
  key: string,
): Record<TargetName, Target> {
  const bearer = (value: string) => ({ authorization: `Bearer ${value}`, ...JSON_TYPE });
  const viaPortkey = (provider: string, host: string) => ({
    ...bearer(API_KEY),
    'x-portkey-provider': provider,
    'x-portkey-custom-host': host,
  });
  const expect = COMPLETION_TEXT;
  return {
    'direct OpenAI': {
      url: `${stub}/complete/v1/chat/completions`,
      headers: bearer(API_KEY),
      body: openAIBody(MODEL),
      expect,
    },
    'direct Anthropic': {
      url: `${stub}/anthropic/v1/messages`,
      headers: { 'x-api-key': API_KEY, 'anthropic-version': '2023-06-01', ...JSON_TYPE },
      body: ANTHROPIC_BODY,
      expect,
    },
    'llm-factory pass-through': {
      url: `${ours}/v1/chat/completions`,
      headers: bearer(key),
      body: openAIBody(MODEL),
      expect,
    },
    'llm-factory pass-through, master key': {
      url: `${ours}/v1/chat/completions`,
      headers: bearer(MASTER_KEY),
      body: openAIBody(MODEL),
      expect,
    },
    'llm-factory translated': {
      url: `${ours}/v1/chat/completions`,
      headers: bearer(key),
      body: openAIBody('claude-sonnet-4-5'),
      expect,
    },
    'Portkey pass-through': {
      url: `${portkey}/v1/chat/completions`,
      headers: viaPortkey('openai', `${stub}/complete/v1`),
      body: openAIBody(MODEL),
      expect,
    },
    'Portkey translated': {
      url: `${portkey}/v1/chat/completions`,
      headers: viaPortkey('anthropic', `${stub}/anthropic/v1`),
      body: openAIBody('claude-sonnet-4-5'),
      expect,
    },
  };
}

/** The gateway process a target goes through, if any. */
function gatewayOf(name: TargetName, ours: ServerProcess, portkey: ServerProcess): ServerProcess | undefined {
  if (name.startsWith('llm-factory')) return ours;
  if (name.startsWith('Portkey')) return portkey;
  return undefined;
}

async function main(): Promise<void> {
  const stub = await startServer('stub-server.ts');
  const ours = await startOurGateway(stub.url);
  const portkey = await startServer('portkey-server.ts');
  const servers = [stub, ours, portkey];
  const results: GatewayResults = {
    settings: SETTINGS,
    throughput: {},
    latency: {},
    streams: {},
    idleRssBytes: { ours: ours.memory()?.rssBytes, portkey: portkey.memory()?.rssBytes },
  };
  try {
    const key = await createKey(ours.url);
    const all = targets(stub.url, ours.url, portkey.url, key);
    const names = Object.keys(all) as TargetName[];
    const run = <T>(job: LoadJob) =>
      runWorker<T>('gateway-load-worker.ts', job, { servers, timeoutMs: 600_000 });

    harness.log('warming up every path');
    for (const name of names) {
      await run({ kind: 'throughput', target: all[name], connections: SETTINGS.connections, durationS: 2 });
    }
    harness.log(`requests per second at ${SETTINGS.connections} connections, ${SETTINGS.runs} run(s)`);
    for (let round = 0; round < SETTINGS.runs; round++) {
      for (const name of rotated(names, round)) {
        await waitForQuiet(harness, servers);
        const gateway = gatewayOf(name, ours, portkey);
        const cpuBefore = gateway?.cpuMs();
        const measured = await run<ThroughputResult>({
          kind: 'throughput',
          target: all[name],
          connections: SETTINGS.connections,
          durationS: SETTINGS.throughputS,
        });
        const cpuAfter = gateway?.cpuMs();
        const cpuUsPerRequest =
          cpuBefore !== undefined && cpuAfter !== undefined
            ? ((cpuAfter - cpuBefore) * 1000) / measured.requests
            : undefined;
        results.throughput[name] = [
          ...(results.throughput[name] ?? []),
          {
            ...measured,
            cpuUsPerRequest,
            rssBytes: gateway?.memory()?.rssBytes,
          },
        ];
        harness.log(`${name}: ${Math.round(measured.requestsPerSecond)} req/s`);
      }
    }

    harness.log(`latency at ${SETTINGS.rate} requests per second, open loop`);
    for (let round = 0; round < SETTINGS.runs; round++) {
      for (const name of rotated(names, round)) {
        await waitForQuiet(harness, servers);
        const measured = await run<LatencyResult>({
          kind: 'latency',
          target: all[name],
          rate: SETTINGS.rate,
          durationS: SETTINGS.latencyS,
        });
        results.latency[name] = [...(results.latency[name] ?? []), measured];
        harness.log(`${name}: p50 ${measured.p50Ms.toFixed(3)} ms, p99 ${measured.p99Ms.toFixed(3)} ms`);
      }
    }

    harness.log(`${SETTINGS.streams} streams at once`);
    const pacedTargets: Array<['ours' | 'portkey', ServerProcess, Target]> = [
      [
        'ours',
        ours,
        {
          url: `${ours.url}/v1/chat/completions`,
          headers: all['llm-factory pass-through'].headers,
          body: openAIBody('paced', true),
          expect: '[DONE]',
        },
      ],
      [
        'portkey',
        portkey,
        {
          url: `${portkey.url}/v1/chat/completions`,
          headers: {
            ...all['Portkey pass-through'].headers,
            'x-portkey-custom-host': `${stub.url}/paced/${SETTINGS.paced.events}/${SETTINGS.paced.intervalMs}/v1`,
          },
          body: openAIBody(MODEL, true),
          expect: '[DONE]',
        },
      ],
    ];
    for (const [who, gateway, target] of pacedTargets) {
      await waitForQuiet(harness, servers);
      const before = gateway.memory()?.rssBytes;
      let peak = before ?? 0;
      const sampler = setInterval(() => {
        peak = Math.max(peak, gateway.memory()?.rssBytes ?? 0);
      }, 50);
      const measured = await run<StreamsResult>({ kind: 'streams', target, count: SETTINGS.streams });
      clearInterval(sampler);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      results.streams[who] = {
        ...measured,
        rssBeforeBytes: before,
        rssPeakBytes: peak,
        rssAfterBytes: gateway.memory()?.rssBytes,
      };
      harness.log(
        `${who}: ${measured.completed} streams in ${Math.round(measured.wallMs)} ms, peak RSS ${Math.round(peak / 2 ** 20)} MB`,
      );
    }

    harness.log(`soak: ${SETTINGS.soakRequests.toLocaleString('en-US')} requests through llm-factory`);
    await waitForQuiet(harness, servers);
    const samples: Array<{ atMs: number; rssBytes: number }> = [];
    const soakStart = performance.now();
    const sampler = setInterval(() => {
      const rssBytes = ours.memory()?.rssBytes;
      if (rssBytes !== undefined) samples.push({ atMs: performance.now() - soakStart, rssBytes });
    }, 250);
    const soak = await run<ThroughputResult & WorkerStats>({
      kind: 'soak',
      target: all['llm-factory pass-through'],
      connections: SETTINGS.connections,
      requests: SETTINGS.soakRequests,
    });
    clearInterval(sampler);
    results.soak = { ...soak, wallMs: performance.now() - soakStart, samples };
  } finally {
    await Promise.all(servers.map((server) => server.stop()));
  }

  const section = renderGatewaySection(results);
  writeSection('gateway', section);
  console.log(section);
  console.log('\nGateway targets:');
  for (const check of targetsMet(results)) {
    console.log(`  ${check.met ? 'met   ' : 'MISSED'}  ${check.target}: ${check.measured}`);
  }
}

// Run as a script (npm run bench); bench/gateway-path.ts imports the targets.
if (import.meta.main) {
  await main();
  process.exit(0);
}
