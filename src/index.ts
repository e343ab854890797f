/** llm-factory: one interface to every major LLM provider. */
export { createClient, type FactorySettings, LLMClientFactory, resolveSpec } from './client/factory.ts';
export { LLMClient } from './client/llm-client.ts';
export { inferProvider, parseModelSpec } from './client/model-inference.ts';
export type { ClientOptions, RetrySettings } from './client/options.ts';
export { DEFAULT_MODELS, type Env } from './client/settings.ts';
export type { PoolOptions } from './http/transport.ts';
export type { AwsCredentials, RequestTokenCount } from './providers/provider.ts';
export * from './spec/errors.ts';
export { redact } from './spec/redact.ts';
export * from './spec/types.ts';
export { countOpenAIChatTokens, countOpenAITokens, encodingForModel } from './tokens/openai-tokenizer.ts';
