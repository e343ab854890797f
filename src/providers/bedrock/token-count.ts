/**
 * A Bedrock request's input tokens, estimated locally: Bedrock's models' tokenizers are not public and
 * Converse has no counting endpoint for every model, so the count is always a labelled estimate — the text
 * with the documented heuristic, plus the tools' definitions as JSON, plus a rough figure for each image and
 * document (Claude bills an image by its pixels, about 1,600 tokens for a large one).
 */
import { estimateMessagesTokens, estimateTokens } from '../../tokens/estimate.ts';
import type { NormalizedRequest, RequestTokenCount } from '../provider.ts';

/** About what Claude bills a large image (its size is not known here). */
const IMAGE_TOKENS = 1600;
/** A rough figure for a page or two of document text. */
const FILE_TOKENS = 1500;

export function countBedrockRequestTokens(request: NormalizedRequest): RequestTokenCount {
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
