/**
 * Embedding batches: split by the provider's per-request limits on inputs and tokens, sent through a
 * sliding window of at most `concurrency` requests (a new one starts as soon as one finishes, not in
 * waves), each retried on its own, results written back in input order.
 */
import { abortError } from '../http/abort.ts';
import type { EmbeddingLimits } from '../providers/provider.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import { EMBEDDING_INPUT_TYPES, type EmbeddingOptions } from '../spec/types.ts';

export interface Batch {
  start: number;
  end: number;
}

export function validateTexts(texts: unknown): asserts texts is string[] {
  if (!Array.isArray(texts))
    throw new LLMBadRequestError('generateEmbeddings: `texts` must be an array of strings');
  for (let i = 0; i < texts.length; i++) {
    if (typeof texts[i] !== 'string')
      throw new LLMBadRequestError(`generateEmbeddings: texts[${i}] is not a string`);
    if ((texts[i] as string).length === 0) {
      throw new LLMBadRequestError(`generateEmbeddings: texts[${i}] is empty; providers reject empty inputs`);
    }
  }
}

/** Throws `LLMBadRequestError` naming an embedding option whose value no provider would understand. */
export function validateEmbeddingOptions(options: EmbeddingOptions): void {
  const { inputType } = options;
  if (inputType !== undefined && !EMBEDDING_INPUT_TYPES.includes(inputType)) {
    const shown = typeof inputType === 'string' ? JSON.stringify(inputType) : String(inputType);
    throw new LLMBadRequestError(
      `generateEmbeddings: \`inputType\` must be 'query' or 'document' (got ${shown})`,
    );
  }
}

/**
 * Cuts `texts` into batches. A text's UTF-8 byte length bounds its token count from above, so the
 * tokenizer only runs when the bytes alone could break the token limit.
 */
export function planBatches(
  texts: readonly string[],
  limits: EmbeddingLimits,
  batchSize: number | undefined,
  countTokens: (text: string) => number,
): Batch[] {
  const maxInputs = Math.max(1, Math.min(batchSize ?? limits.maxInputs, limits.maxInputs));
  const maxTokens = limits.maxTokensPerRequest ?? Number.POSITIVE_INFINITY;
  const batches: Batch[] = [];
  let start = 0;
  let tokens = 0;
  for (let i = 0; i < texts.length; i++) {
    const text = texts[i]!;
    const bound = Buffer.byteLength(text);
    const cost = tokens + bound > maxTokens ? countTokens(text) : bound;
    if (i > start && (i - start >= maxInputs || tokens + cost > maxTokens)) {
      batches.push({ start, end: i });
      start = i;
      tokens = 0;
    }
    tokens += cost;
  }
  if (texts.length > start) batches.push({ start, end: texts.length });
  return batches;
}

/** Runs `task` for every batch with at most `concurrency` in flight; the first failure stops the rest. */
export async function runSlidingWindow(
  batches: readonly Batch[],
  concurrency: number,
  task: (batch: Batch) => Promise<void>,
  signal?: AbortSignal,
): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async () => {
    while (failure === undefined && next < batches.length) {
      if (signal?.aborted) throw abortError(signal);
      const batch = batches[next++]!;
      try {
        await task(batch);
      } catch (error) {
        failure ??= error;
        throw error;
      }
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, batches.length)) }, worker);
  const settled = await Promise.allSettled(workers);
  if (failure !== undefined) throw failure;
  for (const outcome of settled) if (outcome.status === 'rejected') throw outcome.reason;
}
