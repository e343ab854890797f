/**
 * Bedrock embeddings through InvokeModel (`POST /model/{modelId}/invoke`), whose body is the model's own
 * format. Two families:
 * - Amazon Titan text (`amazon.titan-embed-text-v2:0`): `{inputText, dimensions?, normalize: true}` →
 *   `{embedding, inputTextTokenCount}`; ONE text per call, so batches are single texts sent through the
 *   client's sliding window. (`…-v1` takes `inputText` only.)
 * - Cohere Embed (`cohere.embed-*`): `{texts, input_type}` → `{embeddings: number[][]}`,
 *   or `{embeddings: {float: number[][]}}` when `embedding_types` is sent (v4, which also takes
 *   `output_dimension`); 96 texts per call. `input_type` is `search_query` for `inputType: 'query'`, else
 *   `search_document` (the field is required). Titan has no such field.
 */
import type { PreparedRequest } from '../../http/transport.ts';
import { LLMUnsupportedError } from '../../spec/errors.ts';
import { isRecord } from '../../spec/json.ts';
import type { EmbeddingOptions } from '../../spec/types.ts';
import { inputTokensUsage } from '../embedding-usage.ts';
import { invalidEmbeddings } from '../error-helpers.ts';
import type { CallContext, EmbeddingLimits, EmbeddingSupport } from '../provider.ts';
import { modelPath } from './request.ts';

export type EmbeddingFamily = 'titan-v1' | 'titan-v2' | 'cohere-v3' | 'cohere-v4';

/** Which body format a model id (or inference profile / ARN containing it) speaks, if known. */
export function embeddingFamily(model: string): EmbeddingFamily | undefined {
  if (/amazon\.titan-embed-text-v1/.test(model)) return 'titan-v1';
  if (/amazon\.titan-embed-text/.test(model)) return 'titan-v2';
  if (/cohere\.embed-v4/.test(model)) return 'cohere-v4';
  if (/cohere\.embed/.test(model)) return 'cohere-v3';
  return undefined;
}

function familyOf(model: string): EmbeddingFamily {
  const family = embeddingFamily(model);
  if (!family) {
    throw new LLMUnsupportedError(
      `bedrock: no embeddings format known for ${JSON.stringify(model)}; use an amazon.titan-embed-text-* or cohere.embed-* model`,
      { provider: 'bedrock', model },
    );
  }
  return family;
}

/** The InvokeModel body for `texts`. */
export function embeddingBody(
  family: EmbeddingFamily,
  texts: readonly string[],
  options: EmbeddingOptions,
): string {
  const body: Record<string, unknown> = {};
  if (family === 'titan-v1' || family === 'titan-v2') {
    body.inputText = texts[0];
    if (options.dimensions !== undefined) body.dimensions = options.dimensions;
    if (family === 'titan-v2') body.normalize = true;
  } else {
    body.texts = texts;
    body.input_type = options.inputType === 'query' ? 'search_query' : 'search_document';
    if (family === 'cohere-v4') body.embedding_types = ['float'];
    if (options.dimensions !== undefined) body.output_dimension = options.dimensions;
  }
  return JSON.stringify(body);
}

const numbers = (value: unknown): value is number[] =>
  Array.isArray(value) && value.every((item) => typeof item === 'number');

/** A Titan or Cohere InvokeModel response → vectors in input order. */
export function parseBedrockEmbeddings(body: unknown, expected: number, context: CallContext): number[][] {
  const invalid = (why: string) => invalidEmbeddings(context, why, body);
  if (!isRecord(body)) throw invalid('not an object');
  let vectors: unknown;
  if (body.embedding !== undefined) vectors = [body.embedding];
  else if (Array.isArray(body.embeddings)) vectors = body.embeddings;
  else if (isRecord(body.embeddings)) vectors = body.embeddings.float;
  if (!Array.isArray(vectors)) throw invalid('no embedding or embeddings');
  if (vectors.length !== expected) throw invalid(`expected ${expected} vectors, got ${vectors.length}`);
  vectors.forEach((vector, index) => {
    if (!numbers(vector)) throw invalid(`vector ${index} is not an array of numbers`);
  });
  return vectors as number[][];
}

/** Embeddings through InvokeModel at `base`, limits and body chosen by the model's family. */
export function bedrockEmbeddings(base: string, headers: Record<string, string>): EmbeddingSupport {
  return {
    limits(model: string): EmbeddingLimits {
      const family = familyOf(model);
      return { maxInputs: family === 'titan-v1' || family === 'titan-v2' ? 1 : 96 };
    },
    request(texts: readonly string[], model: string, options: EmbeddingOptions): PreparedRequest {
      return {
        url: `${base}${modelPath(model, 'invoke')}`,
        method: 'POST',
        headers,
        body: embeddingBody(familyOf(model), texts, options),
      };
    },
    parse: parseBedrockEmbeddings,
    // Titan says how many tokens it read; Cohere's body does not (its count is only in a response header).
    usage: (body) =>
      inputTokensUsage((body as { inputTextTokenCount?: unknown } | null)?.inputTextTokenCount),
  };
}
