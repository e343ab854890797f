/**
 * The OpenAI wire protocol in the emulator, at OpenAI's paths (`/v1/chat/completions`, `/v1/embeddings`,
 * `/v1/models`) and Azure's (`/openai/deployments/{deployment}/…?api-version=…`), with each service's
 * auth, headers, error bodies and SSE framing.
 */

import type { Json } from '../spec/json.ts';
import { countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { embeddingDimension, embedText, toBase64 } from './embeddings.ts';
import { corruptBody, type Exchange, headerOf, nextRequestId, sendJson, wait } from './exchange.ts';
import { chat, type Flavor, openaiError } from './openai-chat.ts';

const MODELS = [
  'gpt-4.1-mini',
  'gpt-4.1',
  'gpt-4o',
  'gpt-4o-mini',
  'gpt-5-mini',
  'o4-mini',
  'text-embedding-3-small',
  'text-embedding-3-large',
];

function commonHeaders(flavor: Flavor, requestId: string): Record<string, string> {
  const headers: Record<string, string> = { 'x-request-id': requestId, 'openai-processing-ms': '1' };
  if (flavor === 'azure') headers['apim-request-id'] = requestId;
  else {
    headers['openai-version'] = '2020-10-01';
    headers['x-ratelimit-limit-requests'] = '10000';
    headers['x-ratelimit-remaining-requests'] = '9999';
    headers['x-ratelimit-reset-requests'] = '6ms';
    headers['x-ratelimit-limit-tokens'] = '30000000';
    headers['x-ratelimit-remaining-tokens'] = '29999000';
    headers['x-ratelimit-reset-tokens'] = '2ms';
  }
  return headers;
}

/** Answers the request if its path is one of OpenAI's or Azure's; false otherwise. */
export async function handleOpenAIProtocol(exchange: Exchange): Promise<boolean> {
  const { pathname } = exchange.url;
  const method = exchange.req.method ?? 'GET';
  const azure = /^\/openai\/deployments\/([^/]+)\/(chat\/completions|embeddings)$/.exec(pathname);
  let flavor: Flavor;
  let operation: string;
  let deployment: string | undefined;
  if (azure) {
    flavor = 'azure';
    deployment = decodeURIComponent(azure[1]!);
    operation = azure[2]!;
  } else if (pathname.startsWith('/openai/v1/')) {
    flavor = 'azure';
    operation = pathname.slice('/openai/v1/'.length);
  } else if (pathname.startsWith('/v1/')) {
    flavor = 'openai';
    operation = pathname.slice('/v1/'.length);
  } else {
    return false;
  }
  // Other providers share the /v1 prefix (Anthropic's /v1/messages): decline what is not OpenAI's.
  if (!['chat/completions', 'embeddings', 'models'].includes(operation)) return false;
  const requestId = nextRequestId(flavor === 'azure' ? '' : 'req_');
  const headers = commonHeaders(flavor, requestId);

  if (!authorized(exchange, flavor, headers)) return true;
  if (azure && !exchange.url.searchParams.get('api-version')) {
    sendJson(exchange, 404, { error: { code: '404', message: 'Resource not found' } }, headers);
    return true;
  }

  if (method === 'GET' && operation === 'models') {
    const created = 1_700_000_000;
    sendJson(
      exchange,
      200,
      { object: 'list', data: MODELS.map((id) => ({ id, object: 'model', created, owned_by: 'system' })) },
      headers,
    );
    return true;
  }
  if (method !== 'POST' || (operation !== 'chat/completions' && operation !== 'embeddings')) {
    sendJson(
      exchange,
      404,
      openaiError(`Invalid URL (${method} ${pathname})`, 'invalid_request_error', null),
      headers,
    );
    return true;
  }
  let body: Json;
  try {
    body = JSON.parse(exchange.rawBody) as Json;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('not an object');
  } catch {
    sendJson(
      exchange,
      400,
      openaiError(
        'We could not parse the JSON body of your request. (HINT: This likely means you aren’t using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON.)',
        'invalid_request_error',
        null,
      ),
      headers,
    );
    return true;
  }
  const model = deployment ?? (typeof body.model === 'string' ? body.model : undefined);
  if (!model) {
    sendJson(
      exchange,
      400,
      openaiError('you must provide a model parameter', 'invalid_request_error', null),
      headers,
    );
    return true;
  }
  if (await answerFault(exchange, flavor, model, headers, body.stream === true)) return true;
  if (operation === 'embeddings') await embeddings(exchange, body, model, headers);
  else await chat(exchange, flavor, body, model, headers);
  return true;
}

function authorized(exchange: Exchange, flavor: Flavor, headers: Record<string, string>): boolean {
  const bearer = headerOf(exchange, 'authorization')?.replace(/^Bearer\s+/i, '');
  const key = flavor === 'azure' ? (headerOf(exchange, 'api-key') ?? bearer) : bearer;
  if (key && (!exchange.apiKeys || exchange.apiKeys.includes(key))) return true;
  if (flavor === 'azure') {
    sendJson(
      exchange,
      401,
      {
        error: {
          code: '401',
          message:
            'Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.',
        },
      },
      headers,
    );
  } else if (!key) {
    sendJson(
      exchange,
      401,
      openaiError(
        "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).",
        'invalid_request_error',
        null,
      ),
      headers,
    );
  } else {
    const masked = key.length > 8 ? `${key.slice(0, 3)}${'*'.repeat(key.length - 7)}${key.slice(-4)}` : '***';
    sendJson(
      exchange,
      401,
      openaiError(`Incorrect API key provided: ${masked}.`, 'invalid_request_error', 'invalid_api_key'),
      headers,
    );
  }
  return false;
}

/** Answers the faults that replace the whole response; true when it did. */
async function answerFault(
  exchange: Exchange,
  flavor: Flavor,
  model: string,
  headers: Record<string, string>,
  stream: boolean,
): Promise<boolean> {
  switch (exchange.fault) {
    case 'rate-limit': {
      const ms = exchange.retryAfterMs;
      sendJson(
        exchange,
        429,
        openaiError(
          `Rate limit reached for ${model} in organization org-emulator on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in ${ms}ms.`,
          'requests',
          'rate_limit_exceeded',
        ),
        {
          ...headers,
          'retry-after': String(Math.max(1, Math.ceil(ms / 1000))),
          'retry-after-ms': String(ms),
          'x-ratelimit-remaining-requests': '0',
        },
      );
      return true;
    }
    case 'server-error':
      sendJson(
        exchange,
        500,
        openaiError(
          `The server had an error processing your request. Sorry about that! (Please include the request ID ${headers['x-request-id']} in your email.)`,
          'server_error',
          null,
        ),
        headers,
      );
      return true;
    case 'stream-error':
      if (stream) return false;
      sendJson(
        exchange,
        500,
        openaiError('The server had an error while processing your request.', 'server_error', null),
        headers,
      );
      return true;
    case 'unavailable':
      sendJson(
        exchange,
        503,
        openaiError('The service is temporarily unavailable. Please try again later.', 'server_error', null),
        headers,
      );
      return true;
    case 'overloaded':
      sendJson(
        exchange,
        529,
        openaiError('The engine is currently overloaded, please try again later', 'overloaded_error', null),
        headers,
      );
      return true;
    case 'content-filter':
      if (flavor !== 'azure') return false;
      sendJson(
        exchange,
        400,
        {
          error: {
            message:
              "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please modify your prompt and retry.",
            type: null,
            param: 'prompt',
            code: 'content_filter',
            status: 400,
            innererror: {
              code: 'ResponsibleAIPolicyViolation',
              content_filter_result: { hate: { filtered: true, severity: 'high' } },
            },
          },
        },
        headers,
      );
      return true;
    default:
      return false;
  }
}

async function embeddings(exchange: Exchange, body: Json, model: string, headers: Record<string, string>) {
  const input = body.input;
  const texts: string[] =
    typeof input === 'string'
      ? [input]
      : Array.isArray(input)
        ? input.map((item) => (typeof item === 'string' ? item : JSON.stringify(item)))
        : [];
  if (texts.length === 0 || texts.some((text) => text.length === 0)) {
    sendJson(
      exchange,
      400,
      openaiError(
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        'invalid_request_error',
        null,
      ),
      headers,
    );
    return;
  }
  if (texts.length > 2048) {
    sendJson(
      exchange,
      400,
      openaiError(
        `'input' must have at most 2048 items, got ${texts.length}.`,
        'invalid_request_error',
        null,
        'input',
      ),
      headers,
    );
    return;
  }
  let tokens = 0;
  for (const text of texts) tokens += countOpenAITokens(text, model);
  if (tokens > 300_000) {
    sendJson(
      exchange,
      400,
      openaiError(
        `Requested ${tokens} tokens, max 300000 tokens per request`,
        'max_tokens_per_request',
        'max_tokens_per_request',
      ),
      headers,
    );
    return;
  }
  // A model's vectors can be shortened, never lengthened: a `dimensions` of 1e9 made a 4 GB vector here.
  const native = embeddingDimension(model);
  const dimensions = typeof body.dimensions === 'number' ? body.dimensions : native;
  if (!Number.isInteger(dimensions) || dimensions < 1 || dimensions > native) {
    sendJson(
      exchange,
      400,
      openaiError(
        `Invalid 'dimensions': expected an integer from 1 to ${native} for ${model}, but got ${dimensions} instead.`,
        'invalid_request_error',
        'invalid_value',
        'dimensions',
      ),
      headers,
    );
    return;
  }
  const base64 = body.encoding_format === 'base64';
  await wait(exchange.timing.latencyMs);
  const data = texts.map((text, index) => {
    const vector = embedText(text, dimensions);
    return { object: 'embedding', index, embedding: base64 ? toBase64(vector) : Array.from(vector) };
  });
  const json = JSON.stringify({
    object: 'list',
    data,
    model,
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
  if (corruptBody(exchange, json, headers)) return;
  sendJson(exchange, 200, json, headers);
}
