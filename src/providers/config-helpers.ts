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

/** An option or environment variable a setting can come from, and its value there. */
export type Source = [name: string, value: string | undefined];

/** `OPENAI_BASE_URL` as it is; an option as `` `baseURL` ``. */
function label(name: string): string {
  return /^[A-Z][A-Z0-9_]*$/.test(name) ? name : `\`${name}\``;
}

/** A bad value as an error message shows it: clipped, without the credentials a URL may carry. */
function shown(value: string): string {
  const clipped = value.length > 60 ? `${value.slice(0, 60)}…` : value;
  return JSON.stringify(clipped.replace(/\/\/[^/@\s]*@/, '//…@'));
}

/**
 * The first set value among `sources` (options first, then environment variables), checked to be an
 * http(s) URL; undefined when none is set. A bad one is an `LLMConfigurationError` naming where it came
 * from (`Invalid OPENAI_BASE_URL for openai: …`), never a `TypeError` from deeper down.
 */
export function pickUrl(provider: string, ...sources: Source[]): string | undefined {
  const found = sources.find(([, value]) => value !== undefined && value !== '');
  if (!found) return undefined;
  const [name, value] = found as [string, string];
  const url = URL.canParse(value) ? new URL(value) : undefined;
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new LLMConfigurationError(
      `Invalid ${label(name)} for ${provider}: expected an http(s) URL such as https://host/path, got ${shown(value)}`,
      { provider },
    );
  }
  return value;
}

export function trimSlash(url: string): string {
  return url.endsWith('/') ? url.replace(/\/+$/, '') : url;
}

export const USER_AGENT = 'llm-factory/0.1';
