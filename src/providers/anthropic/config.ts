/** Anthropic: options and environment → adapter. (Placeholder until the provider lands.) */
import { LLMConfigurationError } from '../../spec/errors.ts';
import type { ProviderFactory } from '../provider.ts';

export const resolveAnthropic: ProviderFactory = () => {
  throw new LLMConfigurationError(
    "Provider 'anthropic' is not available yet in this version of llm-factory",
    {
      provider: 'anthropic',
    },
  );
};
