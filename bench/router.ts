/**
 * `node bench/router.ts` (or `npm run bench -- --only=router`): what the router adds to a call against a
 * healthy deployment.
 *
 * 1. The router's own CPU: the same client with a layer that answers at once (no HTTP, so nothing but the
 *    client and the router is measured), bare and routed; paired runs, the median of their differences.
 * 2. Client CPU µs per completion with 32 in flight against the stub (in its own process): the bare
 *    client, routers with state in memory (one deployment; three under each strategy) and in Redis.
 * 3. Wall-clock latency of one call at a time: bare, routed with state in memory, and in Redis.
 *
 * Writes its section into bench/RESULTS.md between `<!-- router:start -->` and `<!-- router:end -->`,
 * leaving the rest of the file as it is.
 */
import {
  type ClientOptions,
  type CompletionResult,
  createClient,
  createRouter,
  type Middleware,
  type RouterConfig,
  type RoutingStrategy,
} from '../src/index.ts';
import { writeSection } from './markdown.ts';
import { type Callable, cpuPerCall, median } from './per-call.ts';
import { startServer } from './processes.ts';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 7;
const REQUESTS = quick ? 1500 : 5000;
const SEQUENTIAL = quick ? 500 : 2000;
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const PREFIX = `llmf-bench-router-${process.pid}:`;

const ISOLATED_CALLS = quick ? 50_000 : 200_000;

/** A layer that answers every completion at once: what remains is the client's and the router's own work. */
const canned: Middleware = {
  name: 'canned',
  complete: async (request): Promise<CompletionResult> => ({
    text: 'Hello there, how can I help?',
    message: { role: 'assistant', content: [{ type: 'text', text: 'Hello there, how can I help?' }] },
    toolCalls: [],
    finishReason: 'stop',
    usage: { inputTokens: 10, outputTokens: 8, totalTokens: 18 },
    model: request.model,
    id: 'chatcmpl-canned',
    provider: 'openai',
    raw: undefined,
  }),
};

/** CPU ns per call, one call at a time, with nothing but the client and the router working. */
async function isolatedNsPerCall(make: () => Callable): Promise<number> {
  const client = make();
  for (let i = 0; i < 20_000; i++) await client.complete({ prompt: 'hello' });
  const before = process.cpuUsage();
  for (let i = 0; i < ISOLATED_CALLS; i++) await client.complete({ prompt: 'hello' });
  const used = process.cpuUsage(before);
  await client.close();
  return ((used.user + used.system) * 1000) / ISOLATED_CALLS;
}

/** Runs every configuration `runs` times, interleaved, after a discarded warm-up pass. */
async function interleaved(
  configs: Array<[string, () => Callable]>,
  measure: (make: () => Callable) => Promise<number>,
): Promise<Map<string, number[]>> {
  const results = new Map<string, number[]>();
  for (let run = -1; run < RUNS; run++) {
    for (const [name, make] of configs) {
      const value = await measure(make);
      if (run >= 0) results.set(name, [...(results.get(name) ?? []), value]);
    }
  }
  return results;
}

/** The median over runs of (configuration − bare) in the same run: drift between runs cancels out. */
function pairedAdded(results: Map<string, number[]>, name: string, bare: string): number {
  const values = results.get(name)!;
  const base = results.get(bare)!;
  return median(values.map((value, run) => value - base[run]!));
}

const quantile = (values: number[], q: number) =>
  [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(q * values.length))]!;

/** Wall-clock ms of each call, one at a time. */
async function latencies(make: () => Callable): Promise<number[]> {
  const client = make();
  for (let i = 0; i < 200; i++) await client.complete({ prompt: 'hello' });
  const times: number[] = [];
  for (let i = 0; i < SEQUENTIAL; i++) {
    const started = performance.now();
    await client.complete({ prompt: 'hello' });
    times.push(performance.now() - started);
  }
  await client.close();
  return times;
}

async function redisAnswers(): Promise<boolean> {
  const { createClient: createRedis } = await import('@redis/client');
  const redis = createRedis({ url: REDIS_URL, socket: { connectTimeout: 1_000, reconnectStrategy: false } });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return true;
  } catch {
    return false;
  } finally {
    redis.destroy();
  }
}

