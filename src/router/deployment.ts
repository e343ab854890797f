/**
 * A deployment as the router holds it: its configuration, the client that reaches it (made by the
 * factory, so it shares the connection pool of its origin), and its health record.
 *
 * Each deployment has up to two clients: one with the retries its options ask for, used when it is the
 * last deployment able to take a call; and, made on first need, one that tries once, used while another
 * deployment can still take the call, so that a 429 or a 5xx moves to the next deployment at once instead
 * of waiting through backoff here.
 */
import type { LLMClientFactory } from '../client/factory.ts';
import { resolveSpec } from '../client/factory.ts';
import type { LLMClient } from '../client/llm-client.ts';
import type { ClientOptions } from '../client/options.ts';
import type { HeaderMap } from '../http/retry-timing.ts';
import { rateLimitBudgets } from '../middleware/rate-limit.ts';
import type { CallInfo, Middleware } from '../middleware/types.ts';
import { contextWindowOf, costOf } from '../pricing/pricing.ts';
import type { SpendTracker } from '../pricing/spend-tracker.ts';
import { isLLMError, LLMConfigurationError } from '../spec/errors.ts';
import type { ProviderName } from '../spec/types.ts';
import { type Clock, DeploymentStats } from './health.ts';
import type { DeploymentConfig } from './types.ts';

export interface DeploymentSetup {
  factory: LLMClientFactory;
  /** Options every deployment gets under its own. */
  defaults: ClientOptions;
  /** Feed the provider's rate-limit headers to the health record (the `usage` strategy reads them). */
  observeHeaders: boolean;
  clock: Clock;
}

/** A deployment's priority when it declares none: after every one that does. */
const UNSET_PRIORITY = Number.POSITIVE_INFINITY;

export class Deployment {
  readonly id: string;
  readonly config: DeploymentConfig;
  readonly provider: ProviderName;
  /** The model as sent to the provider (Azure: the deployment name). */
  readonly model: string;
  readonly embeddingModel: string;
  readonly weight: number;
  readonly priority: number;
  readonly contextWindow: number | undefined;
  readonly stats: DeploymentStats;
  readonly #retrying: LLMClient;
  #once: LLMClient | undefined;
  readonly #make: (options: ClientOptions) => LLMClient;
  readonly #options: ClientOptions;

  constructor(config: DeploymentConfig, index: number, setup: DeploymentSetup) {
    this.id = config.id;
    this.config = config;
    const options: ClientOptions = { ...setup.defaults, ...config.options };
    this.stats = new DeploymentStats(config.id, {
      rpm: config.rpm,
      tpm: config.tpm,
      maxConcurrency: config.maxConcurrency,
    });
    if (setup.observeHeaders) {
      const stats = this.stats;
      const observe = (headers: HeaderMap) => {
        const now = setup.clock.now();
        stats.observeBudgets(rateLimitBudgets(headers, now), now);
      };
      options.middleware = [...(options.middleware ?? []), headerObserver(observe)];
    }
    this.#options = options;
    this.#make = (clientOptions) => {
      try {
        return setup.factory.createClient(config.model, clientOptions);
      } catch (error) {
        if (isLLMError(error))
          throw new LLMConfigurationError(
            `Invalid router config: \`deployments[${index}]\` ('${config.id}'): ${error.message}`,
            { cause: error },
          );
        throw error;
      }
    };
    this.#retrying = this.#make(options);
    this.provider = this.#retrying.provider;
    this.model = this.#retrying.model;
    const specModel = resolveSpec(config.model, undefined, {}).options.model;
    this.embeddingModel = options.embeddingModel ?? specModel ?? this.#retrying.embeddingModel ?? this.model;
    this.weight = config.weight ?? 1;
    this.priority = config.priority ?? UNSET_PRIORITY;
    this.contextWindow = config.contextWindow ?? contextWindowOf(this.provider, this.model);
  }

  /** True when the client counts OpenAI-encoded tokens exactly (and cheaply, locally). */
  get exactTokens(): boolean {
    return this.#retrying.tokenCountExact;
  }

  /** The client to use: retrying when no other deployment can take the call, else trying once. */
  client(retries: boolean): LLMClient {
    if (retries || this.#options.maxRetries === 0) return this.#retrying;
    this.#once ??= this.#make({ ...this.#options, maxRetries: 0 });
    return this.#once;
  }

  /** The vector space of this deployment's embeddings: the model and the vectors' size. */
  embeddingSpace(requestedDimensions: number | undefined): string {
    const model = this.embeddingModel.replace(/^models\//, '');
    return `${model}@${requestedDimensions ?? this.config.dimensions ?? 'native'}`;
  }

  /** The estimated cost of a call of this size here, or undefined when the model's price is unknown. */
  estimatedCostUsd(inputTokens: number, outputTokens: number): number | undefined {
    return costOf(this.provider, this.model, {
      inputTokens,
      outputTokens,
      totalTokens: inputTokens + outputTokens,
    });
  }

  /** The spend tracker the deployment's calls are recorded in, when its options have one. */
  get spend(): SpendTracker | undefined {
    return this.#options.spend;
  }

  async close(): Promise<void> {
    await Promise.all([this.#retrying.close(), this.#once?.close()]);
  }
}

/** A layer that hands each response's headers to `observe` (and to any observer further out). */
function headerObserver(observe: (headers: HeaderMap) => void): Middleware {
  const wrap = (call: CallInfo): CallInfo => {
    const outer = call.onHeaders;
    const onHeaders = outer
      ? (headers: HeaderMap) => {
          observe(headers);
          outer(headers);
        }
      : observe;
    return { ...call, onHeaders };
  };
  return {
    name: 'router-headers',
    complete: (request, call, next) => next(request, wrap(call)),
    stream: (request, call, next) => next(request, wrap(call)),
    embed: (batch, call, next) => next(batch, wrap(call)),
  };
}
