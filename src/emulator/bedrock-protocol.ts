/**
 * The Bedrock runtime wire protocol in the emulator: Converse, ConverseStream and InvokeModel at
 * `/model/{modelId}/…`, behind Bedrock's front door. A SigV4 signature is recomputed and checked against
 * `awsCredentials` (403 InvalidSignatureException / UnrecognizedClientException otherwise); a Bedrock API key
 * (`Authorization: Bearer …`) is accepted, or only those in `apiKeys` when set. Answers carry
 * `x-amzn-requestid` and AWS's error shapes (`x-amzn-errortype`, `{"message": …}`).
 *
 * Faults: rate-limit → 429 ThrottlingException with `retry-after`; server-error → 500
 * InternalServerException; unavailable → 503 ServiceUnavailableException; overloaded → also 503
 * ServiceUnavailableException ("Bedrock is unable to process your request."), because Bedrock has no 529;
 * stall and malformed → half a body (stream: silence after two deltas / a first frame with a broken CRC);
 * stream-error → a modelStreamErrorException frame after two deltas (500 InternalServerException when not
 * streaming); content-filter → a reply with stopReason guardrail_intervened.
 */

import type { Json } from '../spec/json.ts';
import { converse } from './bedrock-converse.ts';
import { awsRequestId, CORAL_NAMESPACE, sendAwsError } from './bedrock-exchange.ts';
import { invoke } from './bedrock-invoke.ts';
import { checkSignature } from './bedrock-signature.ts';
import { type Exchange, headerOf, sendJson } from './exchange.ts';

const ROUTE = /^\/model\/([^/]+)\/([^/]+)$/;
const OPERATIONS = new Set(['converse', 'converse-stream', 'invoke']);

/** Answers the request if its path is one of Bedrock runtime's; false otherwise. */
export async function handleBedrockProtocol(exchange: Exchange): Promise<boolean> {
  const route = ROUTE.exec(exchange.url.pathname);
  if (!route) return false;
  const requestId = awsRequestId();
  if (!(await authorized(exchange, requestId))) return true;

  const operation = route[2]!;
  if ((exchange.req.method ?? 'GET') !== 'POST' || !OPERATIONS.has(operation)) {
    sendJson(
      exchange,
      404,
      { Output: { __type: 'com.amazon.coral.service#UnknownOperationException' }, Version: '1.0' },
      { 'x-amzn-requestid': requestId },
    );
    return true;
  }
  let modelId: string;
  try {
    modelId = decodeURIComponent(route[1]!);
  } catch {
    modelId = route[1]!;
  }
  let body: Json;
  try {
    const parsed = JSON.parse(exchange.rawBody) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
      throw new Error('not an object');
    body = parsed as Json;
  } catch {
    sendAwsError(
      exchange,
      400,
      'ValidationException',
      'Malformed input request, please reformat your input and try again.',
      requestId,
    );
    return true;
  }
  if (exchange.models && !exchange.models.includes(modelId)) {
    sendAwsError(
      exchange,
      404,
      'ResourceNotFoundException',
      'Could not resolve the foundation model from the provided model identifier.',
      requestId,
    );
    return true;
  }
  const stream = operation === 'converse-stream';
  if (answerFault(exchange, requestId, stream)) return true;
  if (operation === 'invoke') await invoke(exchange, body, modelId, requestId);
  else await converse(exchange, body, modelId, requestId, stream);
  return true;
}

/** Bedrock's front door: SigV4 checked against the emulator's credentials, or a Bedrock API key. */
async function authorized(exchange: Exchange, requestId: string): Promise<boolean> {
  const authorization = headerOf(exchange, 'authorization') ?? '';
  const deny = (name: string, message: string, extra: Parameters<typeof sendAwsError>[5] = {}) => {
    sendAwsError(exchange, 403, name, message, requestId, { namespace: CORAL_NAMESPACE, ...extra });
    return false;
  };
  if (/^Bearer\s/i.test(authorization)) {
    const key = authorization.replace(/^Bearer\s+/i, '').trim();
    if (key && (!exchange.apiKeys || exchange.apiKeys.includes(key))) return true;
    return deny('AccessDeniedException', 'Authentication failed: Please make sure your API Key is valid.', {
      messageKey: 'Message',
      typeSuffix: '#AccessDeniedException',
    });
  }
  if (authorization.startsWith('AWS4-HMAC-SHA256')) {
    const verdict = await checkSignature(exchange, authorization);
    return verdict.ok ? true : deny(verdict.name, verdict.message);
  }
  if (!authorization) return deny('MissingAuthenticationTokenException', 'Missing Authentication Token');
  return deny(
    'IncompleteSignatureException',
    `Authorization header requires 'Credential' parameter. Authorization header requires 'Signature' parameter. Authorization header requires 'SignedHeaders' parameter. Authorization=${authorization.split(' ')[0]}`,
  );
}

/** Answers the faults that replace the whole response; true when it did. */
function answerFault(exchange: Exchange, requestId: string, stream: boolean): boolean {
  switch (exchange.fault) {
    case 'rate-limit':
      sendAwsError(
        exchange,
        429,
        'ThrottlingException',
        'Too many requests, please wait before trying again.',
        requestId,
        {
          headers: { 'retry-after': String(Math.max(1, Math.ceil(exchange.retryAfterMs / 1000))) },
        },
      );
      return true;
    case 'server-error':
      sendAwsError(
        exchange,
        500,
        'InternalServerException',
        'The system encountered an unexpected error during processing. Try your request again.',
        requestId,
      );
      return true;
    case 'stream-error':
      if (stream) return false;
      sendAwsError(
        exchange,
        500,
        'InternalServerException',
        'The system encountered an unexpected error during processing. Try your request again.',
        requestId,
      );
      return true;
    case 'unavailable':
    case 'overloaded':
      // Bedrock has no 529: an overloaded service answers 503 ServiceUnavailableException.
      sendAwsError(
        exchange,
        503,
        'ServiceUnavailableException',
        'Bedrock is unable to process your request.',
        requestId,
      );
      return true;
    default:
      return false;
  }
}
