/**
 * The Gemini wire protocol in the emulator, at the Generative Language API's paths:
 * `/v1beta/models/{model}:generateContent`, `:streamGenerateContent` (SSE with `alt=sse`, a JSON array
 * without), `:countTokens`, `:embedContent`, `:batchEmbedContents`, and `GET /v1beta/models[/{model}]`.
 * Auth by `x-goog-api-key` or `?key=`; errors are `google.rpc.Status` bodies; rate limits carry a
 * `RetryInfo` detail. The official `@google/genai` client works against it unchanged.
 */

import { isRecord, type Json } from '../spec/json.ts';
import { embedText } from './embeddings.ts';
import { corruptBody, type Exchange, headerOf, sendJson, wait } from './exchange.ts';
import { type GenerateMode, generateContent } from './gemini-generate.ts';
import {
  conversationOf,
  durationOf,
  GEMINI_MODELS,
  GEMINI_RESPONSE_HEADERS,
  geminiEmbeddingDimension,
  modelResourceOf,
  promptTokensOf,
  sendGoogleError,
} from './gemini-wire.ts';

/** `/v1beta/models`, `/v1beta/models/{model}`, `/v1beta/models/{model}:{method}` (v1 for methods only: OpenAI owns `/v1/models`). */
const ROUTE = /^\/(v1beta|v1alpha|v1)\/models(?:\/([^/:]+)(?::([A-Za-z]+))?)?$/;
const METHODS = new Set([
  'generateContent',
  'streamGenerateContent',
  'countTokens',
  'embedContent',
  'batchEmbedContents',
]);
const MAX_BATCH = 100;
/** The API's `TaskType` enum; another value is refused as the API refuses it. */
const TASK_TYPES = [
  'TASK_TYPE_UNSPECIFIED',
  'RETRIEVAL_QUERY',
  'RETRIEVAL_DOCUMENT',
  'SEMANTIC_SIMILARITY',
  'CLASSIFICATION',
  'CLUSTERING',
  'QUESTION_ANSWERING',
  'FACT_VERIFICATION',
  'CODE_RETRIEVAL_QUERY',
];

const ERROR_INFO = 'type.googleapis.com/google.rpc.ErrorInfo';
const SERVICE = 'generativelanguage.googleapis.com';

