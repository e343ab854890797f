/**
 * Strict validation of a router configuration, naming the field that is wrong (`deployments[2].model`).
 * It checks the router's part of an object and leaves alone the keys a larger configuration (a gateway's
 * `masterKey`, …) declares as its own, so that the same file can configure both.
 */
import { resolveSpec } from '../client/factory.ts';
import { type ClientOptions, validateClientOptions } from '../client/options.ts';
import { isLLMError, LLMConfigurationError, type LLMErrorCode } from '../spec/errors.ts';
import {
  type CooldownConfig,
  type DeploymentConfig,
  type HedgeConfig,
  ROUTING_STRATEGIES,
  type RouterConfig,
  type RouterStateConfig,
} from './types.ts';

export interface ValidateRouterOptions {
  /** Written before every field path in messages (`gateway.`); default none. */
  path?: string;
  /** Top-level keys the caller validates itself: neither rejected nor copied into the result. */
  ownKeys?: readonly string[];
}

const TOP_LEVEL: ReadonlySet<string> = new Set<keyof RouterConfig>([
  'deployments',
  'groups',
  'defaultModel',
  'defaultEmbeddingModel',
  'strategy',
  'fallbacks',
  'cooldown',
  'hedge',
  'state',
  'ttftTimeoutMs',
  'maxWaitMs',
  'defaults',
  'logger',
  'metrics',
  'tracing',
  'factory',
]);

const DEPLOYMENT_KEYS: ReadonlySet<string> = new Set<keyof DeploymentConfig>([
  'id',
  'model',
  'options',
  'weight',
  'priority',
  'rpm',
  'tpm',
  'maxConcurrency',
  'contextWindow',
  'dimensions',
]);

/** Every code a fallback list may name: all but the caller's own cancellation and our configuration errors. */
export const FALLBACK_CODES: readonly LLMErrorCode[] = [
  'authentication',
  'rate_limit',
  'timeout',
  'connection',
  'bad_request',
  'context_window_exceeded',
  'content_filter',
  'not_found',
  'server_error',
  'invalid_response',
  'unsupported',
  'unknown',
];

class Checker {
  readonly #prefix: string;
  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  fail(path: string, problem: string): never {
    throw new LLMConfigurationError(`Invalid router config: \`${this.#prefix}${path}\`: ${problem}`);
  }

  object(path: string, value: unknown): Record<string, unknown> {
    if (typeof value !== 'object' || value === null || Array.isArray(value))
      this.fail(path, `expected an object, got ${describe(value)}`);
    return value as Record<string, unknown>;
  }

  string(path: string, value: unknown): string {
    if (typeof value !== 'string' || value.trim() === '')
      this.fail(path, `expected a non-empty string, got ${describe(value)}`);
    return value;
  }

  number(
    path: string,
    value: unknown,
    rule: 'positive' | 'non-negative' | 'finite',
    integer = false,
  ): number {
    const ok =
      typeof value === 'number' &&
      Number.isFinite(value) &&
      (!integer || Number.isInteger(value)) &&
      (rule === 'finite' || value > 0 || (rule === 'non-negative' && value === 0));
    if (!ok) {
      const kind = integer ? 'integer' : 'number';
      const expected = rule === 'finite' ? `a ${kind}` : `a ${rule} ${kind}`;
      this.fail(path, `expected ${expected}, got ${describe(value)}`);
    }
    return value as number;
  }

