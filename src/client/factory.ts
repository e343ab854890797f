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

const identities = new WeakMap<object, number>();
let nextIdentity = 1;

function identityOf(value: object): string {
  let id = identities.get(value);
  if (id === undefined) {
    id = nextIdentity++;
    identities.set(value, id);
  }
  return `#${id}`;
}

/**
 * A string that is equal for two option objects exactly when they configure the same client. Data
 * (strings, numbers, plain objects and arrays of them) counts by value, keys sorted; anything with
 * behaviour or state of its own — a function, a class instance (a dispatcher, a `SpendTracker`, a store),
 * a cycle — counts by identity. So a `logger`, a `middleware` layer or a cache `store` written as a plain
 * object with methods is told apart from another one by its methods, where JSON would drop them and
 * hand one caller another caller's client.
 */
function optionsFingerprint(value: unknown, path: object[] = []): string {
  if (typeof value === 'function') return identityOf(value);
  if (typeof value !== 'object' || value === null) return JSON.stringify(value) ?? 'undefined';
  if (path.includes(value)) return identityOf(value);
  const proto = Object.getPrototypeOf(value);
  if (Array.isArray(value)) {
    if (proto !== Array.prototype) return identityOf(value);
    path.push(value);
    const items = value.map((item) => optionsFingerprint(item, path));
    path.pop();
    return `[${items.join(',')}]`;
  }
  if (proto !== Object.prototype && proto !== null) return identityOf(value);
  path.push(value);
  const entries = Object.keys(value)
    .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
    .sort()
    .map(
      (key) => `${JSON.stringify(key)}:${optionsFingerprint((value as Record<string, unknown>)[key], path)}`,
    );
  path.pop();
  return `{${entries.join(',')}}`;
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
      .update(optionsFingerprint(resolved.options))
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
