/**
 * Any server that speaks the OpenAI Chat Completions protocol at its own base URL (vLLM, LM Studio, Groq,
 * Together, OpenRouter, llama.cpp, …). The key is optional; `max_tokens` and float embeddings are used
 * because they are what such servers understand most widely.
 *
 * Token counts: such a server runs models whose tokenizers we do not have (Llama, Qwen, Mistral…), so its
 * counts are the documented estimate (`tokens/estimate.ts`), labelled as such, unless the model is one of
 * OpenAI's own (a proxy or gateway in front of OpenAI), whose public encoding makes them exact.
 */
import { isListedModel } from '../../pricing/pricing.ts';
import { estimateMessagesTokens, estimateTokens } from '../../tokens/estimate.ts';
import { countOpenAITokens } from '../../tokens/openai-tokenizer.ts';
import { compatibleCapabilities } from '../openai/capabilities.ts';
import { createOpenAIAdapter } from '../openai/index.ts';
import type { ProviderAdapter } from '../provider.ts';

export interface OpenAICompatibleSettings {
  baseURL: string;
  apiKey?: string | undefined;
  headers: Record<string, string>;
  /** The client's model: `tokenCountExact` speaks for it. */
  model: string;
}

/**
 * True for OpenAI's own models, as a gateway may serve them (`gpt-4o-mini`, OpenRouter's
 * `openai/gpt-4o-mini`): listed in the bundled OpenAI price table, or an OpenAI embedding model.
 * gpt-oss is open-weight and served with its own chat template, so its request counts would not be exact.
 */
export function isOpenAIModel(model: string): boolean {
  const name = model.toLowerCase();
  if (/(?:^|\/)gpt-oss/.test(name)) return false;
  return /^(?:openai\/)?text-embedding-(?:3-|ada-002)/.test(name) || isListedModel('openai', name);
}

export function createOpenAICompatibleAdapter(settings: OpenAICompatibleSettings): ProviderAdapter {
  const adapter = createOpenAIAdapter({
    name: 'openai-compatible',
    baseURL: settings.baseURL,
    apiKey: settings.apiKey,
    headers: settings.headers,
    maxTokensField: 'max_tokens',
    embeddingEncoding: 'float',
    capabilities: compatibleCapabilities,
    replayReasoning: true,
  });
  return {
    ...adapter,
    countTokens: (text, model) =>
      isOpenAIModel(model) ? countOpenAITokens(text, model) : estimateTokens(text),
    tokenCountExact: isOpenAIModel(settings.model),
    countRequestTokensLocally: (request) =>
      isOpenAIModel(request.model)
        ? adapter.countRequestTokensLocally(request)
        : { inputTokens: estimateMessagesTokens(request.messages), exact: false, source: 'estimate' },
  };
}
