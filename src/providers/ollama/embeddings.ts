/** Ollama embeddings: `POST /api/embed`, a list of inputs in, a list of vectors out. */
import type { PreparedRequest } from '../../http/transport.ts';
import type { EmbeddingOptions } from '../../spec/types.ts';
import { inputTokensUsage } from '../embedding-usage.ts';
import type { EmbeddingLimits, EmbeddingSupport } from '../provider.ts';
import { ollamaEmbedBody } from './request.ts';
import { parseOllamaEmbeddings } from './response.ts';

/**
 * Ollama documents no cap on inputs per request, so this one is ours. The server embeds a request's inputs
 * in one go and answers only when all are done, so a batch's size is the time the caller waits with no
 * sign of life and the work redone if it fails: 512 short texts take seconds on a CPU, well inside the
 * default 60 s attempt timeout (the client also sends up to 4 batches at once).
 * No token limit per request: the server truncates each input to the model's context on its own.
 */
const LIMITS: EmbeddingLimits = { maxInputs: 512 };

/** Embeddings support for the adapter: one `POST {host}/api/embed` per batch. */
export function ollamaEmbeddings(url: string, headers: Record<string, string>): EmbeddingSupport {
  return {
    limits: () => LIMITS,
    request(texts: readonly string[], model: string, options: EmbeddingOptions): PreparedRequest {
      return { url, method: 'POST', headers, body: ollamaEmbedBody(texts, model, options) };
    },
    parse: parseOllamaEmbeddings,
    usage: (body) => inputTokensUsage((body as { prompt_eval_count?: unknown } | null)?.prompt_eval_count),
  };
}
