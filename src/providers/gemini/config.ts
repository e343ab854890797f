/** Gemini: options and environment → adapter. */
import { LLMConfigurationError } from '../../spec/errors.ts';
import { missing, pick, pickUrl } from '../config-helpers.ts';
import { DEFAULT_MODELS } from '../defaults.ts';
import type { ProviderFactory } from '../provider.ts';
import { createGeminiAdapter } from './index.ts';

/** The Generative Language API host (the official SDK's default `baseUrl`). */
export const GEMINI_DEFAULT_BASE_URL = 'https://generativelanguage.googleapis.com';
/** The API version used unless `apiVersion` says otherwise. */
export const GEMINI_DEFAULT_API_VERSION = 'v1beta';

/**
 * Key: `apiKey`, else GEMINI_API_KEY, else GOOGLE_API_KEY. Host: `baseURL`, else GOOGLE_GEMINI_BASE_URL
 * (the official SDK's variable), else the public endpoint. API version: `apiVersion`, else v1beta.
 */
export const resolveGemini: ProviderFactory = (input, env) => {
  const apiKey = pick(input.apiKey, env.GEMINI_API_KEY, env.GOOGLE_API_KEY);
  if (!apiKey) throw missing('API key', 'gemini', 'apiKey', 'GEMINI_API_KEY or GOOGLE_API_KEY');
  const baseURL =
    pickUrl('gemini', ['baseURL', input.baseURL], ['GOOGLE_GEMINI_BASE_URL', env.GOOGLE_GEMINI_BASE_URL]) ??
    GEMINI_DEFAULT_BASE_URL;
  const apiVersion = pick(input.apiVersion) ?? GEMINI_DEFAULT_API_VERSION;
  if (!/^v\d+(?:alpha|beta)?\d*$/.test(apiVersion)) {
    throw new LLMConfigurationError(
      `Invalid apiVersion for gemini: expected a version such as v1beta or v1, got ${JSON.stringify(apiVersion)}`,
      { provider: 'gemini' },
    );
  }
  return {
    adapter: createGeminiAdapter({ apiKey, baseURL, apiVersion, headers: input.headers }),
    model: pick(input.model, DEFAULT_MODELS.gemini.chat)!,
    embeddingModel: pick(input.embeddingModel, DEFAULT_MODELS.gemini.embedding),
    secrets: [apiKey],
  };
};
