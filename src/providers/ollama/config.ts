/**
 * Ollama: options and environment → adapter. No key is needed for a local server; an optional key is sent
 * as a bearer token, for proxies and Ollama's hosted service.
 */
import { LLMConfigurationError } from '../../spec/errors.ts';
import { pick } from '../config-helpers.ts';
import { DEFAULT_MODELS } from '../defaults.ts';
import type { ProviderFactory } from '../provider.ts';
import { createOllamaAdapter } from './index.ts';

/** Where a local Ollama listens by default. */
export const DEFAULT_OLLAMA_HOST = 'http://127.0.0.1:11434';
const DEFAULT_PORT = '11434';

/** A host normalised the way the official client does it, plus credentials found in it. */
export interface OllamaHost {
  /** `scheme://host:port[/path]`, no trailing slash, no credentials. */
  url: string;
  /** `user:password` given in the URL, sent as HTTP basic auth. */
  basicAuth?: { username: string; password: string };
}

/**
 * Normalises an Ollama host as the official `ollama` client's `formatHost` does: `http://` when no
 * scheme is given, port 11434 when neither scheme nor port is (an explicit scheme keeps its own default
 * port, 80 or 443), `:1234` meaning 127.0.0.1:1234, and no trailing slash. Beyond that client, the
 * wildcard addresses a server listens on (`0.0.0.0`, `[::]`, common in OLLAMA_HOST) are turned into
 * loopback, where a client can actually connect. Returns undefined for what is not an http(s) host.
 */
export function formatOllamaHost(host: string): OllamaHost | undefined {
  let value = host.trim();
  if (!value) return { url: DEFAULT_OLLAMA_HOST };
  let explicitScheme = value.includes('://');
  if (value.startsWith(':')) {
    value = `http://127.0.0.1${value}`;
    explicitScheme = true;
  }
  if (!explicitScheme) value = `http://${value}`;
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  const port = url.port || (explicitScheme ? (url.protocol === 'https:' ? '443' : '80') : DEFAULT_PORT);
  let hostname = url.hostname;
  if (hostname === '0.0.0.0') hostname = '127.0.0.1';
  else if (hostname === '[::]') hostname = '[::1]';
  const path = url.pathname.replace(/\/+$/, '');
  const result: OllamaHost = { url: `${url.protocol}//${hostname}:${port}${path}` };
  if (url.username) {
    result.basicAuth = {
      username: decodeURIComponent(url.username),
      password: decodeURIComponent(url.password),
    };
  }
  return result;
}

/**
 * The host from `baseURL`, else OLLAMA_HOST, else the local default, normalised by `formatOllamaHost`; the
 * key from `apiKey`, else OLLAMA_API_KEY (optional); models from DEFAULT_MODELS.ollama.
 */
export const resolveOllama: ProviderFactory = (input, env) => {
  const option = input.baseURL ? '`baseURL`' : 'OLLAMA_HOST';
  const given = pick(input.baseURL, env.OLLAMA_HOST) ?? DEFAULT_OLLAMA_HOST;
  const host = formatOllamaHost(given);
  if (!host) {
    throw new LLMConfigurationError(
      `Invalid ${option} for ollama: expected a host such as 127.0.0.1:11434 or http://localhost:11434, got ${JSON.stringify(given)}`,
      { provider: 'ollama' },
    );
  }
  const apiKey = pick(input.apiKey, env.OLLAMA_API_KEY);
  const secrets: string[] = [];
  if (apiKey) secrets.push(apiKey);
  if (host.basicAuth?.password) secrets.push(host.basicAuth.password);
  return {
    adapter: createOllamaAdapter({
      host: host.url,
      apiKey,
      basicAuth: host.basicAuth,
      headers: input.headers,
    }),
    model: pick(input.model, DEFAULT_MODELS.ollama.chat)!,
    embeddingModel: pick(input.embeddingModel, DEFAULT_MODELS.ollama.embedding),
    secrets,
  };
};
