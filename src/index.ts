/** llm-factory: one interface to every major LLM provider. */
export { createClient, type FactorySettings, LLMClientFactory, resolveSpec } from './client/factory.ts';
export { LLMClient } from './client/llm-client.ts';
export type { MediaDownloadOptions } from './client/media-download.ts';
export { inferProvider, parseModelSpec } from './client/model-inference.ts';
export type { ClientOptions, RetrySettings } from './client/options.ts';
export { DEFAULT_MODELS, type Env } from './client/settings.ts';
export type {
  ObjectRequest,
  ObjectResult,
  ObjectStreamEvent,
  StructuredOutputMode,
} from './client/structured-output.ts';
export {
  type ExecutableTool,
  type RunToolsRequest,
  type RunToolsResult,
  type ToolExecutionContext,
  type ToolResult,
  type ToolStep,
  tool,
} from './client/tool-loop.ts';
export type { PoolOptions } from './http/transport.ts';
export type { CacheSettings } from './middleware/cache/index.ts';
export { MemoryStore } from './middleware/cache/memory-store.ts';
export { RedisStore } from './middleware/cache/redis-store.ts';
export { SqliteStore } from './middleware/cache/sqlite-store.ts';
export type { CacheStore } from './middleware/cache/store.ts';
export type { Logger } from './middleware/logging.ts';
export { metricsRegistry, metricsText } from './middleware/metrics.ts';
export type { RateLimitOptions } from './middleware/rate-limit.ts';
export type { TracingOptions } from './middleware/tracing.ts';
export type { CallInfo, EmbedBatch, EmbedResult, Middleware, Operation } from './middleware/types.ts';
export { PRICE_SOURCE, PRICES_READ_ON } from './pricing/prices.generated.ts';
export {
  contextWindowOf,
  costOf,
  findModelPrice,
  type ModelPrice,
  setModelPrice,
} from './pricing/pricing.ts';
export { type SpendLine, SpendTracker } from './pricing/spend-tracker.ts';
export type { AwsCredentials, ModelCapabilities, RequestTokenCount } from './providers/provider.ts';
export { type ValidateRouterOptions, validateRouterConfig } from './router/config.ts';
export { loadRouterConfig, type ReadConfigOptions } from './router/config-file.ts';
export { createRouter, Router } from './router/router.ts';
export type {
  ClientMethods,
  CooldownConfig,
  DeploymentConfig,
  DeploymentHealth,
  HedgeConfig,
  RouterConfig,
  RouterStateConfig,
  RoutingStrategy,
} from './router/types.ts';
export { PartialJsonParser } from './schema/partial-json.ts';
export * from './spec/errors.ts';
export { redact } from './spec/redact.ts';
export type { CacheControl } from './spec/types.ts';
export * from './spec/types.ts';
export { countOpenAIChatTokens, countOpenAITokens, encodingForModel } from './tokens/openai-tokenizer.ts';
