/**
 * Deterministic replies derived from the request: the same conversation always gets the same answer,
 * honest about where it comes from, cut by `max_tokens` and stop sequences like a real model's.
 */
import { createHash } from 'node:crypto';
import { countOpenAITokens } from '../tokens/openai-tokenizer.ts';

const SENTENCES = [
  'This answer comes from the llm-factory emulator, so it is the same every time you ask.',
  'No network call was made and no key was used.',
  'Set a provider key such as OPENAI_API_KEY to ask a real model instead.',
  'The emulator speaks each provider’s wire protocol, so your code runs unchanged against the real service.',
  'Token counts in the usage block come from the real tokenizer.',
  'Faults such as rate limits, resets and stalls can be injected with the x-emulator-fault header.',
  'Streaming replies arrive one word at a time, as they would from a model.',
  'Latency, time to first token and tokens per second are configurable.',
];

export interface Reply {
  text: string;
  finishReason: 'stop' | 'length';
}

export function hashOf(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** The fixed reply for a conversation whose last user turn is `lastUser`. */
export function baseReply(conversationKey: string, lastUser: string): string {
  const digest = hashOf(conversationKey);
  const snippet = lastUser.replace(/\s+/g, ' ').trim();
  const quoted = snippet.length > 80 ? `${snippet.slice(0, 77)}…` : snippet;
  const count = 2 + (digest[0]! % 3);
  const parts = [`You asked: “${quoted}”.`];
  const first = digest[1]! % SENTENCES.length;
  for (let i = 0; i < count; i++) parts.push(SENTENCES[(first + i) % SENTENCES.length]!);
  return parts.join(' ');
}

/** Splits text into stream pieces: each word with its leading space, as models stream them. */
export function streamPieces(text: string): string[] {
  return text.match(/\s*\S+/g) ?? [];
}

/** Applies stop sequences and the token limit, as the model would. */
export function shapeReply(
  text: string,
  model: string,
  maxTokens: number | undefined,
  stop: string[],
): Reply {
  let shaped = text;
  for (const sequence of stop) {
    const at = sequence ? shaped.indexOf(sequence) : -1;
    if (at !== -1) shaped = shaped.slice(0, at);
  }
  if (maxTokens !== undefined && countOpenAITokens(shaped, model) > maxTokens) {
    let kept = '';
    for (const piece of streamPieces(shaped)) {
      if (countOpenAITokens(kept + piece, model) > maxTokens) break;
      kept += piece;
    }
    return { text: kept, finishReason: 'length' };
  }
  return { text: shaped, finishReason: 'stop' };
}
