/**
 * Which provider the CLI talks to: the one named, the one a model name implies, the first whose key is in
 * the environment, or (with none) the embedded emulator, said on stderr.
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

const KEY_VARIABLES: ReadonlyArray<[ProviderName, string]> = [
  ['openai', 'OPENAI_API_KEY'],
  ['azure', 'AZURE_OPENAI_API_KEY'],
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
  if (!provider) {
    provider = KEY_VARIABLES.find(([, variable]) => env[variable])?.[0];
  }
  const hasKey =
    provider !== undefined && KEY_VARIABLES.some(([name, variable]) => name === provider && env[variable]);
  if (provider && (hasKey || options.baseURL || provider === 'openai-compatible'))
    return { provider, options };

  const emulator = await startEmulator();
  note(
    `llmf: no ${provider ? `${provider} ` : 'provider '}key in the environment (e.g. OPENAI_API_KEY); answering from the built-in emulator at ${emulator.url}`,
  );
  return {
    provider: 'openai',
    options: { ...options, apiKey: 'emulator', baseURL: `${emulator.url}/v1` },
    emulator,
  };
}
