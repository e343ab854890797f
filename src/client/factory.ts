/**
 * The factory: `getClient` (cached) and `createClient` (always new), from a provider name, a
 * `provider/model` string or a bare model name whose provider is unambiguous.
 */
import { createHash } from 'node:crypto';
import { LLMConfigurationError } from '../spec/errors.ts';
import { PROVIDERS, type ProviderName } from '../spec/types.ts';
import { LLMClient } from './llm-client.ts';
import { inferProvider, parseModelSpec } from './model-inference.ts';
import { type ClientOptions, validateClientOptions } from './options.ts';
import { type Env, resolveProvider } from './settings.ts';

export interface FactorySettings {
  /** Where credentials and endpoints are read from. Default `process.env`, read at each creation. */
  env?: Env;
  /** Options applied to every client this factory makes (a client's own options win). */
  defaults?: ClientOptions;
}

const ENV_PREFIX = /^(?:OPENAI_|AZURE_|ANTHROPIC_|GEMINI_|GOOGLE_|AWS_|OLLAMA_)/;

/** Which provider and model a spec names. */
export function resolveSpec(
  spec: string,
  model: string | undefined,
  options: ClientOptions,
): { provider: ProviderName; options: ClientOptions } {
  if (typeof spec !== 'string' || spec.trim() === '') {
    throw new LLMConfigurationError(`Expected a provider name or a model, got ${JSON.stringify(spec)}`);
  }
  const parsed = parseModelSpec(spec.trim());
  let provider = parsed.provider;
  const chosenModel = model ?? parsed.model ?? options.model;
  if (!provider) {
    provider = inferProvider(parsed.model!);
    if (!provider) {
      throw new LLMConfigurationError(
        `Unknown provider '${spec}'. Known providers: ${PROVIDERS.join(', ')}. A bare model name is accepted when its provider is unambiguous (gpt-*, o1/o3/o4-*, claude-*, gemini-*); otherwise write 'provider/model'.`,
      );
    }
  }
  return { provider, options: chosenModel === undefined ? options : { ...options, model: chosenModel } };
}

const objectIds = new WeakMap<object, number>();
let nextObjectId = 1;

function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner && typeof inner === 'object' && !Array.isArray(inner)) {
      const proto = Object.getPrototypeOf(inner);
      if (proto !== Object.prototype && proto !== null) {
        let id = objectIds.get(inner);
        if (id === undefined) {
          id = nextObjectId++;
          objectIds.set(inner, id);
        }
        return `#object${id}`;
      }
      return Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : 1)));
    }
    return inner;
  });
}

export class LLMClientFactory {
  static #default: LLMClientFactory | undefined;
  readonly #settings: FactorySettings;
  readonly #cache = new Map<string, LLMClient>();

  constructor(settings: FactorySettings = {}) {
    if (settings.defaults) validateClientOptions(settings.defaults);
    this.#settings = settings;
  }

  /** The factory behind the static methods. */
  static get default(): LLMClientFactory {
    LLMClientFactory.#default ??= new LLMClientFactory();
    return LLMClientFactory.#default;
  }

  /** A cached client, from the default factory. */
  static getClient(provider: string, model?: string, options?: ClientOptions): LLMClient {
    return LLMClientFactory.default.getClient(provider, model, options);
  }

  /** A new client, from the default factory. */
  static createClient(spec: string, options?: ClientOptions): LLMClient {
    return LLMClientFactory.default.createClient(spec, options);
  }

  /**
   * The client for this provider, model and options, made once and then reused. The cache key is a hash
   * of all three and of the provider's environment variables; no key is kept in it.
   */
  getClient(provider: string, model?: string, options: ClientOptions = {}): LLMClient {
    validateClientOptions(options);
    const env = this.#env();
    const resolved = resolveSpec(provider, model, { ...this.#settings.defaults, ...options });
    const envPart = Object.keys(env)
      .filter((name) => ENV_PREFIX.test(name))
      .sort()
      .map((name) => `${name}=${env[name]}`)
      .join('\n');
    const key = createHash('sha256')
      .update(resolved.provider)
      .update('\0')
      .update(stableJson(resolved.options))
      .update('\0')
      .update(envPart)
      .digest('hex');
    let client = this.#cache.get(key);
    if (!client) {
      client = this.#create(resolved.provider, resolved.options, env);
      this.#cache.set(key, client);
    }
    return client;
  }

  /** A new client for `'provider'`, `'provider/model'` or a bare model name. */
  createClient(spec: string, options: ClientOptions = {}): LLMClient {
    validateClientOptions(options);
    const resolved = resolveSpec(spec, undefined, { ...this.#settings.defaults, ...options });
    return this.#create(resolved.provider, resolved.options, this.#env());
  }

  /** Number of cached clients. */
  get size(): number {
    return this.#cache.size;
  }

  /** Closes and forgets every cached client. */
  async close(): Promise<void> {
    const clients = [...this.#cache.values()];
    this.#cache.clear();
    await Promise.all(clients.map((client) => client.close()));
  }

  #env(): Env {
    return this.#settings.env ?? process.env;
  }

  #create(provider: ProviderName, options: ClientOptions, env: Env): LLMClient {
    return new LLMClient(resolveProvider(provider, options, env), options);
  }
}

/** A new client from the default factory: `createClient('openai/gpt-4o-mini', { apiKey })`. */
export function createClient(spec: string, options?: ClientOptions): LLMClient {
  return LLMClientFactory.default.createClient(spec, options);
}
