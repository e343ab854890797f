/**
 * The provider registry: from a provider name, options and environment to a configured adapter. Each
 * provider's own `config.ts` reads its options and variables; options win, and a missing credential fails
 * at creation, naming both the option and the variable.
 */
import { resolveAnthropic } from '../providers/anthropic/config.ts';
import { resolveAzure } from '../providers/azure/config.ts';
import { resolveBedrock } from '../providers/bedrock/config.ts';
import { resolveGemini } from '../providers/gemini/config.ts';
import { resolveOllama } from '../providers/ollama/config.ts';
import { resolveOpenAI } from '../providers/openai/config.ts';
import { resolveOpenAICompatible } from '../providers/openai-compatible/config.ts';
import type { Env, ProviderFactory, ProviderInput, ResolvedProvider } from '../providers/provider.ts';
import type { ProviderName } from '../spec/types.ts';
import type { ClientOptions } from './options.ts';

export { DEFAULT_MODELS } from '../providers/defaults.ts';
export type { Env, ResolvedProvider };

const REGISTRY: Readonly<Record<ProviderName, ProviderFactory>> = {
  openai: resolveOpenAI,
  azure: resolveAzure,
  'openai-compatible': resolveOpenAICompatible,
  anthropic: resolveAnthropic,
  gemini: resolveGemini,
  bedrock: resolveBedrock,
  ollama: resolveOllama,
};

export function resolveProvider(provider: ProviderName, options: ClientOptions, env: Env): ResolvedProvider {
  const input: ProviderInput = {
    model: options.model,
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    embeddingModel: options.embeddingModel,
    headers: options.headers ?? {},
    organization: options.organization,
    project: options.project,
    endpoint: options.endpoint,
    apiVersion: options.apiVersion,
    azureADToken: options.azureADToken,
    region: options.region,
    credentials: options.credentials,
  };
  return REGISTRY[provider](input, env);
}
