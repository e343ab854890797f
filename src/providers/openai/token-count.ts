/**
 * A chat request's input tokens counted locally with OpenAI's tokenizer. Exact for text conversations;
 * tools, images and files are billed by rules the API does not publish exactly, so a request with any of
 * them is a labelled estimate (the text counted exactly, the rest estimated).
 */
import { countOpenAIChatTokens, countOpenAITokens } from '../../tokens/openai-tokenizer.ts';
import type { NormalizedRequest, RequestTokenCount } from '../provider.ts';

/** What OpenAI bills a low-detail image tile; a base for the estimate of an image of unknown size. */
const IMAGE_TOKENS = 85;
/** A rough figure for a page of PDF text and image. */
const FILE_TOKENS = 1000;

export function countOpenAIRequestTokens(request: NormalizedRequest): RequestTokenCount {
  let inputTokens = countOpenAIChatTokens(request.messages, request.model);
  let exact = true;
  if (request.tools) {
    exact = false;
    inputTokens += countOpenAITokens(JSON.stringify(request.tools), request.model);
  }
  for (const message of request.messages) {
    if (message.role !== 'user' && message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type === 'image') {
        exact = false;
        inputTokens += IMAGE_TOKENS;
      } else if (part.type === 'file') {
        exact = false;
        inputTokens += FILE_TOKENS;
      }
    }
  }
  return exact ? { inputTokens, exact, source: 'tokenizer' } : { inputTokens, exact, source: 'estimate' };
}