async function main() {
  const stub = await startServer('stub-server.ts');
  const options: ClientOptions = { apiKey: 'test-key-not-real', baseURL: `${stub.url}/complete/v1` };
  const deployment = (id: string) => ({ id, model: 'openai/gpt-4o-mini', options });
  const routed =
    (config: Omit<RouterConfig, 'deployments'>, count = 1) =>
    () =>
      createRouter({ deployments: Array.from({ length: count }, (_, i) => deployment(`d${i}`)), ...config });
  const withRedis = await redisAnswers();
  const redisState = { redis: REDIS_URL, prefix: PREFIX };

  const configs: Array<[string, () => Callable]> = [
    ['bare client', () => createClient('openai/gpt-4o-mini', options)],
    ['router: 1 deployment, state in memory', routed({})],
    ...(['priority', 'weighted', 'least-busy', 'latency', 'usage', 'cost'] as RoutingStrategy[]).map(
      (strategy): [string, () => Callable] => [
        `router: 3 deployments, ${strategy}, memory`,
        routed({ strategy }, 3),
      ],
    ),
    ...(withRedis
      ? [['router: 1 deployment, state in Redis', routed({ state: redisState })] as [string, () => Callable]]
      : []),
  ];
  const cpu = await interleaved(configs, (make) => cpuPerCall(make(), REQUESTS));

  const cannedOptions: ClientOptions = { ...options, middleware: [canned] };
  const cannedDeployment = (id: string) => ({ id, model: 'openai/gpt-4o-mini', options: cannedOptions });
  const isolatedConfigs: Array<[string, () => Callable]> = [
    ['bare client', () => createClient('openai/gpt-4o-mini', cannedOptions)],
    ['router: 1 deployment', () => createRouter({ deployments: [cannedDeployment('d0')] })],
    ...(['priority', 'weighted', 'least-busy', 'latency', 'usage', 'cost'] as RoutingStrategy[]).map(
      (strategy): [string, () => Callable] => [
        `router: 3 deployments, ${strategy}`,
        () => createRouter({ deployments: ['d0', 'd1', 'd2'].map(cannedDeployment), strategy }),
      ],
    ),
  ];
  const isolated = await interleaved(isolatedConfigs, isolatedNsPerCall);

  const wall: Array<[string, number[]]> = [];
  const wallConfigs: Array<[string, () => Callable]> = [
    ['bare client', configs[0]![1]],
    ['router, state in memory', configs[1]![1]],
    ...(withRedis
      ? [['router, state in Redis', routed({ state: redisState })] as [string, () => Callable]]
      : []),
  ];
  for (const [name, make] of wallConfigs) wall.push([name, await latencies(make)]);
  await stub.stop();
  if (withRedis) {
    const { createClient: createRedis } = await import('@redis/client');
    const redis = createRedis({ url: REDIS_URL });
    await redis.connect();
    const keys = await redis.keys(`${PREFIX}*`);
    if (keys.length > 0) await redis.del(keys);
    await redis.close();
  }

  const bareWall = median(wall[0]![1]);
  const lines = [
    '<!-- router:start -->',
    '## Router: what routing adds to a call (bench/router.ts)',
    '',
    `The router's own CPU per call, state in memory: the same client with a layer that answers every completion at once (no HTTP: only the client's and the router's work is measured), ${ISOLATED_CALLS.toLocaleString('en-US')} calls one at a time per run after 20,000 of warm-up, ${RUNS} interleaved runs after a discarded pass; "added" is the median over runs of (routed − bare) in the same run.`,
    '',
    '| configuration | CPU µs / call | added µs / call |',
    '| --- | --- | --- |',
    ...isolatedConfigs.map(([name]) => {
      const value = median(isolated.get(name)!) / 1000;
      const added =
        name === 'bare client' ? '—' : `+${(pairedAdded(isolated, name, 'bare client') / 1000).toFixed(2)}`;
      return `| ${name} | ${value.toFixed(2)} | ${added} |`;
    }),
    '',
    `End to end: client CPU µs per non-streaming completion against a healthy deployment, 32 in flight, against the stub in its own process; ${REQUESTS} requests per run after 500 of warm-up, ${RUNS} interleaved runs after a discarded pass, median and paired difference. Three-deployment routers send to one stub through three clients; the state is the router's own (memory) or Redis at \`REDIS_URL\`${withRedis ? '' : ' (not reachable in this run: skipped)'}. The differences here are within the run-to-run noise of a shared machine; the table above isolates them.`,
    '',
    '| configuration | CPU µs / request | added µs / request (paired) | runs (min – max) |',
    '| --- | --- | --- | --- |',
    ...configs.map(([name]) => {
      const values = cpu.get(name)!;
      const added = name === 'bare client' ? '—' : pairedAdded(cpu, name, 'bare client').toFixed(1);
      return `| ${name} | ${median(values).toFixed(1)} | ${added} | ${Math.min(...values).toFixed(1)} – ${Math.max(...values).toFixed(1)} |`;
    }),
    '',
    `Wall-clock latency of one call at a time (${SEQUENTIAL} calls after 200 of warm-up): with state in Redis the hot path still reads only local records; Redis is written on failures and exchanged in the background every 100 ms.`,
    '',
    '| configuration | median ms | p99 ms | added median µs |',
    '| --- | --- | --- | --- |',
    ...wall.map(([name, times]) => {
      const value = median(times);
      const added = name === 'bare client' ? '—' : `${((value - bareWall) * 1000).toFixed(0)}`;
      return `| ${name} | ${value.toFixed(3)} | ${quantile(times, 0.99).toFixed(3)} | ${added} |`;
    }),
    '<!-- router:end -->',
    '',
  ];
  const section = lines.join('\n');
  writeSection('router', section);
  console.log(section);
  process.exit(0);
}

await main();
