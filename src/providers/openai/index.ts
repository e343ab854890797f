/** The OpenAI provider (and, with other settings, any OpenAI-compatible server). */
import { SseDecoder } from '../../http/sse.ts';
import type { PreparedRequest } from '../../http/transport.ts';
import { isRecord } from '../../spec/json.ts';
import type { ProviderName } from '../../spec/types.ts';
import { countOpenAITokens } from '../../tokens/openai-tokenizer.ts';
import { trimSlash, USER_AGENT } from '../config-helpers.ts';
import type {
  ModelCapabilities,
  NativeCall,
  NormalizedRequest,
  PreparedCompletion,
  ProviderAdapter,
} from '../provider.ts';
import { openAICapabilities } from './capabilities.ts';
import { openAIEmbeddings } from './embeddings.ts';
import { mapOpenAIError } from './errors.ts';
import { chatCompletionBody, type OpenAIBodyOptions } from './request.ts';
import { parseOpenAIChatCompletion } from './response.ts';
import { OpenAIStreamParser } from './stream.ts';
import { countOpenAIRequestTokens } from './token-count.ts';

export interface OpenAIAdapterSettings {
  name: Extract<ProviderName, 'openai' | 'openai-compatible'>;
  apiKey?: string | undefined;
  /** The `/v1` root, as the official SDK means it. */
  baseURL: string;
  headers: Record<string, string>;
  organization?: string | undefined;
  project?: string | undefined;
  maxTokensField: OpenAIBodyOptions['maxTokensField'];
  /** `base64` cuts the bytes on the wire; some compatible servers only speak `float`. */
  embeddingEncoding: 'base64' | 'float';
  /** What a model can do (default: OpenAI's own models). */
  capabilities?: (model: string) => ModelCapabilities;
  /** Send assistant reasoning back as `reasoning_content` (compatible servers). Default false. */
  replayReasoning?: boolean;
}

/**
 * A Chat Completions or Embeddings body passed through as it is but for its model. A stream always asks
 * for its usage (`stream_options.include_usage`): the caller (the gateway) needs it to account the call.
 */
export function nativeOpenAIRequest(
  call: NativeCall,
  base: string,
  headers: { json: Record<string, string>; stream: Record<string, string> },
  includeModel: boolean,
  url?: (operation: 'chat/completions' | 'embeddings') => string,
): PreparedRequest | undefined {
  const operation =
    call.protocol === 'openai-chat'
      ? 'chat/completions'
      : call.protocol === 'openai-embeddings'
        ? 'embeddings'
        : undefined;
  if (!operation) return undefined;
  const body: Record<string, unknown> = { ...call.body };
  if (includeModel) body.model = call.model;
  else delete body.model;
  if (call.stream) {
    body.stream = true;
    body.stream_options = {
      ...(isRecord(body.stream_options) ? body.stream_options : {}),
      include_usage: true,
    };
  }
  return {
    url: url ? url(operation) : `${base}/${operation}`,
    method: 'POST',
    headers: call.stream ? headers.stream : headers.json,
    body: JSON.stringify(body),
  };
}

export function createOpenAIAdapter(settings: OpenAIAdapterSettings): ProviderAdapter {
  const base = trimSlash(settings.baseURL);
  const common: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT };
  if (settings.apiKey) common.authorization = `Bearer ${settings.apiKey}`;
  if (settings.organization) common['openai-organization'] = settings.organization;
  if (settings.project) common['openai-project'] = settings.project;
  Object.assign(common, settings.headers);
  const jsonHeaders = { ...common, accept: 'application/json' };
  const streamHeaders = { ...common, accept: 'text/event-stream' };
  const bodyOptions: OpenAIBodyOptions = {
    provider: settings.name,
    maxTokensField: settings.maxTokensField,
    includeModel: true,
    replayReasoning: settings.replayReasoning ?? false,
  };

  return {
    name: settings.name,
    origin: new URL(base).origin,
    requestIdHeaders: ['x-request-id'],
    completionRequest(request: NormalizedRequest, stream: boolean): PreparedCompletion {
      const headers = stream ? streamHeaders : jsonHeaders;
      const { body, warnings } = chatCompletionBody(request, stream, bodyOptions);
      const prepared: PreparedCompletion = {
        url: `${base}/chat/completions`,
        method: 'POST',
        headers: request.headers ? { ...headers, ...request.headers } : headers,
        body,
      };
      if (warnings.length > 0) prepared.warnings = warnings;
      return prepared;
    },
    capabilities: settings.capabilities ?? openAICapabilities,
    nativeRequest: (call) =>
      nativeOpenAIRequest(call, base, { json: jsonHeaders, stream: streamHeaders }, true),
    parseCompletion: parseOpenAIChatCompletion,
    createStreamDecoder: (options) => new SseDecoder(options),
    createStreamParser: (context) => new OpenAIStreamParser(context),
    embeddings: openAIEmbeddings(() => `${base}/embeddings`, jsonHeaders, settings.embeddingEncoding, true),
    mapError: mapOpenAIError,
    countTokens: countOpenAITokens,
    tokenCountExact: true,
    countRequestTokensLocally: countOpenAIRequestTokens,
  };
}
