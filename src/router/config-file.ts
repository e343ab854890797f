/**
 * Configuration files: YAML or JSON, with credentials written as `env:VARIABLE` references that are
 * resolved when the file is loaded (a missing variable is an error naming the field and the variable,
 * never a value). `readConfigFile` gives the resolved document, for a larger configuration (a gateway's)
 * to validate its own fields beside the router's.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { Env } from '../client/settings.ts';
import { LLMConfigurationError } from '../spec/errors.ts';
import { type ValidateRouterOptions, validateRouterConfig } from './config.ts';
import type { RouterConfig } from './types.ts';

export interface ReadConfigOptions {
  /** Where `env:VARIABLE` references are looked up. Default `process.env`. */
  env?: Env;
}

// Loaded when a file is read, not when the library is imported.
const require = createRequire(import.meta.url);
let yaml: typeof Yaml | undefined;

const ENV_REFERENCE = /^env:([A-Za-z_][A-Za-z0-9_]*)$/;

/** A copy of `value` with every `env:VARIABLE` string replaced by the variable's value. */
export function resolveEnvReferences(value: unknown, env: Env, path = ''): unknown {
  if (typeof value === 'string') {
    const match = ENV_REFERENCE.exec(value);
    if (!match) return value;
    const resolved = env[match[1]!];
    if (resolved === undefined || resolved === '') {
      throw new LLMConfigurationError(
        `Invalid router config: \`${path}\`: environment variable ${match[1]} is not set`,
      );
    }
    return resolved;
  }
  if (Array.isArray(value))
    return value.map((item, index) => resolveEnvReferences(item, env, `${path}[${index}]`));
  if (typeof value === 'object' && value !== null) {
    const copy: Record<string, unknown> = {};
    for (const [key, inner] of Object.entries(value))
      copy[key] = resolveEnvReferences(inner, env, path ? `${path}.${key}` : key);
    return copy;
  }
  return value;
}

/** Parses `text` as JSON (a `.json` file) or YAML (anything else; YAML also reads JSON). */
export function parseConfigText(text: string, source: string): unknown {
  if (source.endsWith('.json')) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new LLMConfigurationError(`${source} is not valid JSON: ${(error as Error).message}`);
    }
  }
  yaml ??= require('yaml') as typeof Yaml;
  try {
    return yaml.parse(text, { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    const first = (error as Error).message.split('\n')[0];
    throw new LLMConfigurationError(`${source} is not valid YAML: ${first}`);
  }
}

/** The document in `path` with its `env:` references resolved, not yet validated. */
export function readConfigFile(path: string, options: ReadConfigOptions = {}): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new LLMConfigurationError(`Cannot read the config file ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  const document = parseConfigText(text, path);
  if (typeof document !== 'object' || document === null || Array.isArray(document))
    throw new LLMConfigurationError(`${path}: expected a mapping of fields at the top level`);
  try {
    return resolveEnvReferences(document, options.env ?? process.env) as Record<string, unknown>;
  } catch (error) {
    if (error instanceof LLMConfigurationError) error.message = `${path}: ${error.message}`;
    throw error;
  }
}

/**
 * A router configuration from a YAML or JSON file, validated: `createRouter(loadRouterConfig('router.yaml'))`.
 * Runtime-only fields (a `logger`, a `factory`) are added by spreading: `{ ...loadRouterConfig(p), logger }`.
 */
export function loadRouterConfig(
  path: string,
  options: ReadConfigOptions & Pick<ValidateRouterOptions, 'ownKeys'> = {},
): RouterConfig {
  const document = readConfigFile(path, options);
  try {
    return validateRouterConfig(document, options.ownKeys ? { ownKeys: options.ownKeys } : {});
  } catch (error) {
    if (error instanceof LLMConfigurationError) error.message = `${path}: ${error.message}`;
    throw error;
  }
}
