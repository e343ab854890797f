/**
 * The AWS Bedrock provider, in Bedrock's native protocol: Converse (`POST /model/{id}/converse`),
 * ConverseStream (`/converse-stream`, binary AWS eventstream) and InvokeModel for embeddings. Requests are
 * signed with SigV4 before every attempt (each with its own time), or carry a Bedrock API key as a bearer
 * token. Bedrock's tokenizers are not public: token counts are estimates.
 */
import { EventStreamDecoder } from '../../http/eventstream.ts';
import { estimateTokens } from '../../tokens/estimate.ts';
import { trimSlash, USER_AGENT } from '../config-helpers.ts';
import type { AwsCredentials, NormalizedRequest, PreparedCompletion, ProviderAdapter } from '../provider.ts';
import { bedrockCapabilities } from './capabilities.ts';
import { bedrockEmbeddings } from './embeddings.ts';
import { BEDROCK_REQUEST_ID_HEADERS, mapBedrockError } from './errors.ts';
import { converseBody, modelPath } from './request.ts';
import { parseBedrockConverse } from './response.ts';
import { createBedrockSigner, signBedrockRequest } from './sigv4.ts';
import { BedrockStreamParser } from './stream.ts';
import { countBedrockRequestTokens } from './token-count.ts';

/** A Bedrock API key (sent as `Authorization: Bearer …`), or AWS credentials (SigV4). */
export type BedrockAuth =
  | { kind: 'api-key'; apiKey: string }
  | { kind: 'sigv4'; credentials: AwsCredentials };

export interface BedrockAdapterSettings {
  region: string;
  /** The runtime endpoint, as the AWS SDK's `endpoint` means it (`https://bedrock-runtime.{region}.amazonaws.com`). */
  baseURL: string;
  auth: BedrockAuth;
  headers: Record<string, string>;
}

/** A Bedrock adapter for one region, endpoint and credential set. */
export function createBedrockAdapter(settings: BedrockAdapterSettings): ProviderAdapter {
  const base = trimSlash(settings.baseURL);
  const common: Record<string, string> = { 'content-type': 'application/json', 'user-agent': USER_AGENT };
  if (settings.auth.kind === 'api-key') common.authorization = `Bearer ${settings.auth.apiKey}`;
  Object.assign(common, settings.headers);
  const jsonHeaders = { ...common, accept: 'application/json' };
  const streamHeaders = { ...common, accept: 'application/vnd.amazon.eventstream' };
  const signer =
    settings.auth.kind === 'sigv4'
      ? createBedrockSigner({ credentials: settings.auth.credentials, region: settings.region })
      : undefined;

  const adapter: ProviderAdapter = {
    name: 'bedrock',
    origin: new URL(base).origin,
    requestIdHeaders: BEDROCK_REQUEST_ID_HEADERS,
    completionRequest(request: NormalizedRequest, stream: boolean): PreparedCompletion {
      const headers = stream ? streamHeaders : jsonHeaders;
      const { body, warnings } = converseBody(request);
      const prepared: PreparedCompletion = {
        url: `${base}${modelPath(request.model, stream ? 'converse-stream' : 'converse')}`,
        method: 'POST',
        headers: request.headers ? { ...headers, ...request.headers } : headers,
        body,
      };
      if (warnings.length > 0) prepared.warnings = warnings;
      return prepared;
    },
    capabilities: bedrockCapabilities,
    parseCompletion: parseBedrockConverse,
    createStreamDecoder: (options) => new EventStreamDecoder({ provider: 'bedrock', ...options }),
    createStreamParser: (context) => new BedrockStreamParser(context),
    embeddings: bedrockEmbeddings(base, jsonHeaders),
    mapError: mapBedrockError,
    countTokens: (text) => estimateTokens(text),
    tokenCountExact: false,
    countRequestTokensLocally: countBedrockRequestTokens,
  };
  if (signer) adapter.authorize = (request) => signBedrockRequest(signer, request);
  return adapter;
}
