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

/** An image at Claude's 1.15-megapixel cap costs about (width × height) / 750 tokens. */
const IMAGE_TOKENS = 1600;
/** A rough figure for a PDF of a couple of pages (text and page images). */
const PDF_TOKENS = 3000;
/** The system prompt Anthropic adds when tools are offered (`tool_choice` auto; documented per model). */
const TOOL_PROMPT_TOKENS = 346;

/**
 * A local estimate of a whole request, labelled as such: the text estimated, plus rough figures for tools,
 * images and PDFs (use the counting endpoint, `countRequestTokens`, when it matters).
 */
export function estimateAnthropicRequest(request: NormalizedRequest): RequestTokenCount {
  let inputTokens = estimateMessagesTokens(request.messages);
  if (request.tools) inputTokens += TOOL_PROMPT_TOKENS + estimateTokens(JSON.stringify(request.tools));
  for (const message of request.messages) {
    if (message.role !== 'user' && message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type === 'image') inputTokens += IMAGE_TOKENS;
      else if (part.type === 'file') {
        const source = part.source;
        inputTokens +=
          source.kind === 'base64' && source.mediaType.startsWith('text/')
            ? estimateTokens(Buffer.from(source.data, 'base64').toString('utf8'))
            : PDF_TOKENS;
      }
    }
  }
  return { inputTokens, exact: false, source: 'estimate' };
}

/** `POST {base}/v1/messages/count_tokens` with `{model, system?, messages, tools?, …}` → `{input_tokens}`. */
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
