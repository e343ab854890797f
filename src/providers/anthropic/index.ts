/** The Anthropic provider: the native Messages API (`/v1/messages`), its SSE stream and its errors. */
import { SseDecoder } from '../../http/sse.ts';
import { trimSlash, USER_AGENT } from '../config-helpers.ts';
import type { NormalizedRequest, PreparedCompletion, ProviderAdapter } from '../provider.ts';
import { anthropicCapabilities } from './capabilities.ts';
import { ANTHROPIC_REQUEST_ID_HEADERS, mapAnthropicError } from './errors.ts';
import { ANTHROPIC_VERSION, messagesBody } from './request.ts';
import { parseAnthropicMessage } from './response.ts';
import { AnthropicStreamParser } from './stream.ts';
import {
  anthropicTokenCountEndpoint,
  estimateAnthropicRequest,
  estimateAnthropicTokens,
} from './token-count.ts';

/** Why `generateEmbeddings` fails for Anthropic, and where to go instead. */
export const ANTHROPIC_EMBEDDINGS_UNSUPPORTED =
  "Anthropic has no embeddings API (it recommends Voyage AI); use provider 'openai', 'gemini', 'bedrock' or 'ollama' for embeddings.";

export interface AnthropicAdapterSettings {
  apiKey: string;
  /** The API host, as the official SDK means it (`https://api.anthropic.com`); paths start with `/v1`. */
  baseURL: string;
  headers: Record<string, string>;
}

/** The caller's protocol headers a native call keeps: the API version and beta features, nothing else. */
function protocolHeaders(given: Record<string, string>): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of ['anthropic-version', 'anthropic-beta']) if (given[name]) kept[name] = given[name];
  return kept;
}

export function createAnthropicAdapter(settings: AnthropicAdapterSettings): ProviderAdapter {
  const base = trimSlash(settings.baseURL);
  const common: Record<string, string> = {
    'content-type': 'application/json',
    'user-agent': USER_AGENT,
    'x-api-key': settings.apiKey,
    'anthropic-version': ANTHROPIC_VERSION,
  };
  Object.assign(common, settings.headers);
  const jsonHeaders = { ...common, accept: 'application/json' };
  const streamHeaders = { ...common, accept: 'text/event-stream' };

  return {
    name: 'anthropic',
    origin: new URL(base).origin,
    requestIdHeaders: ANTHROPIC_REQUEST_ID_HEADERS,
    completionRequest(request: NormalizedRequest, stream: boolean): PreparedCompletion {
      const headers = stream ? streamHeaders : jsonHeaders;
      const { body, warnings } = messagesBody(request, stream);
      const prepared: PreparedCompletion = {
        url: `${base}/v1/messages`,
        method: 'POST',
        headers: request.headers ? { ...headers, ...request.headers } : headers,
        body,
      };
      if (warnings.length > 0) prepared.warnings = warnings;
      return prepared;
    },
    capabilities: anthropicCapabilities,
    nativeRequest(call) {
      const path =
        call.protocol === 'anthropic-messages'
          ? '/v1/messages'
          : call.protocol === 'anthropic-count-tokens'
            ? '/v1/messages/count_tokens'
            : undefined;
      if (!path) return undefined;
      const body: Record<string, unknown> = { ...call.body, model: call.model };
      if (call.stream) body.stream = true;
      const headers = call.stream ? streamHeaders : jsonHeaders;
      return {
        url: `${base}${path}`,
        method: 'POST',
        headers: call.headers ? { ...headers, ...protocolHeaders(call.headers) } : headers,
        body: JSON.stringify(body),
      };
    },
    parseCompletion: parseAnthropicMessage,
    createStreamDecoder: (options) => new SseDecoder(options),
    createStreamParser: (context) => new AnthropicStreamParser(context),
    embeddingsUnsupported: ANTHROPIC_EMBEDDINGS_UNSUPPORTED,
    mapError: mapAnthropicError,
    countTokens: estimateAnthropicTokens,
    tokenCountExact: false,
    tokenCountEndpoint: anthropicTokenCountEndpoint(base, jsonHeaders),
    countRequestTokensLocally: estimateAnthropicRequest,
  };
}
