/**
 * Messages API SSE → our stream events and the whole assistant message, through the shared assembler.
 * One JSON.parse per event (pings are skipped unparsed) and no validation on the hot path.
 *
 * Content blocks share one index (text, thinking and tool_use alike): each starts a part of its own.
 * `thinking_delta`s are reasoning, the one `signature_delta` lands on that block's part; `redacted_thinking`
 * arrives whole. A `tool_use` block's `input_json_delta`s (the first one empty) are its arguments, and the
 * call is complete at its `content_block_stop` — one `tool-call` event then, `'{}'` when none came. A stop
 * reason ends any call still open (max_tokens can cut one before its stop: kept, with a warning). Usage is
 * read from `message_start` and updated by `message_delta` (output tokens are cumulative there; input
 * tokens, when a server sends them again, replace the first count).
 */
import type { StreamFrame } from '../../http/frames.ts';
import { isRecord } from '../../spec/json.ts';
import type { FinishEvent, StreamEvent } from '../../spec/types.ts';
import { MessageAssembler } from '../message-assembly.ts';
import { finishEvent, parseFrameJson, streamEndedEarly } from '../parse-helpers.ts';
import type { CallContext, StreamParser } from '../provider.ts';
import { mapAnthropicStreamError } from './errors.ts';
import {
  type AnthropicUsage,
  attachSignature,
  mapAnthropicFinishReason,
  readAnthropicUsage,
  refusalOf,
  toolUseMetadata,
  toUsage,
} from './response.ts';

interface StreamChunk {
  type?: string;
  index?: number;
  message?: { id?: string; model?: string; usage?: unknown };
  content_block?: Record<string, unknown>;
  delta?: {
    type?: string;
    text?: string;
    thinking?: string;
    signature?: string;
    partial_json?: string;
    stop_reason?: string | null;
    stop_details?: unknown;
  };
  usage?: unknown;
}

/** What the parser remembers of an open content block. */
interface OpenBlock {
  type: 'thinking' | 'tool_use';
  /** Thinking: the assembler's part count when it began (a signature with no text makes its own part). */
  partsBefore: number;
  /** Tool use: arguments arrived (or came whole at the start, which later deltas would repeat). */
  hasArguments: boolean;
  complete: boolean;
}

export class AnthropicStreamParser implements StreamParser {
  done = false;
  #usage: AnthropicUsage | undefined;
  #stopReason: string | undefined;
  #stopDetails: unknown;
  #id: string | undefined;
  #model: string | undefined;
  readonly #blocks = new Map<number, OpenBlock>();
  readonly #assembler = new MessageAssembler();
  readonly #context: CallContext;

  constructor(context: CallContext) {
    this.#context = context;
  }

