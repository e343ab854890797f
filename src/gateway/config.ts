/**
 * The gateway's configuration: the router's fields at the top level (`deployments`, `groups`, `strategy`,
 * `fallbacks`, `cooldown`, `hedge`, …) plus `masterKey`, `state` and `server`. Loaded from YAML or JSON with
 * credentials as `env:VARIABLE`, validated with errors that name the field.
 */
import { resolve } from 'node:path';
import type { Env } from '../client/settings.ts';
import { validateRouterConfig } from '../router/config.ts';
import { readConfigFile, resolveEnvReferences } from '../router/config-file.ts';
import type { RouterConfig, RouterStateConfig } from '../router/types.ts';
import { LLMConfigurationError } from '../spec/errors.ts';
import { isRecord } from '../spec/json.ts';
import type { GatewayCacheConfig } from './cache.ts';

/** Where keys, counters, budgets and the ledger live. */
export type GatewayState = { kind: 'sqlite'; path: string } | { kind: 'redis'; url: string; prefix: string };

export interface ServerSettings {
  /** Largest request body, in bytes. Default 10 MiB. */
  bodyLimitBytes: number;
  /** Largest upstream response passed through, in bytes. Default 256 MiB. */
  upstreamMaxBytes: number;
  /** Longest a client may take to send a request, in ms. Default 60 000. */
  requestTimeoutMs: number;
  /** How long an idle keep-alive connection from a client stays open, in ms. Default 65 000. */
  keepAliveTimeoutMs: number;
  /** On shutdown, how long in-flight requests and streams may take to finish, in ms. Default 30 000. */
  drainTimeoutMs: number;
  /** How long a found key is trusted before the store is read again, in ms. Default 2 000. */
  keyCacheMs: number;
}

export interface GatewayConfig {
  router: RouterConfig;
  /** Administers virtual keys and may use every model. Default `LLMF_MASTER_KEY`. */
  masterKey: string | undefined;
  state: GatewayState;
  server: ServerSettings;
  /** The response cache; off unless configured (`cache: true` or `{ ttlMs?, shared?, maxEntryBytes? }`). */
  cache: GatewayCacheConfig | undefined;
}

export const DEFAULT_SERVER: ServerSettings = {
  bodyLimitBytes: 10 * 1024 * 1024,
  upstreamMaxBytes: 256 * 1024 * 1024,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 65_000,
  drainTimeoutMs: 30_000,
  keyCacheMs: 2_000,
};

/**
 * Sockets a gateway keeps open at most to one provider's origin, unless a deployment's (or the `defaults`')
 * `pool.connections` says otherwise. The library's default (128) suits one application; a gateway's upstream
 * sockets follow its clients' requests in flight (one each, a fallback's or a hedge's more), and at 128 its
 * 129th concurrent stream to a provider would wait, headers and all, for one of the first to end.
 */
export const GATEWAY_UPSTREAM_CONNECTIONS = 4096;

const OWN_KEYS = ['masterKey', 'state', 'server', 'cache'] as const;

const CACHE_FIELDS = ['ttlMs', 'shared', 'maxEntryBytes'] as const;

function cacheOf(value: unknown, source: string): GatewayCacheConfig | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return {};
  if (!isRecord(value))
    fail(source, 'cache', `expected true, false or an object, got ${JSON.stringify(value)}`);
  const config: GatewayCacheConfig = {};
  for (const [key, given] of Object.entries(value)) {
    if (key === 'shared') {
      if (typeof given !== 'boolean')
        fail(source, 'cache.shared', `expected a boolean, got ${JSON.stringify(given)}`);
      config.shared = given;
    } else if (key === 'ttlMs' || key === 'maxEntryBytes') {
      if (typeof given !== 'number' || !Number.isInteger(given) || given <= 0)
        fail(source, `cache.${key}`, `expected a positive integer, got ${JSON.stringify(given)}`);
      config[key] = given;
    } else {
      fail(source, `cache.${key}`, `unknown field; known: ${CACHE_FIELDS.join(', ')}`);
    }
  }
  return config;
}

