/**
 * Our answers in Anthropic's Messages wire, for a client of `/v1/messages` whose deployment does not speak it:
 * a result → a `message`, stream events → Anthropic's SSE events (`message_start`, `content_block_*` with
 * text, thinking (signed before the block closes) and tool_use blocks, `message_delta`, `message_stop`). The
 * request side is in `anthropic-wire.ts`.
 *
 * @see https://docs.anthropic.com/en/api/messages-streaming
 */
import type { AssistantContentPart } from '../spec/messages.ts';
import type { CompletionResult, FinishReason, StreamEvent } from '../spec/types.ts';
import type { Json } from './validate-body.ts';

const STOP_REASON: Record<FinishReason, string> = {
  stop: 'end_turn',
  length: 'max_tokens',
  'tool-calls': 'tool_use',
  'content-filter': 'refusal',
  error: 'end_turn',
  other: 'end_turn',
};

function wireBlock(part: AssistantContentPart): Json | undefined {
  if (part.type === 'text') return part.text ? { type: 'text', text: part.text } : undefined;
  if (part.type === 'tool-call') {
    let input: unknown = {};
    try {
      input = JSON.parse(part.arguments);
    } catch {
      input = {};
    }
    return { type: 'tool_use', id: part.id, name: part.name, input };
  }
  const { redacted, signature } = claudeState(part);
  if (redacted !== undefined) return { type: 'redacted_thinking', data: redacted };
  return { type: 'thinking', thinking: part.text, signature: signature ?? '' };
}

/**
 * A reasoning part's Claude state: its signature whether Anthropic or Claude on Bedrock signed it (the same
 * string in both APIs); redacted thinking only as Anthropic's (Bedrock's is bytes, whose relation to
 * Anthropic's string is not documented, so it is not carried across).
 */
function claudeState(part: AssistantContentPart): { signature?: string; redacted?: string } {
  const anthropic = part.providerMetadata?.anthropic;
  const bedrock = part.providerMetadata?.bedrock;
  const pick = (...values: unknown[]) =>
    values.find((value): value is string => typeof value === 'string' && value !== '');
  const state: { signature?: string; redacted?: string } = {};
  const signature = pick(anthropic?.signature, bedrock?.signature);
  const redacted = pick(anthropic?.redactedData);
  if (signature !== undefined) state.signature = signature;
  if (redacted !== undefined) state.redacted = redacted;
  return state;
}

/** Our usage counts every prompt token in `inputTokens`; Anthropic's `input_tokens` leaves out cache reads and writes. */
function wireUsage(usage: CompletionResult['usage']): Json {
  const fresh = usage.inputTokens - (usage.cachedInputTokens ?? 0) - (usage.cacheWriteInputTokens ?? 0);
  const out: Json = { input_tokens: Math.max(0, fresh), output_tokens: usage.outputTokens };
  if (usage.cachedInputTokens !== undefined) out.cache_read_input_tokens = usage.cachedInputTokens;
  if (usage.cacheWriteInputTokens !== undefined)
    out.cache_creation_input_tokens = usage.cacheWriteInputTokens;
  return out;
}

/** Our result → a Messages `message`, named with the model the client asked for. */
export function toAnthropicMessage(result: CompletionResult, model: string): Json {
  return {
    id: result.id || `msg_gateway_${Date.now().toString(36)}`,
    type: 'message',
    role: 'assistant',
    model,
    content: result.message.content.map(wireBlock).filter((block) => block !== undefined),
    stop_reason: STOP_REASON[result.finishReason],
    stop_sequence: null,
    usage: wireUsage(result.usage),
  };
}

function sse(event: string, data: Json): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Our stream events → Anthropic's SSE events, one content block per text, thinking or tool_use run. */
export class AnthropicEventWriter {
  readonly #id: string;
  readonly #model: string;
  readonly #inputTokens: number;
  #started = false;
  /** The open block: its index and kind. */
  #block: { index: number; kind: 'text' | 'thinking' | 'tool_use'; call?: number } | undefined;
  #next = 0;
  /** The index of each thinking block opened, in order. */
  readonly #thinkingBlocks: number[] = [];
  /** Thinking blocks whose signature was sent as it came. */
  readonly #signed = new Set<number>();

