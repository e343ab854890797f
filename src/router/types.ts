/**
 * The router's configuration: the same shape whether it is written in TypeScript or loaded from a YAML or
 * JSON file (`loadRouterConfig`), where credentials are `env:VARIABLE` references. Every field has its
 * default in its TSDoc line; `validateRouterConfig` checks all of them and names the field that is wrong.
 */
import type { LLMClientFactory } from '../client/factory.ts';
import type { LLMClient } from '../client/llm-client.ts';
import type { ClientOptions } from '../client/options.ts';
import type { Logger } from '../middleware/logging.ts';
import type { TracingOptions } from '../middleware/tracing.ts';
import type { LLMErrorCode } from '../spec/errors.ts';

/** How the router picks among the deployments of a group that are at the same priority level. */
export type RoutingStrategy = 'priority' | 'weighted' | 'least-busy' | 'latency' | 'usage' | 'cost';

export const ROUTING_STRATEGIES: readonly RoutingStrategy[] = [
  'priority',
  'weighted',
  'least-busy',
  'latency',
  'usage',
  'cost',
];

/** One place a call can go: a provider, a model and the options (credentials) to reach it. */
export interface DeploymentConfig {
  /** A unique name; also a model name requests may use to reach this deployment alone. */
  id: string;
  /** `'provider/model'` (`'openai/gpt-4o-mini'`; Azure: `'azure/<deployment>'`). */
  model: string;
  /** The client's options: `apiKey`, `baseURL`, `timeoutMs`, … (override the router's `defaults`). */
  options?: ClientOptions;
  /** Share of the traffic under the `weighted` strategy. Default 1; 0 = only when nothing else is left. */
  weight?: number;
  /**
   * Lower goes first. Every strategy picks among the best level that has a deployment available, and
   * falls back to the next level. Default: after every deployment that has one, in the group's order.
   */
  priority?: number;
  /** Requests per minute this deployment may take; a spent budget makes the router skip it. */
  rpm?: number;
  /** Tokens per minute (counted from the usage of answers) this deployment may take. */
  tpm?: number;
  /** Calls in flight at once, at most. */
  maxConcurrency?: number;
  /** Input tokens the model accepts. Default: the bundled price table's, when it knows the model. */
  contextWindow?: number;
  /** Embeddings: the vectors' size this deployment produces (sent as `dimensions` unless the call gives one). */
  dimensions?: number;
}

export interface CooldownConfig {
  /** Failures a deployment may have within `windowMs`; the next one cools it down. Default 3. */
  allowedFails?: number;
  /** The window failures are counted in, from the first one, in ms. Default 60 000. */
  windowMs?: number;
  /** How long a deployment sits out, in ms (a 429's `retry-after` sets its own). Default 5 000. */
  cooldownMs?: number;
}

/** Send a second request when the first has not answered after a fixed time or the p-th percentile latency. */
export type HedgeConfig = { afterMs: number } | { percentile: number };

/** Where health and usage live: this process, or a Redis every process and machine shares. */
export type RouterStateConfig =
  | 'memory'
  | 'redis'
  | string
  | {
      /** `redis://host:port`. Default `REDIS_URL`, then `redis://127.0.0.1:6379`. */
      redis: string;
      /** Prefix of every key. Default `llmf:router:`. Routers sharing it share the health of same-named deployments. */
      prefix?: string;
      /** How often counters are exchanged with Redis, in ms. Default 100. */
      syncIntervalMs?: number;
    };

export interface RouterConfig {
  deployments: DeploymentConfig[];
  /** Aliases a request's `model` may name: `{ chat: ['openai-eu', 'anthropic-main'] }`. */
  groups?: Record<string, string[]>;
  /** Group alias or deployment id used when a request names no model. Default: the first group, else every deployment. */
  defaultModel?: string;
  /** The same for `generateEmbeddings`. Default `defaultModel`. */
  defaultEmbeddingModel?: string;
  /** Default `'priority'`. */
  strategy?: RoutingStrategy;
  /**
   * Error codes that move a call to the next deployment. Default: `rate_limit`, `server_error` (5xx and
   * overloaded), `timeout`, `connection`, `invalid_response`, `context_window_exceeded` (only to a larger
   * window) and `content_filter` (only to another provider).
   */
  fallbacks?: LLMErrorCode[];
  /** Default `{ allowedFails: 3, windowMs: 60_000, cooldownMs: 5_000 }`; `false` turns cooldowns off. */
  cooldown?: CooldownConfig | false;
  /** Default: off. */
  hedge?: HedgeConfig;
  /** Default `'memory'`. */
  state?: RouterStateConfig;
  /** Streams: no first event within this many ms counts as a timeout and moves to the next deployment. Default: off. */
  ttftTimeoutMs?: number;
  /** Longest wait for a cooling deployment to return when every one is cooling, in ms. Default 60 000. */
  maxWaitMs?: number;
  /** Client options every deployment gets (its own `options` win). */
  defaults?: ClientOptions;
  /** A log line per fallback and per cooldown; also every deployment's logger unless it has its own. */
  logger?: Logger;
  /** `llm_router_*` Prometheus counters; also every deployment's `metrics` unless it says otherwise. */
  metrics?: boolean;
  /** A span per routed call and per deployment attempt; also every deployment's `tracing`. */
  tracing?: boolean | TracingOptions;
  /** The factory deployments' clients come from. Default: `LLMClientFactory.default`. */
  factory?: LLMClientFactory;
}

/** The health of one deployment, as `router.health()` reports it. */
export interface DeploymentHealth {
  id: string;
  provider: string;
  model: string;
  /** Ms until the deployment returns from its cooldown (0: not cooling). */
  coolingForMs: number;
  /** The error code that cooled it down. */
  coolingCode: string | undefined;
  /** Failures counted in the current window. */
  failures: number;
  /** Calls in flight (every process's, with shared state). */
  inFlight: number;
  /** Recent latency of whole calls and time to first event of streams (EWMA), ms. */
  latencyMs: number | undefined;
  ttftMs: number | undefined;
  /** Requests and tokens in the last minute (sliding). */
  requestsPerMinute: number;
  tokensPerMinute: number;
}

/** The client methods a router shares, so that code written for one takes the other. */
export type ClientMethods = Pick<
  LLMClient,
  | 'complete'
  | 'stream'
  | 'generateCompletion'
  | 'generateEmbeddings'
  | 'embed'
  | 'countTokens'
  | 'countRequestTokens'
  | 'generateObject'
  | 'streamObject'
  | 'runTools'
>;