function fail(source: string, field: string, message: string): never {
  throw new LLMConfigurationError(`${source}: Invalid gateway config: \`${field}\`: ${message}`);
}

function stateOf(value: unknown, source: string): GatewayState {
  if (value === undefined || value === 'sqlite')
    return { kind: 'sqlite', path: resolve('llmf-gateway.sqlite') };
  if (typeof value === 'string') {
    if (/^rediss?:\/\//.test(value)) return { kind: 'redis', url: value, prefix: 'llmf:' };
    if (value.startsWith('sqlite:')) return { kind: 'sqlite', path: resolve(value.slice('sqlite:'.length)) };
    fail(
      source,
      'state',
      `expected 'sqlite', 'sqlite:<path>', a redis:// URL or { sqlite } / { redis }, got ${JSON.stringify(value)}`,
    );
  }
  if (isRecord(value)) {
    if (typeof value.sqlite === 'string') return { kind: 'sqlite', path: resolve(value.sqlite) };
    if (typeof value.redis === 'string') {
      const prefix = value.prefix === undefined ? 'llmf:' : value.prefix;
      if (typeof prefix !== 'string' || prefix === '')
        fail(source, 'state.prefix', 'expected a non-empty string');
      return { kind: 'redis', url: value.redis, prefix };
    }
  }
  return fail(
    source,
    'state',
    "expected 'sqlite', 'sqlite:<path>', a redis:// URL, { sqlite: path } or { redis: url, prefix? }",
  );
}

function serverOf(value: unknown, source: string): ServerSettings {
  if (value === undefined) return { ...DEFAULT_SERVER };
  if (!isRecord(value)) fail(source, 'server', 'expected an object');
  const settings = { ...DEFAULT_SERVER };
  for (const [key, given] of Object.entries(value)) {
    if (!(key in DEFAULT_SERVER)) {
      fail(source, `server.${key}`, `unknown field; known: ${Object.keys(DEFAULT_SERVER).join(', ')}`);
    }
    if (typeof given !== 'number' || !Number.isInteger(given) || given <= 0) {
      fail(source, `server.${key}`, `expected a positive integer, got ${JSON.stringify(given)}`);
    }
    settings[key as keyof ServerSettings] = given;
  }
  return settings;
}

/** Checks a configuration object (with `env:` references resolved) and returns it typed. */
export function validateGatewayConfig(
  document: unknown,
  source = 'gateway config',
  env: Env = process.env,
): GatewayConfig {
  if (!isRecord(document)) fail(source, '', 'expected an object with `deployments`');
  const state = stateOf(document.state, source);
  const routerState: RouterStateConfig =
    state.kind === 'redis' ? { redis: state.url, prefix: `${state.prefix}router:` } : 'memory';
  let router: RouterConfig;
  try {
    router = validateRouterConfig(document, { ownKeys: OWN_KEYS });
  } catch (error) {
    if (error instanceof LLMConfigurationError)
      throw new LLMConfigurationError(`${source}: ${error.message}`);
    throw error;
  }
  router.state = routerState;
  for (const deployment of router.deployments) {
    const pool = {
      connections: GATEWAY_UPSTREAM_CONNECTIONS,
      ...router.defaults?.pool,
      ...deployment.options?.pool,
    };
    deployment.options = { ...deployment.options, pool };
  }
  const masterKey = document.masterKey ?? env.LLMF_MASTER_KEY;
  if (masterKey !== undefined && (typeof masterKey !== 'string' || masterKey.length < 16)) {
    fail(source, 'masterKey', 'expected a string of at least 16 characters');
  }
  return {
    router,
    masterKey,
    state,
    server: serverOf(document.server, source),
    cache: cacheOf(document.cache, source),
  };
}

/** Reads and validates a YAML or JSON configuration file. */
export function loadGatewayConfig(path: string, env: Env = process.env): GatewayConfig {
  return validateGatewayConfig(readConfigFile(path, { env }), path, env);
}

/** A configuration given as an object, `env:` references resolved. */
export function gatewayConfigFrom(value: unknown, env: Env = process.env): GatewayConfig {
  return validateGatewayConfig(resolveEnvReferences(value, env), 'gateway config', env);
}
