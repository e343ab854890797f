/**
 * A bad endpoint, from the environment or an option, fails at creation with an `LLMConfigurationError`
 * naming where it came from, for every provider — never a `TypeError` from deeper down.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LLMConfigurationError } from '../spec/errors.ts';
import type { ProviderName } from '../spec/types.ts';
import { LLMClientFactory } from './factory.ts';
import type { ClientOptions } from './options.ts';
import { resolveProvider } from './settings.ts';

const KEY = 'test-key-not-real';
const BAD = ['not a url', 'ftp://example.com/v1', 'localhost:8080'];

/** Each provider's endpoint variables, with what else it needs in the environment to get that far. */
const VARIABLES: Array<[ProviderName, string, Record<string, string>]> = [
  ['openai', 'OPENAI_BASE_URL', { OPENAI_API_KEY: KEY }],
  ['azure', 'AZURE_OPENAI_ENDPOINT', { AZURE_OPENAI_API_KEY: KEY, AZURE_OPENAI_DEPLOYMENT: 'prod' }],
  ['openai-compatible', 'OPENAI_COMPATIBLE_BASE_URL', { OPENAI_COMPATIBLE_MODEL: 'llama-3.1-8b' }],
  ['anthropic', 'ANTHROPIC_BASE_URL', { ANTHROPIC_API_KEY: KEY }],
  ['gemini', 'GOOGLE_GEMINI_BASE_URL', { GEMINI_API_KEY: KEY }],
  ['bedrock', 'AWS_ENDPOINT_URL_BEDROCK_RUNTIME', { AWS_REGION: 'us-east-1', AWS_BEARER_TOKEN_BEDROCK: KEY }],
  ['bedrock', 'AWS_ENDPOINT_URL', { AWS_REGION: 'us-east-1', AWS_BEARER_TOKEN_BEDROCK: KEY }],
  ['ollama', 'OLLAMA_HOST', {}],
];

const names = (variable: string, provider: string) => (error: unknown) =>
  error instanceof LLMConfigurationError &&
  error.provider === provider &&
  new RegExp(`Invalid ${variable} for ${provider}`).test(error.message);

describe('a bad endpoint in the environment names its variable', () => {
  for (const [provider, variable, env] of VARIABLES) {
    test(`${provider}: ${variable}`, () => {
      for (const value of provider === 'ollama' ? ['ftp://nas', 'http://bad host'] : BAD) {
        const factory = new LLMClientFactory({ env: { ...env, [variable]: value } });
        assert.throws(
          () => factory.createClient(provider),
          names(variable, provider),
          `${variable}=${value}`,
        );
      }
    });
  }

  test('a good value still works, and an option still wins over the variable', () => {
    for (const [provider, variable, env] of VARIABLES) {
      const factory = new LLMClientFactory({ env: { ...env, [variable]: 'http://127.0.0.1:9' } });
      assert.equal(factory.createClient(provider).provider, provider);
      const option: ClientOptions =
        provider === 'azure' ? { endpoint: 'http://127.0.0.1:9' } : { baseURL: 'http://127.0.0.1:9' };
      const fromOption = new LLMClientFactory({ env: { ...env, [variable]: 'not a url' } });
      assert.equal(
        fromOption.createClient(provider, option).provider,
        provider,
        `${provider}: the option wins`,
      );
    }
  });

  test('credentials in a bad URL are not echoed', () => {
    const factory = new LLMClientFactory({
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: 'https://me:hunter2@bad host/v1' },
    });
    assert.throws(
      () => factory.createClient('openai'),
      (error: unknown) => error instanceof LLMConfigurationError && !/hunter2/.test(error.message),
    );
  });
});

describe('a bad endpoint option names the option', () => {
  const OPTIONS: Array<[ProviderName, keyof ClientOptions, ClientOptions]> = [
    ['openai', 'baseURL', { apiKey: KEY }],
    ['azure', 'endpoint', { apiKey: KEY, model: 'prod' }],
    ['azure', 'baseURL', { apiKey: KEY, model: 'prod' }],
    ['openai-compatible', 'baseURL', { model: 'llama-3.1-8b' }],
    ['anthropic', 'baseURL', { apiKey: KEY }],
    ['gemini', 'baseURL', { apiKey: KEY }],
    ['bedrock', 'baseURL', { apiKey: KEY, region: 'us-east-1' }],
    ['ollama', 'baseURL', {}],
  ];
  for (const [provider, option, options] of OPTIONS) {
    test(`${provider}: \`${option}\`, checked by the client options and by the provider`, () => {
      const factory = new LLMClientFactory({ env: {} });
      assert.throws(
        () => factory.createClient(provider, { ...options, [option]: 'ftp://example.com' }),
        (error: unknown) =>
          error instanceof LLMConfigurationError && new RegExp(`\`${option}\``).test(error.message),
      );
      // The provider's own check, for callers that reach it without the option validation.
      assert.throws(
        () => resolveProvider(provider, { ...options, [option]: 'ftp://example.com' }, {}),
        names(`\`${option}\``, provider),
      );
    });
  }
});
