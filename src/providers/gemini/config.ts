/** Gemini: options and environment → adapter. (Placeholder until the provider lands.) */
import { LLMConfigurationError } from '../../spec/errors.ts';
import type { ProviderFactory } from '../provider.ts';

export const resolveGemini: ProviderFactory = () => {
  throw new LLMConfigurationError("Provider 'gemini' is not available yet in this version of llm-factory", {
    provider: 'gemini',
  });
};
