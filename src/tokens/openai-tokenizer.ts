/**
 * Exact token counts for OpenAI models through gpt-tokenizer (ids identical to tiktoken). The encodings
 * are large, so each is loaded on first use, synchronously, and only the one a model needs.
 *
 * Special-token text such as `<|endoftext|>` inside user text is counted as ordinary text, which is what
 * the API does with user content (gpt-tokenizer would otherwise only recognise it at the very start).
 */
import { createRequire } from 'node:module';
import { type CountableMessage, contentText } from './message-text.ts';

export type { CountableMessage };

export type OpenAIEncodingName = 'o200k_base' | 'cl100k_base';

interface Encoding {
  countTokens(
    text: string,
    options?: { disallowedSpecial?: Set<string>; allowedSpecial?: Set<string> },
  ): number;
}

const require = createRequire(import.meta.url);
const loaded = new Map<OpenAIEncodingName, Encoding>();
const ORDINARY = { disallowedSpecial: new Set<string>() };

function encoding(name: OpenAIEncodingName): Encoding {
  let found = loaded.get(name);
  if (!found) {
    found = require(`gpt-tokenizer/cjs/encoding/${name}`) as Encoding;
    loaded.set(name, found);
  }
  return found;
}

/** The encoding an OpenAI model uses. Unknown and future models get o200k_base, the current one. */
export function encodingForModel(model: string): OpenAIEncodingName {
  const name = model.toLowerCase().replace(/^(?:openai\/|ft:)/, '');
  if (/^(?:gpt-4(?!o|\.)|gpt-3\.?5|text-embedding-|davinci-002|babbage-002)/.test(name)) return 'cl100k_base';
  return 'o200k_base';
}

export function countOpenAITokens(text: string, model: string): number {
  if (text.length === 0) return 0;
  return encoding(encodingForModel(model)).countTokens(text, ORDINARY);
}

/**
 * Tokens a chat request takes as input, as OpenAI bills it: every message costs its content and role plus
 * 3 tokens of framing (1 more with a name), and the reply is primed with 3 more.
 */
export function countOpenAIChatTokens(messages: readonly CountableMessage[], model: string): number {
  let total = 3;
  for (const message of messages) {
    total +=
      3 + countOpenAITokens(message.role, model) + countOpenAITokens(contentText(message.content), model);
    if (message.name) total += 1 + countOpenAITokens(message.name, model);
  }
  return total;
}
