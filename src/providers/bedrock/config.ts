/** Bedrock: options and environment → adapter. (Placeholder until the provider lands.) */
import { LLMConfigurationError } from '../../spec/errors.ts';
import type { ProviderFactory } from '../provider.ts';

export const resolveBedrock: ProviderFactory = () => {
  throw new LLMConfigurationError("Provider 'bedrock' is not available yet in this version of llm-factory", {
    provider: 'bedrock',
  });
};
