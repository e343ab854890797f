/**
 * The Anthropic wire protocol in the emulator: `POST /v1/messages` (JSON and SSE) and
 * `POST /v1/messages/count_tokens`, with Anthropic's auth (`x-api-key`, `anthropic-version`), headers
 * (`request-id`, `anthropic-ratelimit-*`, `x-should-retry` on errors), error bodies
 * (`{type:'error', error:{type, message}, request_id}`) and every fault kind in Anthropic's own shapes.
 * Whole conversations (tools, tool results, thinking, structured output, images and documents) are read
 * and checked by `anthropic-conversation.ts` and answered by `anthropic-messages.ts`.
 */

import type { Json } from '../spec/json.ts';
import { AnthropicRequestError, readAnthropicTurn } from './anthropic-conversation.ts';
import { anthropicPromptTokens, emulatedConversation, sendAnthropicMessage } from './anthropic-messages.ts';
import { planReply, type Turn } from './conversation.ts';
import { corruptBody, type Exchange, headerOf, nextRequestId, sendJson, wait } from './exchange.ts';

const PATHS = new Set(['/v1/messages', '/v1/messages/count_tokens']);
/** The API version from which `messages` may hold `system` turns (official SDK 1.x sends it). */
const SYSTEM_TURNS_VERSION = '2026-10-21';
const REQUESTS_LIMIT = 4000;
const TOKENS_LIMIT = 2_000_000;

