/** OpenAI-compatible servers: options and environment → adapter. The key is optional. */
import { missing, pick, pickUrl } from '../config-helpers.ts';
import type { ProviderFactory } from '../provider.ts';
import { createOpenAICompatibleAdapter } from './index.ts';

export const resolveOpenAICompatible: ProviderFactory = (input, env) => {
  const baseURL = pickUrl(
    'openai-compatible',
    ['baseURL', input.baseURL],
    ['OPENAI_COMPATIBLE_BASE_URL', env.OPENAI_COMPATIBLE_BASE_URL],
  );
  if (!baseURL) throw missing('base URL', 'openai-compatible', 'baseURL', 'OPENAI_COMPATIBLE_BASE_URL');
  const model = pick(input.model, env.OPENAI_COMPATIBLE_MODEL);
  if (!model) throw missing('model', 'openai-compatible', 'model', 'OPENAI_COMPATIBLE_MODEL');
  const apiKey = pick(input.apiKey, env.OPENAI_COMPATIBLE_API_KEY);
  return {
    adapter: createOpenAICompatibleAdapter({ baseURL, apiKey, headers: input.headers, model }),
    model,
    embeddingModel: pick(input.embeddingModel, env.OPENAI_COMPATIBLE_EMBEDDING_MODEL),
    secrets: apiKey ? [apiKey] : [],
  };
};
