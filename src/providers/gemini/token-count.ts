/**
 * Gemini token counts. Gemini's tokenizer is not public, so `countTokens(text)` is the documented estimate;
 * an exact count of a whole request (tools, images and files included) comes from the
 * `models/{model}:countTokens` endpoint. The local count is an estimate, and a rougher one with media.
 *
 * @see https://ai.google.dev/gemini-api/docs/tokens#multimodal-tokens
 */
import type { PreparedRequest } from '../../http/transport.ts';
import { isRecord } from '../../spec/json.ts';
import { estimateMessagesTokens, estimateTokens } from '../../tokens/estimate.ts';
import { invalidResponse } from '../error-helpers.ts';
import type { CallContext, NormalizedRequest, RequestTokenCount, TokenCountEndpoint } from '../provider.ts';
import { countTokensBody } from './request.ts';

/** `{totalTokens}` → the count; anything else is an invalid response. */
export function parseGeminiTokenCount(body: unknown, context: CallContext): number {
  const total = isRecord(body) ? body.totalTokens : undefined;
  // The API leaves out zero-valued fields, so an empty object means 0 tokens.
  if (total === undefined && isRecord(body) && Object.keys(body).length === 0) return 0;
  if (typeof total !== 'number') {
    throw invalidResponse(context, 'returned a countTokens response without totalTokens', { body });
  }
  return total;
}

/** The `countTokens` endpoint: an exact count of a whole request, system turn and tools included. */
export function geminiTokenCountEndpoint(
  url: (model: string, method: string) => string,
  headers: Record<string, string>,
): TokenCountEndpoint {
  return {
    request(request: NormalizedRequest): PreparedRequest {
      return {
        url: url(request.model, 'countTokens'),
        method: 'POST',
        headers: request.headers ? { ...headers, ...request.headers } : headers,
        body: countTokensBody(request),
      };
    },
    parse: parseGeminiTokenCount,
  };
}

/** What Gemini bills an image up to 384 px a side (larger ones are tiled at this many a 768 px tile). */
const IMAGE_TOKENS = 258;
/** A rough figure for a file of unknown length (a PDF page is 258; audio is 32 a second, video 263). */
const FILE_TOKENS = 1000;

/** A labelled estimate of a request's input tokens, for when the endpoint is not wanted. */
export function estimateGeminiRequestTokens(request: NormalizedRequest): RequestTokenCount {
  let inputTokens = estimateMessagesTokens(request.messages);
  if (request.tools) inputTokens += estimateTokens(JSON.stringify(request.tools));
  for (const message of request.messages) {
    if (message.role !== 'user' && message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type === 'image') inputTokens += IMAGE_TOKENS;
      else if (part.type === 'file') inputTokens += FILE_TOKENS;
    }
  }
  return { inputTokens, exact: false, source: 'estimate' };
}