  keys(path: string, value: Record<string, unknown>, known: ReadonlySet<string>, skip?: ReadonlySet<string>) {
    for (const key of Object.keys(value)) {
      if (known.has(key) || skip?.has(key)) continue;
      const hint = closest(key, [...known]);
      const at = path ? `${path}.${key}` : key;
      this.fail(
        at,
        `unknown field${hint ? ` (did you mean \`${hint}\`?)` : ''}; known: ${[...known].join(', ')}`,
      );
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}

/** The known name a typo most likely meant: same letters ignoring case, or at most two edits away. */
function closest(name: string, known: readonly string[]): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of known) {
    const distance = candidate.toLowerCase() === lower ? 0 : editDistance(lower, candidate.toLowerCase());
    // A short name is a couple of edits from anything: only suggest what shares most of its letters.
    if (distance < bestDistance && distance < Math.max(name.length, candidate.length) / 2) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(
        previous[j]! + 1,
        row[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
    }
    previous = row;
  }
  return previous[b.length]!;
}

function checkClientOptions(check: Checker, path: string, value: unknown): ClientOptions {
  check.object(path, value);
  try {
    validateClientOptions(value);
  } catch (error) {
    if (isLLMError(error)) check.fail(path, error.message);
    throw error;
  }
  return value as ClientOptions;
}

function checkClientOption<K extends 'logger' | 'tracing'>(
  check: Checker,
  key: K,
  value: unknown,
): NonNullable<ClientOptions[K]> {
  try {
    validateClientOptions({ [key]: value });
  } catch (error) {
    if (isLLMError(error)) check.fail(key, error.message.replace(/^Invalid option `\w+`: /, ''));
    throw error;
  }
  return value as NonNullable<ClientOptions[K]>;
}

function checkDeployment(check: Checker, path: string, value: unknown): DeploymentConfig {
  const deployment = check.object(path, value);
  check.keys(path, deployment, DEPLOYMENT_KEYS);
  const id = check.string(`${path}.id`, deployment.id);
  const model = check.string(`${path}.model`, deployment.model);
  const options =
    deployment.options === undefined ? {} : checkClientOptions(check, `${path}.options`, deployment.options);
  try {
    resolveSpec(model, undefined, options);
  } catch (error) {
    if (isLLMError(error)) check.fail(`${path}.model`, error.message);
    throw error;
  }
  const result: DeploymentConfig = { id, model };
  if (deployment.options !== undefined) result.options = options;
  if (deployment.weight !== undefined)
    result.weight = check.number(`${path}.weight`, deployment.weight, 'non-negative');
  if (deployment.priority !== undefined)
    result.priority = check.number(`${path}.priority`, deployment.priority, 'finite');
  for (const field of ['rpm', 'tpm', 'maxConcurrency', 'contextWindow', 'dimensions'] as const) {
    if (deployment[field] !== undefined)
      result[field] = check.number(`${path}.${field}`, deployment[field], 'positive', true);
  }
  return result;
}

function checkState(check: Checker, value: unknown): RouterStateConfig {
  if (value === 'memory' || value === 'redis') return value;
  if (typeof value === 'string') {
    if (/^rediss?:\/\//.test(value) && URL.canParse(value)) return value;
    check.fail(
      'state',
      `expected 'memory', 'redis', a redis:// URL or { redis: url }, got ${describe(value)}`,
    );
  }
  const state = check.object('state', value);
  check.keys('state', state, new Set(['redis', 'prefix', 'syncIntervalMs']));
  const url = check.string('state.redis', state.redis);
  if (!/^rediss?:\/\//.test(url) || !URL.canParse(url))
    check.fail('state.redis', `expected a redis:// URL, got ${describe(url)}`);
  const result: Exclude<RouterStateConfig, string> = { redis: url };
  if (state.prefix !== undefined) result.prefix = check.string('state.prefix', state.prefix);
  if (state.syncIntervalMs !== undefined)
    result.syncIntervalMs = check.number('state.syncIntervalMs', state.syncIntervalMs, 'positive');
  return result;
}

function checkCooldown(check: Checker, value: unknown): CooldownConfig | false {
  if (value === false) return false;
  const cooldown = check.object('cooldown', value);
  check.keys('cooldown', cooldown, new Set(['allowedFails', 'windowMs', 'cooldownMs']));
  const result: CooldownConfig = {};
  if (cooldown.allowedFails !== undefined)
    result.allowedFails = check.number('cooldown.allowedFails', cooldown.allowedFails, 'non-negative', true);
  if (cooldown.windowMs !== undefined)
    result.windowMs = check.number('cooldown.windowMs', cooldown.windowMs, 'positive');
  if (cooldown.cooldownMs !== undefined)
    result.cooldownMs = check.number('cooldown.cooldownMs', cooldown.cooldownMs, 'non-negative');
  return result;
}

function checkHedge(check: Checker, value: unknown): HedgeConfig {
  const hedge = check.object('hedge', value);
  check.keys('hedge', hedge, new Set(['afterMs', 'percentile']));
  if ((hedge.afterMs === undefined) === (hedge.percentile === undefined))
    check.fail('hedge', 'expected exactly one of `afterMs` or `percentile`');
  if (hedge.afterMs !== undefined)
    return { afterMs: check.number('hedge.afterMs', hedge.afterMs, 'positive') };
  const percentile = check.number('hedge.percentile', hedge.percentile, 'positive');
  if (percentile >= 100) check.fail('hedge.percentile', `expected a number below 100, got ${percentile}`);
  return { percentile };
}

function checkGroups(check: Checker, value: unknown, ids: ReadonlySet<string>): Record<string, string[]> {
  const groups = check.object('groups', value);
  const result: Record<string, string[]> = {};
  for (const [alias, members] of Object.entries(groups)) {
    const path = `groups.${alias}`;
    if (ids.has(alias)) check.fail(path, `a group cannot have the name of deployment '${alias}'`);
    if (!Array.isArray(members) || members.length === 0)
      check.fail(path, `expected a non-empty array of deployment ids, got ${describe(members)}`);
    const seen = new Set<string>();
    members.forEach((member, index) => {
      const id = check.string(`${path}[${index}]`, member);
      if (!ids.has(id)) {
        const hint = closest(id, [...ids]);
        check.fail(
          `${path}[${index}]`,
          `unknown deployment '${id}'${hint ? ` (did you mean '${hint}'?)` : ''}; known: ${[...ids].join(', ')}`,
        );
      }
      if (seen.has(id)) check.fail(`${path}[${index}]`, `deployment '${id}' is listed twice`);
      seen.add(id);
    });
    result[alias] = members as string[];
  }
  return result;
}

/**
 * Checks the router's part of `value` and returns it typed (a copy holding only the router's fields).
 * Throws an `LLMConfigurationError` naming the first field that is wrong.
 */
export function validateRouterConfig(value: unknown, options: ValidateRouterOptions = {}): RouterConfig {
  const check: Checker = new Checker(options.path ?? '');
  const root = check.object('', value);
  const own = new Set(options.ownKeys ?? []);
  check.keys('', root, TOP_LEVEL, own);
  if (!Array.isArray(root.deployments) || root.deployments.length === 0)
    check.fail('deployments', `expected a non-empty array, got ${describe(root.deployments)}`);
  const deployments = root.deployments.map((entry, index) =>
    checkDeployment(check, `deployments[${index}]`, entry),
  );
  const ids = new Set<string>();
  deployments.forEach((deployment, index) => {
    if (ids.has(deployment.id))
      check.fail(`deployments[${index}].id`, `'${deployment.id}' is the id of an earlier deployment`);
    ids.add(deployment.id);
  });
  const config: RouterConfig = { deployments };
  const field = (key: keyof RouterConfig) => root[key] !== undefined && !own.has(key);
  if (field('groups')) config.groups = checkGroups(check, root.groups, ids);
  for (const key of ['defaultModel', 'defaultEmbeddingModel'] as const) {
    if (!field(key)) continue;
    const name = check.string(key, root[key]);
    if (!ids.has(name) && !config.groups?.[name])
      check.fail(key, `'${name}' is neither a group nor a deployment id`);
    config[key] = name;
  }
  if (field('strategy')) {
    if (!(ROUTING_STRATEGIES as readonly unknown[]).includes(root.strategy))
      check.fail(
        'strategy',
        `expected one of ${ROUTING_STRATEGIES.join(', ')}, got ${describe(root.strategy)}`,
      );
    config.strategy = root.strategy as RouterConfig['strategy'];
  }
  if (field('fallbacks')) {
    if (!Array.isArray(root.fallbacks)) check.fail('fallbacks', `expected an array of error codes`);
    root.fallbacks.forEach((code, index) => {
      if (!(FALLBACK_CODES as readonly unknown[]).includes(code))
        check.fail(
          `fallbacks[${index}]`,
          `expected one of ${FALLBACK_CODES.join(', ')}, got ${describe(code)}`,
        );
    });
    config.fallbacks = root.fallbacks as LLMErrorCode[];
  }
  if (field('cooldown')) config.cooldown = checkCooldown(check, root.cooldown);
  if (field('hedge')) config.hedge = checkHedge(check, root.hedge);
  if (field('state')) config.state = checkState(check, root.state);
  if (field('ttftTimeoutMs'))
    config.ttftTimeoutMs = check.number('ttftTimeoutMs', root.ttftTimeoutMs, 'positive');
  if (field('maxWaitMs')) config.maxWaitMs = check.number('maxWaitMs', root.maxWaitMs, 'non-negative');
  if (field('defaults')) config.defaults = checkClientOptions(check, 'defaults', root.defaults);
  if (field('metrics')) {
    if (typeof root.metrics !== 'boolean')
      check.fail('metrics', `expected true or false, got ${describe(root.metrics)}`);
    config.metrics = root.metrics;
  }
  // Checked by the client's own rules for the options of the same names.
  if (field('logger')) config.logger = checkClientOption(check, 'logger', root.logger);
  if (field('tracing')) config.tracing = checkClientOption(check, 'tracing', root.tracing);
  if (field('factory')) {
    if (typeof (root.factory as { createClient?: unknown })?.createClient !== 'function')
      check.fail('factory', 'expected an LLMClientFactory');
    config.factory = root.factory as RouterConfig['factory'];
  }
  return config;
}
