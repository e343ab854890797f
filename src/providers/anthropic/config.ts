/** Anthropic: options and environment → adapter. */
import { missing, pick, pickUrl } from '../config-helpers.ts';
import { DEFAULT_MODELS } from '../defaults.ts';
import type { ProviderFactory } from '../provider.ts';
import { createAnthropicAdapter } from './index.ts';

/** The API host the official SDK uses by default (requests go to `{host}/v1/messages`). */
export const DEFAULT_ANTHROPIC_BASE_URL = 'https://api.anthropic.com';

export const resolveAnthropic: ProviderFactory = (input, env) => {
  const apiKey = pick(input.apiKey, env.ANTHROPIC_API_KEY);
  if (!apiKey) throw missing('API key', 'anthropic', 'apiKey', 'ANTHROPIC_API_KEY');
  const baseURL =
    pickUrl('anthropic', ['baseURL', input.baseURL], ['ANTHROPIC_BASE_URL', env.ANTHROPIC_BASE_URL]) ??
    DEFAULT_ANTHROPIC_BASE_URL;
  return {
    adapter: createAnthropicAdapter({ apiKey, baseURL, headers: input.headers }),
    model: pick(input.model, DEFAULT_MODELS.anthropic.chat)!,
    embeddingModel: undefined,
    secrets: [apiKey],
  };
};
