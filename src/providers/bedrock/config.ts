/**
 * Bedrock: options and environment → adapter. The region comes from `region`, `AWS_REGION` or
 * `AWS_DEFAULT_REGION`; the endpoint is the runtime endpoint as the AWS SDK's `endpoint` means it. Auth is a
 * Bedrock API key (bearer) or AWS credentials (SigV4); options win over the environment.
 */
import { LLMConfigurationError } from '../../spec/errors.ts';
import { missing, pick, pickUrl } from '../config-helpers.ts';
import { DEFAULT_MODELS } from '../defaults.ts';
import type { AwsCredentials, Env, ProviderFactory, ProviderInput } from '../provider.ts';
import { type BedrockAuth, createBedrockAdapter } from './index.ts';

/** Region names are host-name labels (`us-east-1`, `us-gov-west-1`); anything else cannot be right. */
const REGION = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

/** The default runtime endpoint of a region. */
export const bedrockRuntimeUrl = (region: string): string =>
  `https://bedrock-runtime.${region}.amazonaws.com`;

/**
 * Which credentials to use. Options before the environment: the `apiKey` option, then the `credentials`
 * option, then AWS_BEARER_TOKEN_BEDROCK, then AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (+ AWS_SESSION_TOKEN).
 */
function resolveAuth(input: ProviderInput, env: Env): BedrockAuth {
  if (input.apiKey) return { kind: 'api-key', apiKey: input.apiKey };
  if (input.credentials) return { kind: 'sigv4', credentials: input.credentials };
  const bearer = pick(env.AWS_BEARER_TOKEN_BEDROCK);
  if (bearer) return { kind: 'api-key', apiKey: bearer };
  const accessKeyId = pick(env.AWS_ACCESS_KEY_ID);
  const secretAccessKey = pick(env.AWS_SECRET_ACCESS_KEY);
  if (accessKeyId && secretAccessKey) {
    const credentials: AwsCredentials = { accessKeyId, secretAccessKey };
    const sessionToken = pick(env.AWS_SESSION_TOKEN);
    if (sessionToken) credentials.sessionToken = sessionToken;
    return { kind: 'sigv4', credentials };
  }
  throw new LLMConfigurationError(
    'No credentials for bedrock: pass `credentials` ({ accessKeyId, secretAccessKey, sessionToken? }) or `apiKey` ' +
      '(a Bedrock API key), or set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) or ' +
      'AWS_BEARER_TOKEN_BEDROCK',
    { provider: 'bedrock' },
  );
}

function secretsOf(auth: BedrockAuth): string[] {
  if (auth.kind === 'api-key') return [auth.apiKey];
  const { accessKeyId, secretAccessKey, sessionToken } = auth.credentials;
  // The access key id is not secret, but it names an account's key: scrubbed too.
  return [secretAccessKey, sessionToken, accessKeyId].filter((value): value is string => !!value);
}

/** Options and environment → a Bedrock adapter, or an error naming what is missing. */
export const resolveBedrock: ProviderFactory = (input, env) => {
  const region = pick(input.region, env.AWS_REGION, env.AWS_DEFAULT_REGION);
  if (!region) throw missing('region', 'bedrock', 'region', 'AWS_REGION (or AWS_DEFAULT_REGION)');
  if (!REGION.test(region)) {
    throw new LLMConfigurationError(
      `Invalid region for bedrock: expected an AWS region such as us-east-1, got ${JSON.stringify(region)}`,
      { provider: 'bedrock' },
    );
  }
  const baseURL = pickUrl(
    'bedrock',
    ['baseURL', input.baseURL],
    ['AWS_ENDPOINT_URL_BEDROCK_RUNTIME', env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME],
    ['AWS_ENDPOINT_URL', env.AWS_ENDPOINT_URL],
  );
  const auth = resolveAuth(input, env);
  return {
    adapter: createBedrockAdapter({
      region,
      baseURL: baseURL ?? bedrockRuntimeUrl(region),
      auth,
      headers: input.headers,
    }),
    model: pick(input.model, DEFAULT_MODELS.bedrock.chat)!,
    embeddingModel: pick(input.embeddingModel, DEFAULT_MODELS.bedrock.embedding),
    secrets: secretsOf(auth),
  };
};