/** Answers the request if its path is one of the Generative Language API's; false otherwise. */
export async function handleGeminiProtocol(exchange: Exchange): Promise<boolean> {
  const { pathname } = exchange.url;
  const match = ROUTE.exec(pathname);
  if (!match) {
    // Everything under /v1beta/ is Gemini's; /v1/ is shared with other providers.
    if (!/^\/v1(?:beta|alpha)\//.test(pathname)) return false;
    if (authorized(exchange)) sendGoogleError(exchange, 'NOT_FOUND', `Method not found: ${pathname}`);
    return true;
  }
  const [, version, rawModel, method] = match;
  if (version === 'v1' && method === undefined) return false;
  if (!authorized(exchange)) return true;
  const model = rawModel === undefined ? undefined : decodeURIComponent(rawModel);
  const httpMethod = exchange.req.method ?? 'GET';

  if (httpMethod === 'GET' && method === undefined) {
    await wait(exchange.timing.latencyMs);
    if (model === undefined) {
      const served = exchange.models ?? GEMINI_MODELS.map((entry) => entry.name);
      sendJson(exchange, 200, { models: served.map(modelResourceOf) }, GEMINI_RESPONSE_HEADERS);
    } else if (exchange.models && !exchange.models.includes(model)) {
      sendGoogleError(exchange, 'NOT_FOUND', `models/${model} is not found for API version ${version}`);
    } else sendJson(exchange, 200, modelResourceOf(model), GEMINI_RESPONSE_HEADERS);
    return true;
  }
  if (httpMethod !== 'POST' || model === undefined || method === undefined || !METHODS.has(method)) {
    sendGoogleError(exchange, 'NOT_FOUND', `Method not found: ${httpMethod} ${pathname}`);
    return true;
  }
  const body = exchange.request.body;
  if (!isRecord(body)) {
    sendGoogleError(
      exchange,
      'INVALID_ARGUMENT',
      `Invalid JSON payload received. Unexpected token.\n${exchange.rawBody.slice(0, 40)}\n^`,
    );
    return true;
  }
  if (exchange.models && !exchange.models.includes(model)) {
    sendGoogleError(
      exchange,
      'NOT_FOUND',
      `models/${model} is not found for API version ${version}, or is not supported for ${method}. Call ListModels to see the list of available models and their supported methods.`,
    );
    return true;
  }
  const stream = method === 'streamGenerateContent';
  if (answerFault(exchange, model, stream)) return true;
  switch (method) {
    case 'generateContent':
    case 'streamGenerateContent': {
      const mode: GenerateMode = !stream
        ? 'unary'
        : exchange.url.searchParams.get('alt') === 'sse'
          ? 'sse'
          : 'array';
      await generateContent(exchange, body, model, mode);
      break;
    }
    case 'countTokens':
      await countTokens(exchange, body, model);
      break;
    default:
      await embed(exchange, body, model, method === 'embedContent');
  }
  return true;
}

/** Accepts the `x-goog-api-key` header or the `key` query parameter. */
function authorized(exchange: Exchange): boolean {
  const key = headerOf(exchange, 'x-goog-api-key') ?? exchange.url.searchParams.get('key') ?? undefined;
  if (key && (!exchange.apiKeys || exchange.apiKeys.includes(key))) return true;
  if (!key) {
    sendGoogleError(
      exchange,
      'PERMISSION_DENIED',
      "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
    );
    return false;
  }
  sendGoogleError(exchange, 'INVALID_ARGUMENT', 'API key not valid. Please pass a valid API key.', {
    details: [
      {
        '@type': ERROR_INFO,
        reason: 'API_KEY_INVALID',
        domain: 'googleapis.com',
        metadata: { service: SERVICE },
      },
      {
        '@type': 'type.googleapis.com/google.rpc.LocalizedMessage',
        locale: 'en-US',
        message: 'API key not valid. Please pass a valid API key.',
      },
    ],
  });
  return false;
}

/** Answers the faults that replace the whole response; true when it did. */
function answerFault(exchange: Exchange, model: string, stream: boolean): boolean {
  switch (exchange.fault) {
    case 'rate-limit': {
      const ms = exchange.retryAfterMs;
      sendGoogleError(
        exchange,
        'RESOURCE_EXHAUSTED',
        `You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.\n* Quota exceeded for metric: ${SERVICE}/generate_content_free_tier_requests, limit: 10, model: ${model}\nPlease retry in ${durationOf(ms)}.`,
        {
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
              violations: [
                {
                  quotaMetric: `${SERVICE}/generate_content_free_tier_requests`,
                  quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
                  quotaDimensions: { location: 'global', model },
                  quotaValue: '10',
                },
              ],
            },
            {
              '@type': 'type.googleapis.com/google.rpc.Help',
              links: [
                {
                  description: 'Learn more about Gemini API quotas',
                  url: 'https://ai.google.dev/gemini-api/docs/rate-limits',
                },
              ],
            },
            { '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: durationOf(ms) },
          ],
          headers: { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) },
        },
      );
      return true;
    }
    case 'stream-error':
      if (stream) return false;
      sendGoogleError(
        exchange,
        'INTERNAL',
        'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      );
      return true;
    case 'server-error':
      sendGoogleError(
        exchange,
        'INTERNAL',
        'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting',
      );
      return true;
    case 'unavailable':
      sendGoogleError(exchange, 'UNAVAILABLE', 'The service is currently unavailable.');
      return true;
    case 'overloaded':
      // Gemini says "overloaded" with UNAVAILABLE; the fault's status is 529 for every provider.
      sendGoogleError(exchange, 'UNAVAILABLE', 'The model is overloaded. Please try again later.', {
        httpStatus: 529,
      });
      return true;
    default:
      return false;
  }
}

