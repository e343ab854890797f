/**
 * A request's input tokens, estimated: every Ollama model brings its own tokenizer and Ollama has no
 * counting endpoint. Tools count as their JSON; an image as a fixed figure (LLaVA-style models spend 576
 * tokens on one; others vary), so the count stays a labelled estimate, never passed off as exact.
 */
import { estimateMessagesTokens, estimateTokens } from '../../tokens/estimate.ts';
import type { NormalizedRequest, RequestTokenCount } from '../provider.ts';

/** What a LLaVA-style vision model spends on one image (24 × 24 patches). */
const IMAGE_TOKENS = 576;

export function countOllamaRequestTokens(request: NormalizedRequest): RequestTokenCount {
  let inputTokens = estimateMessagesTokens(request.messages);
  if (request.tools && request.tools.length > 0) inputTokens += estimateTokens(JSON.stringify(request.tools));
  for (const message of request.messages) {
    if (message.role !== 'user' && message.role !== 'tool') continue;
    for (const part of message.content) if (part.type === 'image') inputTokens += IMAGE_TOKENS;
  }
  return { inputTokens, exact: false, source: 'estimate' };
}
