/** The Gemini provider: the Generative Language API (`generativelanguage.googleapis.com`), natively. */
import { estimateTokens } from '../../tokens/estimate.ts';
import { trimSlash, USER_AGENT } from '../config-helpers.ts';
import type { NormalizedRequest, PreparedCompletion, ProviderAdapter } from '../provider.ts';
import { geminiCapabilities } from './capabilities.ts';
import { geminiEmbeddings } from './embeddings.ts';
import { GEMINI_REQUEST_ID_HEADERS, mapGeminiError } from './errors.ts';
import { generateContentBody, modelResource } from './request.ts';
import { parseGeminiResponse } from './response.ts';
import { GeminiStreamParser } from './stream.ts';
import { GeminiStreamDecoder } from './stream-decoder.ts';
import { estimateGeminiRequestTokens, geminiTokenCountEndpoint } from './token-count.ts';

/** What `config.ts` resolved: the key, where to send, and extra headers. */
export interface GeminiAdapterSettings {
  apiKey: string;
  /** The host, as the official SDK's `httpOptions.baseUrl` means it; a URL already ending in a version is kept. */
  baseURL: string;
  /** `v1beta` unless told otherwise. */
  apiVersion: string;
  headers: Record<string, string>;
}

const VERSIONED = /\/v\d+(?:alpha|beta)?\d*$/;

/** `https://host` → `https://host/v1beta`; `https://proxy/gemini/v1beta` stays as it is. */
export function geminiApiRoot(baseURL: string, apiVersion: string): string {
  const base = trimSlash(baseURL);
  return VERSIONED.test(new URL(base).pathname) ? base : `${base}/${apiVersion}`;
}

/** The Gemini adapter: pure translations between our requests and the Generative Language API. */
export function createGeminiAdapter(settings: GeminiAdapterSettings): ProviderAdapter {
  const root = geminiApiRoot(settings.baseURL, settings.apiVersion);
  // The key goes in a header, never in `?key=`: URLs end up in logs.
  const common: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-goog-api-key': settings.apiKey,
    ...settings.headers,
  };
  const jsonHeaders = { ...common, accept: 'application/json' };
  const streamHeaders = { ...common, accept: 'text/event-stream' };
  const url = (model: string, method: string) => `${root}/${encodeURI(modelResource(model))}:${method}`;

  return {
    name: 'gemini',
    origin: new URL(root).origin,
    requestIdHeaders: GEMINI_REQUEST_ID_HEADERS,
    completionRequest(request: NormalizedRequest, stream: boolean): PreparedCompletion {
      const headers = stream ? streamHeaders : jsonHeaders;
      const { body, warnings } = generateContentBody(request);
      const prepared: PreparedCompletion = {
        url: stream
          ? `${url(request.model, 'streamGenerateContent')}?alt=sse`
          : url(request.model, 'generateContent'),
        method: 'POST',
        headers: request.headers ? { ...headers, ...request.headers } : headers,
        body,
      };
      if (warnings.length > 0) prepared.warnings = warnings;
      return prepared;
    },
    capabilities: geminiCapabilities,
    parseCompletion: parseGeminiResponse,
    createStreamDecoder: (options) => new GeminiStreamDecoder(options),
    createStreamParser: (context) => new GeminiStreamParser(context),
    embeddings: geminiEmbeddings(url, jsonHeaders),
    mapError: mapGeminiError,
    countTokens: (text) => estimateTokens(text),
    tokenCountExact: false,
    tokenCountEndpoint: geminiTokenCountEndpoint(url, jsonHeaders),
    countRequestTokensLocally: estimateGeminiRequestTokens,
  };
}
