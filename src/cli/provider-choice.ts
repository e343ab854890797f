/**
 * Which provider the CLI talks to: the one named, the one a model name implies, or the first whose
 * credentials are in the environment. Without its credentials, the embedded emulator answers in that
 * provider's own protocol (OpenAI's when none was named), and stderr names the variable to set.
 */
import { inferProvider, isProviderName, parseModelSpec } from '../client/model-inference.ts';
import type { ClientOptions } from '../client/options.ts';
import type { Env } from '../client/settings.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import { LLMConfigurationError } from '../spec/errors.ts';
import { PROVIDERS, type ProviderName } from '../spec/types.ts';

export interface ProviderChoice {
  provider: ProviderName;
  options: ClientOptions;
  /** Set when the embedded emulator answers; close it when done. */
  emulator?: Emulator;
}

/** The variable whose presence means "this provider is configured", in order of preference. */
const CONFIGURED_BY: ReadonlyArray<[ProviderName, string]> = [
  ['openai', 'OPENAI_API_KEY'],
  ['anthropic', 'ANTHROPIC_API_KEY'],
  ['gemini', 'GEMINI_API_KEY'],
  ['gemini', 'GOOGLE_API_KEY'],
  ['azure', 'AZURE_OPENAI_API_KEY'],
  ['bedrock', 'AWS_BEARER_TOKEN_BEDROCK'],
  ['bedrock', 'AWS_ACCESS_KEY_ID'],
  ['ollama', 'OLLAMA_HOST'],
  ['openai-compatible', 'OPENAI_COMPATIBLE_BASE_URL'],
];

export async function chooseProvider(
  flags: { provider?: string; model?: string; baseUrl?: string },
  env: Env,
  note: (line: string) => void,
): Promise<ProviderChoice> {
  const options: ClientOptions = {};
  if (flags.baseUrl) options.baseURL = flags.baseUrl;
  let provider: ProviderName | undefined;
  if (flags.provider) {
    if (!isProviderName(flags.provider)) {
      throw new LLMConfigurationError(`Unknown provider '${flags.provider}'; known: ${PROVIDERS.join(', ')}`);
    }
    provider = flags.provider;
  }
  if (flags.model) {
    const spec = parseModelSpec(flags.model);
    provider ??= spec.provider ?? inferProvider(spec.model ?? '');
    if (spec.model) options.model = spec.model;
  }
  provider ??= CONFIGURED_BY.find(([, variable]) => env[variable])?.[0];
  const configured =
    provider !== undefined &&
    (provider === 'ollama' ||
      provider === 'openai-compatible' ||
      options.baseURL !== undefined ||
      CONFIGURED_BY.some(([name, variable]) => name === provider && env[variable]));
  if (provider && configured) return { provider, options };

  const emulator = await startEmulator();
  const variables = provider
    ? CONFIGURED_BY.filter(([name]) => name === provider).map(([, variable]) => variable)
    : ['e.g. OPENAI_API_KEY'];
  note(
    `llmf: no ${provider ?? 'provider'} key in the environment (${variables.join(' or ')}); answering from the built-in emulator at ${emulator.url}`,
  );
  const answering = provider ?? 'openai';
  const pointed: ClientOptions = { ...options, ...emulator.clientOptions(answering) };
  // Azure's model is the deployment name; the emulator serves any.
  if (answering === 'azure') pointed.model ??= 'gpt-4o-mini';
  return { provider: answering, options: pointed, emulator };
}

/** `--cache memory|sqlite[:path]|redis[:url]` → the client's cache option. */
export function cacheFlag(value: string | undefined): ClientOptions['cache'] {
  if (value === undefined) return undefined;
  const colon = value.indexOf(':');
  const kind = colon === -1 ? value : value.slice(0, colon);
  const where = colon === -1 ? undefined : value.slice(colon + 1);
  if (kind === 'memory') return { store: 'memory' };
  if (kind === 'sqlite') return where ? { store: 'sqlite', path: where } : { store: 'sqlite' };
  if (kind === 'redis') return where ? { store: 'redis', url: where } : { store: 'redis' };
  throw new LLMConfigurationError(
    `--cache: expected memory, sqlite[:path] or redis[:url], got ${JSON.stringify(value)}`,
  );
}
