/**
 * How many input tokens a request takes, measured only as precisely as a decision needs. A token is at
 * least one UTF-8 byte for every tokenizer in use (byte-level BPE, SentencePiece with byte fallback), and a
 * UTF-16 code unit is at most three bytes, so `3 × characters` bounds the count for free; the byte length
 * bounds it more tightly; only a request whose bounds exceed some deployment's window is tokenized: exactly
 * with the public tokenizer where there is one (OpenAI's encodings, local), else with the documented estimate.
 */
import type { CompletionRequest } from '../spec/types.ts';
import { estimateMessagesTokens } from '../tokens/estimate.ts';
import { type CountableMessage, type CountablePart, contentText } from '../tokens/message-text.ts';
import { countOpenAIChatTokens } from '../tokens/openai-tokenizer.ts';

/** Framing tokens a message costs beyond its text, at most, and the reply's priming. */
const MESSAGE_FRAMING = 8;
const REPLY_PRIMING = 3;
/** Output assumed for a cost estimate when the request sets no `maxTokens`. */
export const ASSUMED_OUTPUT_TOKENS = 500;

/** The text of a message's content: a string, or its parts' text and tool calls (media is not counted). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return contentText(
    content.filter((part): part is CountablePart => typeof part === 'object' && part !== null),
  );
}

export class RequestSize {
  readonly #request: CompletionRequest;
  #messages: CountableMessage[] | undefined;
  #characters = -1;
  #bytes = -1;
  #estimate = -1;
  readonly #exact = new Map<string, number>();

  constructor(request: CompletionRequest) {
    this.#request = request;
  }

  /** The conversation as the client will send it, text only. */
  messages(): CountableMessage[] {
    if (this.#messages) return this.#messages;
    const { messages, prompt, system } = this.#request;
    const list: CountableMessage[] = [];
    if (typeof system === 'string') list.push({ role: 'system', content: system });
    if (Array.isArray(messages)) {
      for (const message of messages) list.push({ role: message?.role, content: textOf(message?.content) });
    }
    if (typeof prompt === 'string') list.push({ role: 'user', content: prompt });
    this.#messages = list;
    return list;
  }

  /** An upper bound on the input tokens that costs one pass over the lengths. */
  cheapBound(): number {
    if (this.#characters < 0) {
      const { messages, prompt, system } = this.#request;
      let characters =
        (typeof prompt === 'string' ? prompt.length : 0) + (typeof system === 'string' ? system.length : 0);
      let count = (prompt === undefined ? 0 : 1) + (system === undefined ? 0 : 1);
      if (Array.isArray(messages)) {
        count += messages.length;
        for (const message of messages) {
          const content = message?.content as unknown;
          characters += typeof content === 'string' ? content.length : textOf(content).length;
        }
      }
      this.#characters = 3 * characters + MESSAGE_FRAMING * count + REPLY_PRIMING;
    }
    return this.#characters;
  }

  /** A tighter upper bound: the UTF-8 bytes of the text. */
  byteBound(): number {
    if (this.#bytes < 0) {
      let bytes = REPLY_PRIMING;
      for (const message of this.messages())
        bytes += Buffer.byteLength(contentText(message.content)) + MESSAGE_FRAMING;
      this.#bytes = bytes;
    }
    return this.#bytes;
  }

  /** The documented estimate (about four ASCII characters a token). */
  estimate(): number {
    if (this.#estimate < 0) this.#estimate = estimateMessagesTokens(this.messages());
    return this.#estimate;
  }

  /** Input tokens for `model`: exact with OpenAI's tokenizer when `exact`, else the estimate. */
  tokensFor(model: string, exact: boolean): number {
    if (!exact) return this.estimate();
    let count = this.#exact.get(model);
    if (count === undefined) {
      count = countOpenAIChatTokens(this.messages(), model);
      this.#exact.set(model, count);
    }
    return count;
  }

  /** True when the request fits a window of `window` tokens, measured no more precisely than needed. */
  fits(window: number | undefined, model: string, exact: boolean): boolean {
    if (window === undefined || this.cheapBound() <= window || this.byteBound() <= window) return true;
    return this.tokensFor(model, exact) <= window;
  }

  /** Output tokens to assume for a cost estimate. */
  get outputTokens(): number {
    return this.#request.maxTokens ?? ASSUMED_OUTPUT_TOKENS;
  }
}