  onEvent(frame: StreamFrame, out: StreamEvent[]): void {
    if (frame.event === 'ping') return;
    // An error event is typed from its data whatever that is (JSON or not).
    if (frame.event === 'error') throw mapAnthropicStreamError(frame.data, this.#context);
    const chunk = parseFrameJson(frame.data, this.#context) as StreamChunk;
    if (typeof chunk !== 'object' || chunk === null) return;
    switch (chunk.type ?? frame.event) {
      case 'message_start': {
        const message = chunk.message;
        if (typeof message !== 'object' || message === null) return;
        if (typeof message.id === 'string') this.#id = message.id;
        if (typeof message.model === 'string' && message.model) this.#model = message.model;
        this.#usage = readAnthropicUsage(message.usage, this.#usage);
        return;
      }
      case 'content_block_start':
        this.#blockStart(chunk.index ?? 0, chunk.content_block, out);
        return;
      case 'content_block_delta':
        this.#blockDelta(chunk.index ?? 0, chunk.delta, out);
        return;
      case 'content_block_stop': {
        const index = chunk.index ?? 0;
        const block = this.#blocks.get(index);
        this.#blocks.delete(index);
        if (block?.type !== 'tool_use') return;
        // A call with no arguments streams none: its deltas join to `{}`, as its `tool-call` says.
        if (!block.hasArguments) this.#assembler.addToolCallArguments(index, '{}', out);
        this.#assembler.endToolCall(index, out);
        return;
      }
      case 'message_delta': {
        const delta = chunk.delta;
        if (typeof delta?.stop_reason === 'string') {
          this.#stopReason = delta.stop_reason;
          this.#stopDetails = delta.stop_details;
          this.#assembler.endOpenToolCalls(out);
        }
        if (chunk.usage !== undefined) this.#usage = readAnthropicUsage(chunk.usage, this.#usage);
        return;
      }
      case 'message_stop':
        this.done = true;
        this.#assembler.endOpenToolCalls(out);
        return;
      case 'error':
        throw mapAnthropicStreamError(frame.data, this.#context);
      default:
        // ping with another event name, and event types newer than this parser.
        return;
    }
  }

  #blockStart(index: number, block: Record<string, unknown> | undefined, out: StreamEvent[]): void {
    if (!isRecord(block)) return;
    const assembler = this.#assembler;
    switch (block.type) {
      case 'text':
        assembler.boundary();
        if (typeof block.text === 'string') assembler.addText(block.text, out);
        return;
      case 'thinking': {
        const partsBefore = assembler.parts.length;
        this.#blocks.set(index, { type: 'thinking', partsBefore, hasArguments: false, complete: false });
        assembler.boundary();
        if (typeof block.thinking === 'string') assembler.addReasoning(block.thinking, out);
        if (typeof block.signature === 'string' && block.signature)
          this.#signature(index, block.signature, out);
        return;
      }
      case 'redacted_thinking':
        if (typeof block.data === 'string')
          assembler.addOpaqueReasoning('anthropic', { redactedData: block.data });
        return;
      case 'tool_use': {
        const input = block.input;
        // `input` is a `{}` placeholder before the deltas; a non-empty one is the whole input.
        const complete = isRecord(input) && Object.keys(input).length > 0;
        this.#blocks.set(index, { type: 'tool_use', partsBefore: 0, hasArguments: complete, complete });
        assembler.startToolCall(
          index,
          typeof block.id === 'string' ? block.id : undefined,
          typeof block.name === 'string' ? block.name : undefined,
          out,
          toolUseMetadata(block),
        );
        if (complete) assembler.addToolCallArguments(index, JSON.stringify(input), out);
        return;
      }
      default:
        // Server tool blocks (web search, code execution) run at Anthropic; they stay out of the message.
        return;
    }
  }

  #blockDelta(index: number, delta: StreamChunk['delta'], out: StreamEvent[]): void {
    if (typeof delta !== 'object' || delta === null) return;
    switch (delta.type) {
      case 'text_delta':
        if (delta.text) this.#assembler.addText(delta.text, out);
        return;
      case 'thinking_delta':
        if (delta.thinking) this.#assembler.addReasoning(delta.thinking, out);
        return;
      case 'signature_delta':
        if (delta.signature) this.#signature(index, delta.signature, out);
        return;
      case 'input_json_delta': {
        const block = this.#blocks.get(index);
        if (block?.type !== 'tool_use' || block.complete || !delta.partial_json) return;
        block.hasArguments = true;
        this.#assembler.addToolCallArguments(index, delta.partial_json, out);
        return;
      }
      default:
        // citations_delta and newer delta types.
        return;
    }
  }

  #signature(index: number, signature: string, out: StreamEvent[]): void {
    const block = this.#blocks.get(index);
    if (block?.type !== 'thinking') return;
    if (this.#assembler.parts.length > block.partsBefore) attachSignature(this.#assembler, signature);
    else this.#assembler.addOpaqueReasoning('anthropic', { signature });
    out.push({ type: 'reasoning-delta', text: '', signature });
  }

  finish(): FinishEvent {
    if (!this.done && this.#stopReason === undefined) {
      throw streamEndedEarly(this.#context, 'no stop_reason, no message_stop');
    }
    const refused = this.#stopReason === 'refusal';
    return finishEvent(
      {
        finishReason: mapAnthropicFinishReason(this.#stopReason),
        rawFinishReason: this.#stopReason,
        usage: toUsage(this.#usage ?? readAnthropicUsage(undefined)),
        model: this.#model,
        id: this.#id,
        refusal: refused ? refusalOf(this.#stopDetails, this.#assembler.text) : undefined,
      },
      this.#context,
      this.#assembler,
    );
  }
}
