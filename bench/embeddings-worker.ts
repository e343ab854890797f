/**
 * Embeddings throughput against the emulator: `texts` inputs in batches of `batchSize` with
 * `concurrency` requests in flight, by our client (`generateEmbeddings`) or by the floor (bare undici
 * requests through the same sliding window, decoding the same base64 vectors into the same number[][]).
 *
 *   node bench/embeddings-worker.ts '{"client":"ours","url":"http://127.0.0.1:1234","texts":100000,…}'
 */
import { API_KEY } from './canned.ts';
import { embeddingTexts } from './corpus.ts';
import { emitResult, runWithConcurrency } from './worker-support.ts';

export const EMBEDDING_MODEL = 'text-embedding-3-small';

export interface EmbeddingsJob {
  client: 'ours' | 'floor';
  url: string;
  texts: number;
  warmupTexts: number;
  batchSize: number;
  concurrency: number;
  /** Vector length asked for (text-embedding-3-small: 1536 native, shortened on request). */
  dimensions: number;
  /** A file URL of another build of the library to measure as `ours`. */
  oursEntry?: string;
}

export interface EmbeddingsMeasurement {
  client: 'ours' | 'floor';
  texts: number;
  batchSize: number;
  concurrency: number;
  wallMs: number;
  cpuUs: number;
  maxRssKb: number;
  /** Floor only: mean time a request holds its window slot, and of that, the wait for the headers. */
  meanSlotMs?: number;
  meanHeadersMs?: number;
}

type Embed = (texts: string[]) => Promise<number[][]>;

interface Embedder {
  embed: Embed;
  close(): Promise<void>;
  /** Mean slot and header times of the last `embed`, where the client can tell. */
  timings?(): { meanSlotMs: number; meanHeadersMs: number };
}

async function oursEmbed(job: EmbeddingsJob): Promise<Embedder> {
  const { createClient } = (
    job.oursEntry ? await import(job.oursEntry) : await import('../src/index.ts')
  ) as typeof import('../src/index.ts');
  const client = createClient('openai/gpt-4o-mini', {
    apiKey: API_KEY,
    baseURL: `${job.url}/v1`,
    embeddingModel: EMBEDDING_MODEL,
  });
  return {
    embed: (texts) =>
      client.generateEmbeddings(texts, {
        batchSize: job.batchSize,
        concurrency: job.concurrency,
        dimensions: job.dimensions,
      }),
    close: () => client.close(),
  };
}

async function floorEmbed(job: EmbeddingsJob): Promise<Embedder> {
  const { Pool } = await import('undici');
  const pool = new Pool(job.url, { connections: 128, pipelining: 1 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };
  const decode = (encoded: string): number[] => {
    const bytes = Buffer.from(encoded, 'base64');
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const vector = new Array<number>(bytes.byteLength >>> 2);
    for (let i = 0; i < vector.length; i++) vector[i] = view.getFloat32(i * 4, true);
    return vector;
  };
  let slotMs = 0;
  let headersMs = 0;
  let requests = 0;
  return {
    async embed(texts) {
      const vectors = new Array<number[]>(texts.length);
      const batches = Math.ceil(texts.length / job.batchSize);
      let next = 0;
      slotMs = 0;
      headersMs = 0;
      requests = 0;
      await runWithConcurrency(batches, job.concurrency, async () => {
        const sent = performance.now();
        const start = next++ * job.batchSize;
        const input = texts.slice(start, start + job.batchSize);
        const response = await pool.request({
          path: '/v1/embeddings',
          method: 'POST',
          headers,
          body: JSON.stringify({
            model: EMBEDDING_MODEL,
            input,
            encoding_format: 'base64',
            dimensions: job.dimensions,
          }),
        });
        const headersAt = performance.now();
        const body = JSON.parse(await response.body.text()) as {
          data: Array<{ index: number; embedding: string }>;
        };
        for (const item of body.data) vectors[start + item.index] = decode(item.embedding);
        slotMs += performance.now() - sent;
        headersMs += headersAt - sent;
        requests++;
      });
      return vectors;
    },
    close: () => pool.close(),
    timings: () => ({ meanSlotMs: slotMs / requests, meanHeadersMs: headersMs / requests }),
  };
}

const job = JSON.parse(process.argv[2] ?? '{}') as EmbeddingsJob;
const texts = embeddingTexts(job.texts);
const client = job.client === 'ours' ? await oursEmbed(job) : await floorEmbed(job);

await client.embed(texts.slice(0, job.warmupTexts));

const startCpu = process.cpuUsage();
const start = performance.now();
const vectors = await client.embed(texts);
const wallMs = performance.now() - start;
const cpu = process.cpuUsage(startCpu);

if (vectors.length !== texts.length || vectors.some((vector) => vector?.length !== job.dimensions)) {
  throw new Error(`${job.client}: expected ${texts.length} vectors of ${job.dimensions}`);
}
await client.close();
const measurement: EmbeddingsMeasurement = {
  client: job.client,
  texts: job.texts,
  batchSize: job.batchSize,
  concurrency: job.concurrency,
  wallMs,
  cpuUs: cpu.user + cpu.system,
  maxRssKb: process.resourceUsage().maxRSS,
  ...client.timings?.(),
};
emitResult(measurement);
