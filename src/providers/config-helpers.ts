/** Small helpers every provider's `config.ts` uses to read options and environment the same way. */
import { LLMConfigurationError } from '../spec/errors.ts';

/** The first value that is set and not empty. */
export const pick = (...values: Array<string | undefined>): string | undefined =>
  values.find((value) => value !== undefined && value !== '');

/** "No API key for openai: pass `apiKey` or set OPENAI_API_KEY". */
export function missing(
  what: string,
  provider: string,
  option: string,
  variable: string,
): LLMConfigurationError {
  return new LLMConfigurationError(`No ${what} for ${provider}: pass \`${option}\` or set ${variable}`, {
    provider,
  });
}

export function checkedUrl(value: string, provider: string, option: string): string {
  if (!URL.canParse(value)) {
    throw new LLMConfigurationError(
      `Invalid ${option} for ${provider}: expected a URL, got ${JSON.stringify(value)}`,
      {
        provider,
      },
    );
  }
  return value;
}

export function trimSlash(url: string): string {
  return url.endsWith('/') ? url.replace(/\/+$/, '') : url;
}

export const USER_AGENT = 'llm-factory/0.1';
