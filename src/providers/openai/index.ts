/** The OpenAI provider (and, with other settings, any OpenAI-compatible server). */
import type { PreparedRequest } from '../../http/transport.ts';
import type { EmbeddingOptions, ProviderName } from '../../spec/types.ts';
import { countOpenAITokens } from '../../tokens/openai-tokenizer.ts';
import type { NormalizedRequest, ProviderAdapter } from '../provider.ts';
import { mapOpenAIError } from './errors.ts';
import { chatCompletionBody, embeddingsBody, type OpenAIBodyOptions } from './request.ts';
import { parseOpenAIChatCompletion, parseOpenAIEmbeddings } from './response.ts';
import { OpenAIStreamParser } from './stream.ts';

export const USER_AGENT = 'llm-factory/0.1';

export interface OpenAIAdapterSettings {
  name: Extract<ProviderName, 'openai' | 'openai-compatible'>;
  apiKey?: string | undefined;
  /** The `/v1` root, as the official SDK means it. */
  baseURL: string;
  headers: Record<string, string>;
  organization?: string | undefined;
  project?: string | undefined;
  maxTokensField: OpenAIBodyOptions['maxTokensField'];
  /** `base64` halves the bytes on the wire; some compatible servers only speak `float`. */
  embeddingEncoding: 'base64' | 'float';
}

export function trimSlash(url: string): string {
  return url.endsWith('/') ? url.replace(/\/+$/, '') : url;
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

  const headersFor = (stream: boolean, extra?: Record<string, string>) => {
    const headers = stream ? streamHeaders : jsonHeaders;
    return extra ? { ...headers, ...extra } : headers;
  };

  return {
    name: settings.name,
    origin: new URL(base).origin,
    embeddingLimits: { maxInputs: 2048, maxTokensPerRequest: 300_000 },
    requestIdHeaders: ['x-request-id'],
    completionRequest(request: NormalizedRequest, stream: boolean): PreparedRequest {
      return {
        url: `${base}/chat/completions`,
        method: 'POST',
        headers: headersFor(stream, request.headers),
        body: chatCompletionBody(request, stream, bodyOptions),
      };
    },
    parseCompletion: parseOpenAIChatCompletion,
    createStreamParser: (context) => new OpenAIStreamParser(context),
    embeddingRequest(texts: readonly string[], model: string, options: EmbeddingOptions): PreparedRequest {
      return {
        url: `${base}/embeddings`,
        method: 'POST',
        headers: jsonHeaders,
        body: embeddingsBody(texts, model, options, settings.embeddingEncoding),
      };
    },
    parseEmbeddings: parseOpenAIEmbeddings,
    mapError: mapOpenAIError,
    countTokens: countOpenAITokens,
  };
}
