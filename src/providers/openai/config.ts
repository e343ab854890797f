/** OpenAI: options and environment → adapter. */
import { missing, pick, pickUrl } from '../config-helpers.ts';
import { DEFAULT_MODELS } from '../defaults.ts';
import type { ProviderFactory } from '../provider.ts';
import { createOpenAIAdapter } from './index.ts';

export const resolveOpenAI: ProviderFactory = (input, env) => {
  const apiKey = pick(input.apiKey, env.OPENAI_API_KEY);
  if (!apiKey) throw missing('API key', 'openai', 'apiKey', 'OPENAI_API_KEY');
  return {
    adapter: createOpenAIAdapter({
      name: 'openai',
      apiKey,
      baseURL:
        pickUrl('openai', ['baseURL', input.baseURL], ['OPENAI_BASE_URL', env.OPENAI_BASE_URL]) ??
        'https://api.openai.com/v1',
      headers: input.headers,
      organization: pick(input.organization, env.OPENAI_ORG_ID),
      project: pick(input.project, env.OPENAI_PROJECT_ID),
      maxTokensField: 'max_completion_tokens',
      embeddingEncoding: 'base64',
    }),
    model: pick(input.model, DEFAULT_MODELS.openai.chat)!,
    embeddingModel: pick(input.embeddingModel, DEFAULT_MODELS.openai.embedding),
    secrets: [apiKey],
  };
};
