/**
 * One tokenizer, one process: counts o200k_base tokens (gpt-4o-mini's encoding) in every corpus,
 * document by document, special-token text counted as ordinary text (as our `countOpenAITokens` does).
 *
 *   node bench/tokens-worker.ts '{"tokenizer":"ours","passes":5}'
 *
 * Per corpus: one untimed pass (JIT warm-up), then `passes` timed passes. gpt-tokenizer keeps an LRU
 * cache of merges; it is cleared before every timed pass so no tokenizer is timed on text it has just
 * seen (the `warm` figure is a pass with the cache as the previous pass left it).
 */
import { createHash } from 'node:crypto';
import { codeCorpus, proseCorpus, shortTextsCorpus } from './corpus.ts';
import { loadCounter, type TokenizerName } from './tokenizers.ts';
import { emitResult } from './worker-support.ts';

export interface TokenizerJob {
  tokenizer: TokenizerName;
  passes: number;
}

export interface CorpusTiming {
  corpus: string;
  description: string;
  documents: number;
  bytes: number;
  fingerprint: string;
  tokens: number;
  /** SHA-256 (16 hex) of every document's count in order: equal digests mean identical counts. */
  countsDigest: string;
  /**
   * The same over the documents with no run of `LONG_RUN_CHARS` characters of one kind (space or not): the
   * documents our tokenizer counts whole, exactly. The others (base64 blobs, minified data) hold a pre-token
   * it counts in parts (src/tokens/openai-tokenizer.ts, MAX_PRETOKEN_CHARS): their counts by index.
   */
  ordinaryDigest: string;
  longRunCounts: Record<number, number>;
  /** CPU time of the counting (main) thread per timed pass, ms: immune to other processes' load. */
  passMs: number[];
  /** Wall time of the same passes, ms. */
  passWallMs: number[];
  /** A pass without clearing gpt-tokenizer's merge cache (equal to a cold pass for the others). */
  warmPassMs: number;
}

export interface TokenizerMeasurement {
  tokenizer: TokenizerName;
  /** Time from nothing loaded to the first count (module and vocabulary loading). */
  loadMs: number;
  corpora: CorpusTiming[];
  maxRssKb: number;
}

/** A run that can make a pre-token longer than `MAX_PRETOKEN_CHARS` (128): one kind of character, space or not. */
const LONG_RUN = /\S{128,}|\s{128,}/;

const job = JSON.parse(process.argv[2] ?? '{}') as TokenizerJob;
const prose = proseCorpus();
const corpora = [prose, codeCorpus(), shortTextsCorpus(prose)];

const loadStart = performance.now();
const counter = await loadCounter(job.tokenizer);
counter.count('warm the vocabulary up');
const loadMs = performance.now() - loadStart;

/** CPU time of this thread so far, ms. */
function threadCpuMs(): number {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
}

function pass(documents: readonly string[], counts?: number[]): number {
  let total = 0;
  for (let i = 0; i < documents.length; i++) {
    const tokens = counter.count(documents[i]!);
    if (counts) counts[i] = tokens;
    total += tokens;
  }
  return total;
}

const timings: CorpusTiming[] = [];
for (const corpus of corpora) {
  const counts: number[] = [];
  const tokens = pass(corpus.documents, counts);
  const passMs: number[] = [];
  const passWallMs: number[] = [];
  for (let i = 0; i < job.passes; i++) {
    counter.reset();
    const start = performance.now();
    const cpuStart = threadCpuMs();
    const total = pass(corpus.documents);
    passMs.push(threadCpuMs() - cpuStart);
    passWallMs.push(performance.now() - start);
    if (total !== tokens)
      throw new Error(`${job.tokenizer}: ${corpus.name} counted ${total}, then ${tokens}`);
  }
  const warmStart = threadCpuMs();
  pass(corpus.documents);
  const warmPassMs = threadCpuMs() - warmStart;
  timings.push({
    corpus: corpus.name,
    description: corpus.description,
    documents: corpus.documents.length,
    bytes: corpus.bytes,
    fingerprint: corpus.fingerprint,
    tokens,
    countsDigest: createHash('sha256').update(counts.join(',')).digest('hex').slice(0, 16),
    ordinaryDigest: createHash('sha256')
      .update(counts.filter((_, i) => !LONG_RUN.test(corpus.documents[i]!)).join(','))
      .digest('hex')
      .slice(0, 16),
    longRunCounts: Object.fromEntries(
      counts.flatMap((count, i) => (LONG_RUN.test(corpus.documents[i]!) ? [[i, count]] : [])),
    ),
    passMs,
    passWallMs,
    warmPassMs,
  });
}

const measurement: TokenizerMeasurement = {
  tokenizer: job.tokenizer,
  loadMs,
  corpora: timings,
  maxRssKb: process.resourceUsage().maxRSS,
};
emitResult(measurement);