async function countTokens(exchange: Exchange, body: Json, model: string): Promise<void> {
  const request = isRecord(body.generateContentRequest) ? body.generateContentRequest : body;
  const turns = conversationOf(request) ?? [];
  const totalTokens = promptTokensOf(turns, model);
  await wait(exchange.timing.latencyMs);
  const json = JSON.stringify({
    totalTokens,
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: totalTokens }],
  });
  if (corruptBody(exchange, json, GEMINI_RESPONSE_HEADERS)) return;
  sendJson(exchange, 200, json, GEMINI_RESPONSE_HEADERS);
}

function textOf(content: unknown): string | undefined {
  const parts = isRecord(content) ? content.parts : undefined;
  if (!Array.isArray(parts) || parts.length === 0) return undefined;
  return parts.map((part) => (isRecord(part) && typeof part.text === 'string' ? part.text : '')).join('');
}

/** `embedContent` (`{content}` → `{embedding}`) and `batchEmbedContents` (`{requests}` → `{embeddings}`). */
async function embed(exchange: Exchange, body: Json, model: string, single: boolean): Promise<void> {
  const requests: unknown[] = single ? [body] : Array.isArray(body.requests) ? body.requests : [];
  const where = single ? 'EmbedContentRequest' : 'BatchEmbedContentsRequest.requests';
  if (requests.length === 0) {
    sendGoogleError(exchange, 'INVALID_ARGUMENT', `* ${where}: requests is not specified\n`);
    return;
  }
  if (requests.length > MAX_BATCH) {
    sendGoogleError(
      exchange,
      'INVALID_ARGUMENT',
      `* ${where}: at most ${MAX_BATCH} requests can be in one batch\n`,
    );
    return;
  }
  const vectors: number[][] = [];
  for (let i = 0; i < requests.length; i++) {
    const request = requests[i];
    const text = isRecord(request) ? textOf(request.content) : undefined;
    if (!text) {
      const at = single ? 'EmbedContentRequest.content' : `${where}[${i}].content`;
      sendGoogleError(exchange, 'INVALID_ARGUMENT', `* ${at}: contents is not specified\n`);
      return;
    }
    const taskType = isRecord(request) ? request.taskType : undefined;
    if (taskType !== undefined && !TASK_TYPES.includes(String(taskType))) {
      const field = single ? 'task_type' : `requests[${i}].task_type`;
      sendGoogleError(
        exchange,
        'INVALID_ARGUMENT',
        `Invalid value at '${field}' (type.googleapis.com/google.ai.generativelanguage.v1beta.TaskType), ${JSON.stringify(taskType)}`,
      );
      return;
    }
    const wanted = isRecord(request) ? request.outputDimensionality : undefined;
    const native = geminiEmbeddingDimension(model);
    // Vectors can be shortened, never lengthened (a huge value made a vector of gigabytes here).
    if (typeof wanted === 'number' && (!Number.isInteger(wanted) || wanted < 1 || wanted > native)) {
      const field = single ? 'output_dimensionality' : `requests[${i}].output_dimensionality`;
      sendGoogleError(
        exchange,
        'INVALID_ARGUMENT',
        `* ${field}: must be from 1 to ${native}, got ${wanted}\n`,
      );
      return;
    }
    const dimensions = typeof wanted === 'number' ? wanted : native;
    // Each task type gets its own vectors, as the model's do; none (or unspecified) the plain ones.
    const purpose =
      taskType === undefined || taskType === 'TASK_TYPE_UNSPECIFIED' ? undefined : String(taskType);
    vectors.push(Array.from(embedText(text, dimensions, purpose)));
  }
  await wait(exchange.timing.latencyMs);
  const response = single
    ? { embedding: { values: vectors[0] } }
    : { embeddings: vectors.map((values) => ({ values })) };
  const json = JSON.stringify(response);
  if (corruptBody(exchange, json, GEMINI_RESPONSE_HEADERS)) return;
  sendJson(exchange, 200, json, GEMINI_RESPONSE_HEADERS);
}
