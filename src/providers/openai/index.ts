/** The OpenAI provider (and, with other settings, any OpenAI-compatible server). */
import { SseDecoder } from '../../http/sse.ts';
import type { PreparedRequest } from '../../http/transport.ts';
import type { ProviderName } from '../../spec/types.ts';
import { countOpenAIChatTokens, countOpenAITokens } from '../../tokens/openai-tokenizer.ts';
import { trimSlash, USER_AGENT } from '../config-helpers.ts';
import type { NormalizedRequest, ProviderAdapter } from '../provider.ts';
import { openAIEmbeddings } from './embeddings.ts';
import { mapOpenAIError } from './errors.ts';
import { chatCompletionBody, type OpenAIBodyOptions } from './request.ts';
import { parseOpenAIChatCompletion } from './response.ts';
import { OpenAIStreamParser } from './stream.ts';

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
  const bodyOptions: OpenAIBodyOptions = { maxTokensField: settings.maxTokensField, includeModel: true };

  return {
    name: settings.name,
    origin: new URL(base).origin,
    requestIdHeaders: ['x-request-id'],
    completionRequest(request: NormalizedRequest, stream: boolean): PreparedRequest {
      const headers = stream ? streamHeaders : jsonHeaders;
      return {
        url: `${base}/chat/completions`,
        method: 'POST',
        headers: request.headers ? { ...headers, ...request.headers } : headers,
        body: chatCompletionBody(request, stream, bodyOptions),
      };
    },
    parseCompletion: parseOpenAIChatCompletion,
    createStreamDecoder: (options) => new SseDecoder(options),
    createStreamParser: (context) => new OpenAIStreamParser(context),
    embeddings: openAIEmbeddings(() => `${base}/embeddings`, jsonHeaders, settings.embeddingEncoding, true),
    mapError: mapOpenAIError,
    countTokens: countOpenAITokens,
    tokenCountExact: true,
    countRequestTokensLocally: (request) => ({
      inputTokens: countOpenAIChatTokens(request.messages, request.model),
      exact: true,
      source: 'tokenizer',
    }),
  };
}
