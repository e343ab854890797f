/**
 * `node bench/memory-store.ts [--quick]`: the memory cache store (`lru-cache`) next to the hand-written one it
 * replaced (bench/baselines/), on what the cache layer asks of it: a get that hits, a set that evicts the
 * least recently used entry (by entries, by bytes), a set and get with a TTL; then a whole `complete`
 * served from the cache with each. Interleaved runs, medians. Writes its section of bench/RESULTS.md
 * (between `memory-store` markers), replacing the previous one.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { createClient, MemoryStore } from '../src/index.ts';
import type { CacheStore } from '../src/middleware/cache/store.ts';
import { HandwrittenMemoryStore } from './baselines/handwritten-memory-store.ts';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 7;
const OPERATIONS = quick ? 50_000 : 200_000;
const HITS = 1000;
const ENTRIES = 10_000;

/** Cache-layer-shaped data: a namespace and a SHA-256 as the key, a 1 KB JSON completion as the value. */
const keys = Array.from(
  { length: ENTRIES * 2 },
  (_, i) => `llmf:c:0123456789abcdef:${i.toString(16).padStart(64, '0')}`,
);
const value = JSON.stringify({ text: 'x'.repeat(900), usage: { inputTokens: 10, outputTokens: 200 } });
// A fixed pseudo-random order of reads, the same for every store.
const order = Array.from({ length: OPERATIONS }, (_, i) => (i * 7919) % ENTRIES);

type Maker = (options: { maxEntries?: number; maxBytes?: number }) => CacheStore;
const STORES: Array<[string, Maker]> = [
  ['lru-cache (MemoryStore)', (options) => new MemoryStore(options)],
  ['hand-written (before)', (options) => new HandwrittenMemoryStore(options)],
];

async function filled(make: Maker, options: { maxEntries?: number; maxBytes?: number } = {}) {
  const store = make(options);
  for (let i = 0; i < ENTRIES; i++) await store.set(keys[i]!, value, undefined);
  return store;
}

/** Nanoseconds per operation of `body`, run `OPERATIONS` times. */
async function nsPerOperation(body: (i: number) => Promise<unknown>): Promise<number> {
  const started = process.hrtime.bigint();
  for (let i = 0; i < OPERATIONS; i++) await body(i);
  return Number(process.hrtime.bigint() - started) / OPERATIONS;
}

const WORKLOADS: Array<[string, (make: Maker) => Promise<number>]> = [
  [
    'get, hit (10k entries)',
    async (make) => {
      const store = await filled(make);
      return nsPerOperation((i) => store.get(keys[order[i]!]!));
    },
  ],
  [
    'set, evicting by entries (full at 10k)',
    async (make) => {
      const store = await filled(make, { maxEntries: ENTRIES });
      return nsPerOperation((i) => store.set(keys[(ENTRIES + i) % keys.length]!, value, undefined));
    },
  ],
  [
    'set, evicting by bytes (full at 10k entries’ bytes)',
    async (make) => {
      const bytes = ENTRIES * (keys[0]!.length + value.length) * 2;
      const store = await filled(make, { maxBytes: bytes });
      return nsPerOperation((i) => store.set(keys[(ENTRIES + i) % keys.length]!, value, undefined));
    },
  ],
  [
    'set with a TTL, then get',
    async (make) => {
      const store = await filled(make);
      return nsPerOperation(async (i) => {
        const key = keys[order[i]!]!;
        await store.set(key, value, 60_000);
        return store.get(key);
      });
    },
  ],
];

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A whole `complete` served from the cache, in µs (median of `HITS`), against a loopback stub. */
async function hitMicroseconds(make: Maker, baseURL: string): Promise<number> {
  const client = createClient('openai/gpt-4o-mini', {
    apiKey: 'test-key-not-real',
    baseURL,
    cache: { store: make({}) },
  });
  await client.complete({ prompt: 'warm' });
  const times: number[] = [];
  for (let i = 0; i < HITS + 100; i++) {
    const started = performance.now();
    const result = await client.complete({ prompt: 'warm' });
    if (i >= 100) times.push(performance.now() - started);
    if (!result.cached) throw new Error('expected a cache hit');
  }
  await client.close();
  return median(times) * 1000;
}

async function main() {
  const results = new Map<string, number[]>();
  // A first pass warms the JIT for every store and workload; then interleaved runs.
  for (let run = -1; run < RUNS; run++) {
    for (const [workload, measure] of WORKLOADS) {
      for (const [store, make] of STORES) {
        const value = await measure(make);
        if (run >= 0)
          results.set(`${workload}|${store}`, [...(results.get(`${workload}|${store}`) ?? []), value]);
      }
    }
  }

  const body = JSON.stringify({
    id: 'chatcmpl-1',
    model: 'gpt-4o-mini',
    choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  const hits = new Map<string, number[]>();
  for (let run = 0; run < RUNS; run++) {
    for (const [store, make] of STORES)
      hits.set(store, [...(hits.get(store) ?? []), await hitMicroseconds(make, baseURL)]);
  }
  server.close();

  const [ours, before] = STORES.map(([name]) => name) as [string, string];
  const row = (label: string, a: number[], b: number[], unit: (n: number) => string) =>
    `| ${label} | ${unit(median(a))} | ${unit(median(b))} | ${(median(a) / median(b)).toFixed(2)}× |`;
  const lines = [
    '<!-- memory-store:start -->',
    '## Memory cache store: lru-cache next to the hand-written store (bench/memory-store.ts)',
    '',
    `Each operation awaited as the cache layer does; 1 KB values under 90-character keys; ${OPERATIONS} operations a run, a first pass discarded, then ${RUNS} interleaved runs, median. The last row is a whole \`complete\` served from the cache (median of ${HITS} hits a run, then the median of the runs).`,
    '',
    `| workload | ${ours} | ${before} | ratio |`,
    '| --- | --- | --- | --- |',
    ...WORKLOADS.map(([workload]) =>
      row(
        workload,
        results.get(`${workload}|${ours}`)!,
        results.get(`${workload}|${before}`)!,
        (n) => `${n.toFixed(0)} ns`,
      ),
    ),
    row('a whole `complete` from the cache', hits.get(ours)!, hits.get(before)!, (n) => `${n.toFixed(1)} µs`),
    '',
    'lru-cache keeps its entries in arrays linked in recency order; the hand-written store found the oldest entry by walking its Map from the start on every eviction and moved an entry on every hit by deleting and re-inserting it. Through the whole call the store is a sliver of the time either way.',
    '<!-- memory-store:end -->',
    '',
  ];
  const section = lines.join('\n');
  const file = join(import.meta.dirname, 'RESULTS.md');
  const current = existsSync(file) ? readFileSync(file, 'utf8') : '';
  const marked = /<!-- memory-store:start -->[\s\S]*<!-- memory-store:end -->\n?/;
  writeFileSync(
    file,
    marked.test(current) ? current.replace(marked, section) : `${current.trimEnd()}\n\n${section}`,
  );
  console.log(section);
}

await main();