/** RFC 3339 at second precision, as Anthropic's `anthropic-ratelimit-*-reset` headers give it. */
function rfc3339(epochMs: number): string {
  return new Date(Math.ceil(epochMs / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function rateLimitHeaders(requestsRemaining: number, tokensRemaining: number, resetAt: number) {
  const reset = rfc3339(resetAt);
  const headers: Record<string, string> = {
    'anthropic-ratelimit-requests-limit': String(REQUESTS_LIMIT),
    'anthropic-ratelimit-requests-remaining': String(requestsRemaining),
    'anthropic-ratelimit-requests-reset': reset,
  };
  for (const kind of ['tokens', 'input-tokens', 'output-tokens']) {
    headers[`anthropic-ratelimit-${kind}-limit`] = String(TOKENS_LIMIT);
    headers[`anthropic-ratelimit-${kind}-remaining`] = String(tokensRemaining);
    headers[`anthropic-ratelimit-${kind}-reset`] = reset;
  }
  return headers;
}

/** Sends `{type:'error', error:{type, message}, request_id}` with Anthropic's `x-should-retry` hint. */
function sendError(
  exchange: Exchange,
  status: number,
  type: string,
  message: string,
  headers: Record<string, string>,
  extra: Record<string, string> = {},
): void {
  const retry = status === 408 || status === 409 || status === 429 || status >= 500;
  sendJson(
    exchange,
    status,
    { type: 'error', error: { type, message }, request_id: headers['request-id'] },
    { ...headers, 'x-should-retry': String(retry), ...extra },
  );
}

/** Answers the request if its path is one of Anthropic's; false otherwise. */
export async function handleAnthropicProtocol(exchange: Exchange): Promise<boolean> {
  const { pathname } = exchange.url;
  if (!PATHS.has(pathname)) return false;
  const counting = pathname === '/v1/messages/count_tokens';
  const headers: Record<string, string> = {
    'request-id': nextRequestId('req_'),
    ...rateLimitHeaders(REQUESTS_LIMIT - 1, TOKENS_LIMIT, Date.now() + 1000),
  };
  if (exchange.req.method !== 'POST') {
    sendError(exchange, 405, 'invalid_request_error', `Method ${exchange.req.method} not allowed`, headers);
    return true;
  }
  // `x-api-key`, or (API version 2026-10-21, official SDK 1.x) the key as a bearer token.
  const key =
    headerOf(exchange, 'x-api-key') ?? headerOf(exchange, 'authorization')?.replace(/^Bearer\s+/i, '');
  if (!key) {
    sendError(exchange, 401, 'authentication_error', 'x-api-key header is required', headers);
    return true;
  }
  if (exchange.apiKeys && !exchange.apiKeys.includes(key)) {
    sendError(exchange, 401, 'authentication_error', 'invalid x-api-key', headers);
    return true;
  }
  const version = headerOf(exchange, 'anthropic-version');
  if (!version) {
    sendError(exchange, 400, 'invalid_request_error', 'anthropic-version: header is required', headers);
    return true;
  }
  const body = parseBody(exchange.rawBody);
  if (!body) {
    sendError(
      exchange,
      400,
      'invalid_request_error',
      'There was an issue with your request body: it is not valid JSON',
      headers,
    );
    return true;
  }
  if (typeof body.model !== 'string' || body.model === '') {
    sendError(exchange, 400, 'invalid_request_error', 'model: Field required', headers);
    return true;
  }
  const model = body.model;
  if (answerFault(exchange, model, headers, !counting && body.stream === true)) return true;
  if (exchange.models && !exchange.models.includes(model)) {
    sendError(exchange, 404, 'not_found_error', `model: ${model}`, headers);
    return true;
  }
  const invalid = validate(body, counting, version >= SYSTEM_TURNS_VERSION);
  if (invalid) {
    sendError(exchange, 400, 'invalid_request_error', invalid, headers);
    return true;
  }
  const conversation = emulatedConversation(model, body);
  const inputTokens = anthropicPromptTokens(conversation);
  if (counting) {
    await wait(exchange.timing.latencyMs);
    const json = JSON.stringify({ input_tokens: inputTokens });
    if (!corruptBody(exchange, json, headers)) sendJson(exchange, 200, json, headers);
    return true;
  }
  if (exchange.contextWindow !== undefined && inputTokens > exchange.contextWindow) {
    sendError(
      exchange,
      400,
      'invalid_request_error',
      `prompt is too long: ${inputTokens} tokens > ${exchange.contextWindow} maximum`,
      headers,
    );
    return true;
  }
  let turn: Turn;
  try {
    turn = readAnthropicTurn(body, model);
  } catch (error) {
    if (!(error instanceof AnthropicRequestError)) throw error;
    sendError(exchange, 400, 'invalid_request_error', error.message, headers);
    return true;
  }
  headers['anthropic-ratelimit-tokens-remaining'] = String(TOKENS_LIMIT - inputTokens);
  headers['anthropic-ratelimit-input-tokens-remaining'] = String(TOKENS_LIMIT - inputTokens);
  const plan = planReply(turn, headerOf(exchange, 'x-emulator-reply'));
  await sendAnthropicMessage(exchange, plan, turn, body, headers, inputTokens);
  return true;
}

function parseBody(rawBody: string): Json | undefined {
  try {
    const body = JSON.parse(rawBody) as unknown;
    return typeof body === 'object' && body !== null && !Array.isArray(body) ? (body as Json) : undefined;
  } catch {
    return undefined;
  }
}

/** The API's own messages for the fields it checks first; undefined when the body is acceptable. */
function validate(body: Json, counting: boolean, systemTurns: boolean): string | undefined {
  if (body.messages === undefined) return 'messages: Field required';
  if (!Array.isArray(body.messages)) return 'messages: Input should be a valid list';
  if (body.messages.length === 0) return 'messages: at least one message is required';
  for (const [index, message] of body.messages.entries()) {
    const role = typeof message === 'object' && message !== null ? (message as Json).role : undefined;
    if (role === 'system' && systemTurns) continue;
    if (role === 'system') {
      return 'messages: Unexpected role "system". The Messages API accepts a top-level `system` parameter, not "system" as an input message role.';
    }
    if (role !== 'user' && role !== 'assistant') {
      return `messages.${index}.role: Input should be 'user' or 'assistant'`;
    }
  }
  if (counting) return undefined;
  if (body.max_tokens === undefined) return 'max_tokens: Field required';
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) < 1) {
    return 'max_tokens: Input should be greater than or equal to 1';
  }
  if (body.stop_sequences !== undefined && !Array.isArray(body.stop_sequences)) {
    return 'stop_sequences: Input should be a valid list';
  }
  return undefined;
}

/** Answers the faults that replace the whole response; true when it did. */
function answerFault(
  exchange: Exchange,
  model: string,
  headers: Record<string, string>,
  stream: boolean,
): boolean {
  switch (exchange.fault) {
    case 'rate-limit': {
      const ms = exchange.retryAfterMs;
      const limited = { ...headers, ...rateLimitHeaders(0, TOKENS_LIMIT, Date.now() + ms) };
      sendError(
        exchange,
        429,
        'rate_limit_error',
        `This request would exceed the rate limit for your organization (emulator) of ${REQUESTS_LIMIT} requests per minute (model: ${model}). For details, refer to: https://docs.claude.com/en/api/rate-limits. You can see the response headers for current usage. Please reduce the prompt length or the maximum tokens requested, or try again later.`,
        limited,
        { 'retry-after': String(Math.max(1, Math.ceil(ms / 1000))) },
      );
      return true;
    }
    case 'server-error':
      sendError(exchange, 500, 'api_error', 'Internal server error', headers);
      return true;
    case 'stream-error':
      if (stream) return false;
      sendError(exchange, 500, 'api_error', 'Internal server error', headers);
      return true;
    case 'unavailable':
      sendError(exchange, 503, 'api_error', 'Service unavailable', headers);
      return true;
    case 'overloaded':
      sendError(exchange, 529, 'overloaded_error', 'Overloaded', headers);
      return true;
    default:
      // stall, malformed and stream-error (streams) corrupt a 200; content-filter is a refusal.
      return false;
  }
}
