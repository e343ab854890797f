/** Azure OpenAI: options and environment → adapter. The model is the deployment. */
import { LLMConfigurationError } from '../../spec/errors.ts';
import { missing, pick, pickUrl } from '../config-helpers.ts';
import { DEFAULT_MODELS } from '../defaults.ts';
import type { ProviderFactory } from '../provider.ts';
import { createAzureAdapter, DEFAULT_AZURE_API_VERSION } from './index.ts';

export const resolveAzure: ProviderFactory = (input, env) => {
  const endpoint = pickUrl(
    'azure',
    ['endpoint', input.endpoint],
    ['baseURL', input.baseURL],
    ['AZURE_OPENAI_ENDPOINT', env.AZURE_OPENAI_ENDPOINT],
  );
  if (!endpoint) throw missing('endpoint', 'azure', 'endpoint', 'AZURE_OPENAI_ENDPOINT');
  const apiKey = pick(input.apiKey, env.AZURE_OPENAI_API_KEY);
  const azureADToken = pick(input.azureADToken, env.AZURE_OPENAI_AD_TOKEN);
  if (!apiKey && !azureADToken) {
    throw new LLMConfigurationError(
      'No API key for azure: pass `apiKey` or set AZURE_OPENAI_API_KEY (or pass `azureADToken` / set AZURE_OPENAI_AD_TOKEN)',
      { provider: 'azure' },
    );
  }
  const model = pick(input.model, env.AZURE_OPENAI_DEPLOYMENT);
  if (!model) throw missing('deployment', 'azure', 'model', 'AZURE_OPENAI_DEPLOYMENT');
  return {
    adapter: createAzureAdapter({
      endpoint,
      apiVersion:
        pick(input.apiVersion, env.OPENAI_API_VERSION, env.AZURE_OPENAI_API_VERSION) ??
        DEFAULT_AZURE_API_VERSION,
      apiKey,
      azureADToken,
      headers: input.headers,
    }),
    model,
    embeddingModel: pick(
      input.embeddingModel,
      env.AZURE_OPENAI_EMBEDDING_DEPLOYMENT,
      DEFAULT_MODELS.azure.embedding,
    ),
    secrets: [apiKey, azureADToken].filter((secret): secret is string => !!secret),
  };
};
