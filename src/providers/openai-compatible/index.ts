/**
 * Any server that speaks the OpenAI Chat Completions protocol at its own base URL (vLLM, LM Studio, Groq,
 * Together, OpenRouter, llama.cpp, …). The key is optional; `max_tokens` and float embeddings are used
 * because they are what such servers understand most widely.
 */
import { compatibleCapabilities } from '../openai/capabilities.ts';
import { createOpenAIAdapter } from '../openai/index.ts';
import type { ProviderAdapter } from '../provider.ts';

export interface OpenAICompatibleSettings {
  baseURL: string;
  apiKey?: string | undefined;
  headers: Record<string, string>;
}

export function createOpenAICompatibleAdapter(settings: OpenAICompatibleSettings): ProviderAdapter {
  return createOpenAIAdapter({
    name: 'openai-compatible',
    baseURL: settings.baseURL,
    apiKey: settings.apiKey,
    headers: settings.headers,
    maxTokensField: 'max_tokens',
    embeddingEncoding: 'float',
    capabilities: compatibleCapabilities,
    replayReasoning: true,
  });
}
