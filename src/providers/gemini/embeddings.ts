/** Gemini embeddings: `models/{model}:batchEmbedContents`, at most 100 inputs a request, vectors in input order. */
import type { PreparedRequest } from '../../http/transport.ts';
import type { EmbeddingOptions } from '../../spec/types.ts';
import type { EmbeddingSupport } from '../provider.ts';
import { batchEmbedContentsBody } from './request.ts';
import { parseGeminiEmbeddings } from './response.ts';

/** The API rejects a batch of more than 100 requests (400 INVALID_ARGUMENT). */
export const GEMINI_MAX_EMBEDDING_INPUTS = 100;

/** Embedding support for an adapter whose URLs `url(model, method)` builds. */
export function geminiEmbeddings(
  url: (model: string, method: string) => string,
  headers: Record<string, string>,
): EmbeddingSupport {
  return {
    limits: () => ({ maxInputs: GEMINI_MAX_EMBEDDING_INPUTS }),
    request(texts: readonly string[], model: string, options: EmbeddingOptions): PreparedRequest {
      return {
        url: url(model, 'batchEmbedContents'),
        method: 'POST',
        headers,
        body: batchEmbedContentsBody(texts, model, options),
      };
    },
    parse: parseGeminiEmbeddings,
  };
}
