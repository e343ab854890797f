/** The native Ollama provider: `/api/chat` (NDJSON streams) and `/api/embed` on the Ollama host. */
import { NdjsonDecoder } from '../../http/ndjson.ts';
import { estimateTokens } from '../../tokens/estimate.ts';
import { USER_AGENT } from '../config-helpers.ts';
import type { NormalizedRequest, PreparedCompletion, ProviderAdapter } from '../provider.ts';
import { ollamaCapabilities } from './capabilities.ts';
import { ollamaEmbeddings } from './embeddings.ts';
import { mapOllamaError } from './errors.ts';
import { ollamaChatBody } from './request.ts';
import { parseOllamaChat } from './response.ts';
import { OllamaStreamParser } from './stream.ts';
import { countOllamaRequestTokens } from './token-count.ts';

/** What the adapter needs, as `resolveOllama` reads it from options and environment. */
export interface OllamaAdapterSettings {
  /** The host as `formatOllamaHost` returns it: `http://127.0.0.1:11434`, no trailing slash. */
  host: string;
  /** Sent as `Authorization: Bearer …` (Ollama's hosted service, authenticating proxies). */
  apiKey?: string | undefined;
  /** Credentials written in the host URL, sent as basic auth when there is no key. */
  basicAuth?: { username: string; password: string } | undefined;
  /** Added to every request (they win over ours). */
  headers: Record<string, string>;
}

/**
 * The adapter: `/api/chat` (NDJSON when streamed) with tools, images, `format` and `think`; `/api/embed`;
 * Ollama's errors; estimated counts.
 */
export function createOllamaAdapter(settings: OllamaAdapterSettings): ProviderAdapter {
  const host = settings.host;
  const common: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT };
  if (settings.apiKey) common.authorization = `Bearer ${settings.apiKey}`;
  else if (settings.basicAuth) {
    const { username, password } = settings.basicAuth;
    common.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
  }
  Object.assign(common, settings.headers);
  const jsonHeaders = { ...common, accept: 'application/json' };
  const streamHeaders = { ...common, accept: 'application/x-ndjson' };

  return {
    name: 'ollama',
    origin: new URL(host).origin,
    // Ollama sends no request id; proxies in front of it often add this one.
    requestIdHeaders: ['x-request-id'],
    completionRequest(request: NormalizedRequest, stream: boolean): PreparedCompletion {
      const headers = stream ? streamHeaders : jsonHeaders;
      const { body, warnings } = ollamaChatBody(request, stream);
      const prepared: PreparedCompletion = {
        url: `${host}/api/chat`,
        method: 'POST',
        headers: request.headers ? { ...headers, ...request.headers } : headers,
        body,
      };
      if (warnings.length > 0) prepared.warnings = warnings;
      return prepared;
    },
    capabilities: ollamaCapabilities,
    parseCompletion: parseOllamaChat,
    createStreamDecoder: (options) => new NdjsonDecoder(options),
    createStreamParser: (context) => new OllamaStreamParser(context),
    embeddings: ollamaEmbeddings(`${host}/api/embed`, jsonHeaders),
    mapError: mapOllamaError,
    // Every model brings its own tokenizer and Ollama has no counting endpoint: a labelled estimate.
    countTokens: (text) => estimateTokens(text),
    tokenCountExact: false,
    countRequestTokensLocally: countOllamaRequestTokens,
  };
}
