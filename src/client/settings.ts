/**
 * From options and environment to a configured provider adapter. Options win over the environment; a
 * missing credential fails here, at creation, naming both the option and the variable.
 */
import { createAzureAdapter, DEFAULT_AZURE_API_VERSION } from '../providers/azure/index.ts';
import { createOpenAIAdapter } from '../providers/openai/index.ts';
import { createOpenAICompatibleAdapter } from '../providers/openai-compatible/index.ts';
import type { ProviderAdapter } from '../providers/provider.ts';
import { LLMConfigurationError } from '../spec/errors.ts';
import type { ProviderName } from '../spec/types.ts';
import type { ClientOptions } from './options.ts';

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Defaults chosen to be current and to accept the common parameters: `gpt-4.1-mini` rather than a
 * reasoning model, because reasoning models reject `temperature`, which most callers pass.
 */
export const DEFAULT_MODELS: Readonly<Record<ProviderName, { chat?: string; embedding?: string }>> = {
  openai: { chat: 'gpt-4.1-mini', embedding: 'text-embedding-3-small' },
  azure: { embedding: 'text-embedding-3-small' },
  'openai-compatible': {},
  anthropic: { chat: 'claude-sonnet-4-5' },
  gemini: { chat: 'gemini-2.5-flash', embedding: 'gemini-embedding-001' },
  bedrock: { chat: 'anthropic.claude-sonnet-4-5-20250929-v1:0', embedding: 'amazon.titan-embed-text-v2:0' },
  ollama: { chat: 'llama3.2', embedding: 'nomic-embed-text' },
};

/** Available in this version. The others are known names that fail with a clear message. */
export const AVAILABLE_PROVIDERS: readonly ProviderName[] = ['openai', 'azure', 'openai-compatible'];

export interface ResolvedProvider {
  adapter: ProviderAdapter;
  model: string;
  embeddingModel: string | undefined;
  /** Credentials this client holds, scrubbed from every error. */
  secrets: string[];
}

const pick = (...values: Array<string | undefined>) =>
  values.find((value) => value !== undefined && value !== '');

function missing(what: string, provider: string, option: string, variable: string): LLMConfigurationError {
  return new LLMConfigurationError(`No ${what} for ${provider}: pass \`${option}\` or set ${variable}`, {
    provider,
  });
}

export function resolveProvider(provider: ProviderName, options: ClientOptions, env: Env): ResolvedProvider {
  const headers = options.headers ?? {};
  switch (provider) {
    case 'openai': {
      const apiKey = pick(options.apiKey, env.OPENAI_API_KEY);
      if (!apiKey) throw missing('API key', 'openai', 'apiKey', 'OPENAI_API_KEY');
      const adapter = createOpenAIAdapter({
        name: 'openai',
        apiKey,
        baseURL: pick(options.baseURL, env.OPENAI_BASE_URL) ?? 'https://api.openai.com/v1',
        headers,
        organization: pick(options.organization, env.OPENAI_ORG_ID),
        project: pick(options.project, env.OPENAI_PROJECT_ID),
        maxTokensField: 'max_completion_tokens',
        embeddingEncoding: 'base64',
      });
      return {
        adapter,
        model: pick(options.model, DEFAULT_MODELS.openai.chat)!,
        embeddingModel: pick(options.embeddingModel, DEFAULT_MODELS.openai.embedding),
        secrets: [apiKey],
      };
    }
    case 'azure': {
      const endpoint = pick(options.endpoint, options.baseURL, env.AZURE_OPENAI_ENDPOINT);
      if (!endpoint) throw missing('endpoint', 'azure', 'endpoint', 'AZURE_OPENAI_ENDPOINT');
      if (!URL.canParse(endpoint)) {
        throw new LLMConfigurationError(
          `Invalid Azure endpoint ${JSON.stringify(endpoint)}: expected a URL`,
          {
            provider,
          },
        );
      }
      const apiKey = pick(options.apiKey, env.AZURE_OPENAI_API_KEY);
      const azureADToken = pick(options.azureADToken, env.AZURE_OPENAI_AD_TOKEN);
      if (!apiKey && !azureADToken) {
        throw new LLMConfigurationError(
          'No API key for azure: pass `apiKey` or set AZURE_OPENAI_API_KEY (or pass `azureADToken` / set AZURE_OPENAI_AD_TOKEN)',
          { provider },
        );
      }
      const model = pick(options.model, env.AZURE_OPENAI_DEPLOYMENT);
      if (!model) throw missing('deployment', 'azure', 'model', 'AZURE_OPENAI_DEPLOYMENT');
      const adapter = createAzureAdapter({
        endpoint,
        apiVersion:
          pick(options.apiVersion, env.OPENAI_API_VERSION, env.AZURE_OPENAI_API_VERSION) ??
          DEFAULT_AZURE_API_VERSION,
        apiKey,
        azureADToken,
        headers,
      });
      return {
        adapter,
        model,
        embeddingModel: pick(
          options.embeddingModel,
          env.AZURE_OPENAI_EMBEDDING_DEPLOYMENT,
          DEFAULT_MODELS.azure.embedding,
        ),
        secrets: [apiKey, azureADToken].filter((s): s is string => !!s),
      };
    }
    case 'openai-compatible': {
      const baseURL = pick(options.baseURL, env.OPENAI_COMPATIBLE_BASE_URL);
      if (!baseURL) throw missing('base URL', 'openai-compatible', 'baseURL', 'OPENAI_COMPATIBLE_BASE_URL');
      const model = pick(options.model, env.OPENAI_COMPATIBLE_MODEL);
      if (!model) throw missing('model', 'openai-compatible', 'model', 'OPENAI_COMPATIBLE_MODEL');
      const apiKey = pick(options.apiKey, env.OPENAI_COMPATIBLE_API_KEY);
      return {
        adapter: createOpenAICompatibleAdapter({ baseURL, apiKey, headers }),
        model,
        embeddingModel: pick(options.embeddingModel, env.OPENAI_COMPATIBLE_EMBEDDING_MODEL),
        secrets: apiKey ? [apiKey] : [],
      };
    }
    default:
      throw new LLMConfigurationError(
        `Provider '${provider}' is not available yet in this version of llm-factory; available now: ${AVAILABLE_PROVIDERS.join(', ')}`,
        { provider },
      );
  }
}
