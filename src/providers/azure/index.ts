/** The Azure OpenAI provider: OpenAI's wire format at deployment URLs, with Azure's auth and errors. */
import { SseDecoder } from '../../http/sse.ts';
import { countOpenAITokens } from '../../tokens/openai-tokenizer.ts';
import { USER_AGENT } from '../config-helpers.ts';
import { openAICapabilities } from '../openai/capabilities.ts';
import { openAIEmbeddings } from '../openai/embeddings.ts';
import { nativeOpenAIRequest } from '../openai/index.ts';
import { chatCompletionBody } from '../openai/request.ts';
import { parseOpenAIChatCompletion } from '../openai/response.ts';
import { OpenAIStreamParser } from '../openai/stream.ts';
import { countOpenAIRequestTokens } from '../openai/token-count.ts';
import type { NormalizedRequest, PreparedCompletion, ProviderAdapter } from '../provider.ts';
import { mapAzureError } from './errors.ts';
import { azureDeploymentUrl, azureMaxTokensField } from './request.ts';

export const DEFAULT_AZURE_API_VERSION = '2024-10-21';

export interface AzureAdapterSettings {
  endpoint: string;
  apiVersion: string;
  apiKey?: string | undefined;
  /** An Entra ID (Azure AD) access token, sent as a bearer token instead of `api-key`. */
  azureADToken?: string | undefined;
  headers: Record<string, string>;
}

export function createAzureAdapter(settings: AzureAdapterSettings): ProviderAdapter {
  const common: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT };
  if (settings.azureADToken) common.authorization = `Bearer ${settings.azureADToken}`;
  else if (settings.apiKey) common['api-key'] = settings.apiKey;
  Object.assign(common, settings.headers);
  const jsonHeaders = { ...common, accept: 'application/json' };
  const streamHeaders = { ...common, accept: 'text/event-stream' };

  return {
    name: 'azure',
    origin: new URL(settings.endpoint).origin,
    requestIdHeaders: ['apim-request-id', 'x-request-id'],
    completionRequest(request: NormalizedRequest, stream: boolean): PreparedCompletion {
      const headers = stream ? streamHeaders : jsonHeaders;
      const { body, warnings } = chatCompletionBody(request, stream, {
        provider: 'azure',
        maxTokensField: azureMaxTokensField(request.model),
        includeModel: false,
        replayReasoning: false,
      });
      const prepared: PreparedCompletion = {
        url: azureDeploymentUrl(settings, request.model, 'chat/completions'),
        method: 'POST',
        headers: request.headers ? { ...headers, ...request.headers } : headers,
        body,
      };
      if (warnings.length > 0) prepared.warnings = warnings;
      return prepared;
    },
    // The deployment name usually carries the model's; an unknown one is assumed current.
    capabilities: openAICapabilities,
    nativeRequest: (call) =>
      nativeOpenAIRequest(
        call,
        settings.endpoint,
        { json: jsonHeaders, stream: streamHeaders },
        false,
        (operation) => azureDeploymentUrl(settings, call.model, operation),
      ),
    parseCompletion: parseOpenAIChatCompletion,
    createStreamDecoder: (options) => new SseDecoder(options),
    createStreamParser: (context) => new OpenAIStreamParser(context),
    embeddings: openAIEmbeddings(
      (model) => azureDeploymentUrl(settings, model, 'embeddings'),
      jsonHeaders,
      'base64',
      false,
    ),
    mapError: mapAzureError,
    countTokens: countOpenAITokens,
    tokenCountExact: true,
    countRequestTokensLocally: countOpenAIRequestTokens,
  };
}
