/**
 * Gemini token counts. Gemini's tokenizer is not public, so `countTokens(text)` is the documented estimate;
 * an exact count of a whole request comes from the `models/{model}:countTokens` endpoint.
 */
import type { PreparedRequest } from '../../http/transport.ts';
import { isRecord } from '../../spec/json.ts';
import { estimateMessagesTokens } from '../../tokens/estimate.ts';
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

/** A labelled estimate of a request's input tokens, for when the endpoint is not wanted. */
export function estimateGeminiRequestTokens(request: NormalizedRequest): RequestTokenCount {
  return { inputTokens: estimateMessagesTokens(request.messages), exact: false, source: 'estimate' };
}
