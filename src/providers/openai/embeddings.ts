/** OpenAI embeddings: `/embeddings`, 2,048 inputs and 300,000 tokens a request. */

import type { PreparedRequest } from '../../http/transport.ts';
import type { EmbeddingOptions } from '../../spec/types.ts';
import { inputTokensUsage } from '../embedding-usage.ts';
import type { EmbeddingSupport } from '../provider.ts';
import { embeddingsBody } from './request.ts';
import { parseOpenAIEmbeddings } from './response.ts';

export function openAIEmbeddings(
  url: (model: string) => string,
  headers: Record<string, string>,
  encoding: 'base64' | 'float',
  includeModel: boolean,
): EmbeddingSupport {
  return {
    limits: () => ({ maxInputs: 2048, maxTokensPerRequest: 300_000 }),
    request(texts: readonly string[], model: string, options: EmbeddingOptions): PreparedRequest {
      return {
        url: url(model),
        method: 'POST',
        headers,
        body: embeddingsBody(texts, includeModel ? model : undefined, options, encoding),
      };
    },
    parse: parseOpenAIEmbeddings,
    usage: (body) =>
      inputTokensUsage((body as { usage?: { prompt_tokens?: unknown } } | null)?.usage?.prompt_tokens),
  };
}
