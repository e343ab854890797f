/**
 * A documented estimate of token counts for providers whose tokenizer is not public (Anthropic, Gemini,
 * Bedrock models, local models). Calibrated on BPE behaviour: about four ASCII characters a token,
 * two characters a token for other alphabetic scripts, and one token a character for CJK, emoji and
 * other wide characters. Expect ±15% on English prose; use a provider's counting endpoint when exactness
 * matters (`countRequestTokens`).
 */
import { type CountableMessage, contentText } from './message-text.ts';

export function estimateTokens(text: string): number {
  let weight = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) weight += 0.25;
    else if (code < 0x800) weight += 0.5;
    else if (code >= 0xd800 && code <= 0xdbff) {
      weight += 1; // a surrogate pair (emoji, rare CJK) counts once
      i++;
    } else weight += 1;
  }
  return Math.ceil(weight);
}

/** Messages plus about 4 tokens of framing each, and 3 to prime the reply. */
export function estimateMessagesTokens(messages: readonly CountableMessage[]): number {
  let total = 3;
  for (const message of messages) total += 4 + estimateTokens(contentText(message.content));
  return total;
}
