/**
 * Token counts for Anthropic. Claude's tokenizer is not public, so `countTokens` is a documented estimate
 * (`tokenCountExact: false`); a whole request is counted exactly by `POST /v1/messages/count_tokens`.
 */
import type { PreparedRequest } from '../../http/transport.ts';
import { isRecord } from '../../spec/json.ts';
import { estimateMessagesTokens, estimateTokens } from '../../tokens/estimate.ts';
import { invalidResponse } from '../error-helpers.ts';
import type { CallContext, NormalizedRequest, RequestTokenCount, TokenCountEndpoint } from '../provider.ts';
import { countTokensBody } from './request.ts';

/** Tokens in `text`, estimated (±15% on English prose). */
export const estimateAnthropicTokens = (text: string, _model: string): number => estimateTokens(text);

/** A local estimate of a whole request, labelled as such. */
export function estimateAnthropicRequest(request: NormalizedRequest): RequestTokenCount {
  return { inputTokens: estimateMessagesTokens(request.messages), exact: false, source: 'estimate' };
}

/** `POST {base}/v1/messages/count_tokens` with `{model, system?, messages}` → `{input_tokens}`. */
export function anthropicTokenCountEndpoint(
  base: string,
  headers: Record<string, string>,
): TokenCountEndpoint {
  return {
    request(request: NormalizedRequest): PreparedRequest {
      return {
        url: `${base}/v1/messages/count_tokens`,
        method: 'POST',
        headers: request.headers ? { ...headers, ...request.headers } : headers,
        body: countTokensBody(request),
      };
    },
    parse(body: unknown, context: CallContext): number {
      const tokens = isRecord(body) ? body.input_tokens : undefined;
      if (typeof tokens !== 'number' || !Number.isFinite(tokens) || tokens < 0) {
        throw invalidResponse(context, 'returned a token count without input_tokens', { body });
      }
      return tokens;
    },
  };
}
