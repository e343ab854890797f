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

/**
 * The longest pre-token counted whole. A pre-token is what the encoding's split pattern keeps together (a
 * word, a run of symbols, of digits or of spaces), and BPE merging is quadratic in its length: 100 000
 * characters of `x` took 3 s, of emoji 24 s, with the event loop blocked (a gateway's count_tokens was a
 * way to stall it). No word is this long; a longer run is counted in parts of this length, linearly (a
 * megabyte of random emoji in half a second) and within a few tokens per part (a run of `!?` comes out 6%
 * over). Every pre-token of ordinary text is shorter, and its count exact.
 */
export const MAX_PRETOKEN_CHARS = 128;

const SPLIT_PATTERNS = require('gpt-tokenizer/cjs/encodingParams/constants') as Record<
  'O200K_TOKEN_SPLIT_REGEX' | 'CL100K_TOKEN_SPLIT_REGEX',
  RegExp
>;

const SPLIT: Record<OpenAIEncodingName, RegExp> = {
  o200k_base: SPLIT_PATTERNS.O200K_TOKEN_SPLIT_REGEX,
  cl100k_base: SPLIT_PATTERNS.CL100K_TOKEN_SPLIT_REGEX,
};

export function countOpenAITokens(text: string, model: string): number {
  if (text.length === 0) return 0;
  const name = encodingForModel(model);
  const counter = encoding(name);
  if (!hasLongRun(text, MAX_PRETOKEN_CHARS)) return counter.countTokens(text, ORDINARY);
  // Ordinary stretches are counted whole; each over-long pre-token in parts (split regexes have no
  // lookbehind, so a stretch that starts where a pre-token starts splits as it does in the whole text).
  let total = 0;
  let start = 0;
  for (const match of text.matchAll(SPLIT[name])) {
    const piece = match[0];
    if (piece.length <= MAX_PRETOKEN_CHARS) continue;
    if (match.index > start) total += counter.countTokens(text.slice(start, match.index), ORDINARY);
    for (let at = 0; at < piece.length; ) {
      let end = Math.min(at + MAX_PRETOKEN_CHARS, piece.length);
      // A part never ends between the two halves of a surrogate pair.
      if (end < piece.length && isHighSurrogate(piece.charCodeAt(end - 1))) end--;
      total += counter.countTokens(piece.slice(at, end), ORDINARY);
      at = end;
    }
    start = match.index + piece.length;
  }
  if (start < text.length) total += counter.countTokens(text.slice(start), ORDINARY);
  return total;
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

const isHighSurrogate = (code: number) => code >= 0xd800 && code <= 0xdbff;

/** `\s` of a regular expression: Unicode's white space and line terminators. */
function isSpace(code: number): boolean {
  return code <= 0x20
    ? code === 0x20 || (code >= 0x09 && code <= 0x0d)
    : code === 0xa0 ||
        code === 0x1680 ||
        (code >= 0x2000 && code <= 0x200a) ||
        code === 0x2028 ||
        code === 0x2029 ||
        code === 0x202f ||
        code === 0x205f ||
        code === 0x3000 ||
        code === 0xfeff;
}

/**
 * True when `text` holds `limit` characters in a row that are all spaces or all not: where a pre-token
 * longer than `limit` can come from (one leading character beyond a run at most). Such a run covers one of
 * every `limit - 1`-th position, so only the runs through those are measured: prose costs a few checks per
 * hundred characters (a full pass cost a quarter of the counting), and no text more than one look at each.
 */
function hasLongRun(text: string, limit: number): boolean {
  const sameKind = (index: number, space: boolean) => isSpace(text.charCodeAt(index)) === space;
  for (let at = 0; at < text.length; at += limit - 1) {
    const space = isSpace(text.charCodeAt(at));
    let start = at;
    while (start > 0 && at - start < limit && sameKind(start - 1, space)) start--;
    let end = at + 1;
    while (end < text.length && end - start < limit && sameKind(end, space)) end++;
    if (end - start >= limit) return true;
  }
  return false;
}