  constructor(id: string, model: string, inputTokens = 0) {
    this.#id = id;
    this.#model = model;
    this.#inputTokens = inputTokens;
  }

  #start(): string {
    if (this.#started) return '';
    this.#started = true;
    return sse('message_start', {
      type: 'message_start',
      message: {
        id: this.#id,
        type: 'message',
        role: 'assistant',
        model: this.#model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: this.#inputTokens, output_tokens: 0 },
      },
    });
  }

  #close(): string {
    if (!this.#block) return '';
    const index = this.#block.index;
    this.#block = undefined;
    return sse('content_block_stop', { type: 'content_block_stop', index });
  }

  /** A `content_block_delta` to the block at `index`. */
  #delta(index: number, delta: Json): string {
    return sse('content_block_delta', { type: 'content_block_delta', index, delta });
  }

  #open(kind: 'text' | 'thinking' | 'tool_use', block: Json, call?: number): string {
    let out = this.#close();
    const index = this.#next++;
    this.#block = call === undefined ? { index, kind } : { index, kind, call };
    out += sse('content_block_start', { type: 'content_block_start', index, content_block: block });
    return out;
  }

  /** The SSE text for one event. */
  write(event: StreamEvent): string {
    let out = this.#start();
    switch (event.type) {
      case 'text-delta':
        if (this.#block?.kind !== 'text') out += this.#open('text', { type: 'text', text: '' });
        return out + this.#delta(this.#block!.index, { type: 'text_delta', text: event.text });
      case 'reasoning-delta':
        if (event.signature !== undefined) {
          // Its block's last delta, before the block closes, as Anthropic sends it.
          if (this.#block?.kind !== 'thinking') return out;
          this.#signed.add(this.#block.index);
          return (
            out + this.#delta(this.#block.index, { type: 'signature_delta', signature: event.signature })
          );
        }
        if (this.#block?.kind !== 'thinking') {
          out += this.#open('thinking', { type: 'thinking', thinking: '', signature: '' });
          this.#thinkingBlocks.push(this.#block!.index);
        }
        return out + this.#delta(this.#block!.index, { type: 'thinking_delta', thinking: event.text });
      case 'tool-call-delta': {
        if (this.#block?.kind !== 'tool_use' || this.#block.call !== event.index) {
          out += this.#open(
            'tool_use',
            { type: 'tool_use', id: event.id ?? `toolu_${event.index}`, name: event.name ?? '', input: {} },
            event.index,
          );
        }
        if (event.argumentsDelta === '') return out;
        return (
          out +
          this.#delta(this.#block!.index, { type: 'input_json_delta', partial_json: event.argumentsDelta })
        );
      }
      case 'tool-call':
        return out;
      case 'finish':
        out += this.#close();
        out += this.#signatures(event.message.content);
        out += sse('message_delta', {
          type: 'message_delta',
          delta: { stop_reason: STOP_REASON[event.finishReason], stop_sequence: null },
          usage: wireUsage(event.usage),
        });
        return out + sse('message_stop', { type: 'message_stop' });
    }
  }

  /**
   * The signatures the stream did not carry (a provider whose stream parser gives none), from the finished
   * message: a tool loop must send them back unaltered. Sent at the end, as `signature_delta`s to their
   * blocks' indices (the SDKs apply a delta by index). Paired in order with the reasoning parts that have
   * text (the blocks streamed); nothing is sent when the two do not pair up.
   */
  #signatures(parts: readonly AssistantContentPart[]): string {
    const reasoning = parts.filter((part) => part.type === 'reasoning' && part.text !== '');
    if (reasoning.length !== this.#thinkingBlocks.length) return '';
    let out = '';
    reasoning.forEach((part, order) => {
      const { signature } = claudeState(part);
      if (signature === undefined || this.#signed.has(this.#thinkingBlocks[order]!)) return;
      out += this.#delta(this.#thinkingBlocks[order]!, { type: 'signature_delta', signature });
    });
    return out;
  }

  /** An error after the stream began: Anthropic's in-band `event: error`. */
  error(body: Json): string {
    return this.#start() + sse('error', body);
  }
}
