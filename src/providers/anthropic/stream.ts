/**
 * Messages API SSE → our stream events. One JSON.parse per event (pings are skipped unparsed) and no
 * validation on the hot path. Text comes from `text_delta`s; tool calls from `tool_use` blocks and their
 * `input_json_delta`s; thinking, signatures, citations and server-tool blocks are ignored. Usage is read
 * from `message_start` and updated by `message_delta` (output tokens are cumulative there; input tokens,
 * when a server sends them again, replace the first count).
 */
import type { StreamFrame } from '../../http/frames.ts';
import { isRecord } from '../../spec/json.ts';
import type { FinishEvent, StreamEvent, ToolCallDeltaEvent } from '../../spec/types.ts';
import { finishEvent, parseFrameJson, streamEndedEarly } from '../parse-helpers.ts';
import type { CallContext, StreamParser } from '../provider.ts';
import { mapAnthropicStreamError } from './errors.ts';
import { type AnthropicUsage, mapAnthropicFinishReason, readAnthropicUsage, toUsage } from './response.ts';

interface StreamChunk {
  type?: string;
  index?: number;
  message?: { id?: string; model?: string; usage?: unknown };
  content_block?: { type?: string; id?: string; name?: string; input?: unknown; text?: string };
  delta?: { type?: string; text?: string; partial_json?: string; stop_reason?: string | null };
  usage?: unknown;
}

interface OpenToolCall {
  /** Position among this response's tool calls (what `tool-call-delta.index` means). */
  index: number;
  /** True once arguments were emitted (a later empty call still needs `{}`). */
  hasArguments: boolean;
  /** The block's start carried the whole input: later deltas would repeat it. */
  complete: boolean;
}

export class AnthropicStreamParser implements StreamParser {
  done = false;
  #usage: AnthropicUsage | undefined;
  #stopReason: string | undefined;
  #id: string | undefined;
  #model: string | undefined;
  /** Open tool_use blocks by content-block index. */
  readonly #tools = new Map<number, OpenToolCall>();
  #toolCount = 0;
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
        this.#blockStart(chunk, out);
        return;
      case 'content_block_delta': {
        const delta = chunk.delta;
        if (typeof delta !== 'object' || delta === null) return;
        if (delta.type === 'text_delta') {
          if (delta.text) out.push({ type: 'text-delta', text: delta.text });
        } else if (delta.type === 'input_json_delta') {
          const tool = this.#tools.get(chunk.index ?? 0);
          if (!tool || tool.complete || !delta.partial_json) return;
          tool.hasArguments = true;
          out.push({ type: 'tool-call-delta', index: tool.index, argumentsDelta: delta.partial_json });
        }
        return;
      }
      case 'content_block_stop': {
        const index = chunk.index ?? 0;
        const tool = this.#tools.get(index);
        if (!tool) return;
        this.#tools.delete(index);
        // A call with no arguments streams none: say `{}`, as the non-streaming result does.
        if (!tool.hasArguments)
          out.push({ type: 'tool-call-delta', index: tool.index, argumentsDelta: '{}' });
        return;
      }
      case 'message_delta':
        if (typeof chunk.delta?.stop_reason === 'string') this.#stopReason = chunk.delta.stop_reason;
        if (chunk.usage !== undefined) this.#usage = readAnthropicUsage(chunk.usage, this.#usage);
        return;
      case 'message_stop':
        this.done = true;
        return;
      case 'error':
        throw mapAnthropicStreamError(frame.data, this.#context);
      default:
        // ping with another event name, and event types newer than this parser.
        return;
    }
  }

  #blockStart(chunk: StreamChunk, out: StreamEvent[]): void {
    const block = chunk.content_block;
    if (typeof block !== 'object' || block === null) return;
    if (block.type === 'text' && block.text) out.push({ type: 'text-delta', text: block.text });
    if (block.type !== 'tool_use') return;
    const input = block.input;
    const complete = isRecord(input) && Object.keys(input).length > 0;
    const tool: OpenToolCall = { index: this.#toolCount++, hasArguments: complete, complete };
    this.#tools.set(chunk.index ?? 0, tool);
    const event: ToolCallDeltaEvent = {
      type: 'tool-call-delta',
      index: tool.index,
      argumentsDelta: complete ? JSON.stringify(input) : '',
    };
    if (typeof block.id === 'string') event.id = block.id;
    if (typeof block.name === 'string') event.name = block.name;
    out.push(event);
  }

  finish(): FinishEvent {
    if (!this.done && this.#stopReason === undefined) {
      throw streamEndedEarly(this.#context, 'no stop_reason, no message_stop');
    }
    return finishEvent(
      {
        finishReason: mapAnthropicFinishReason(this.#stopReason),
        rawFinishReason: this.#stopReason,
        usage: toUsage(this.#usage ?? readAnthropicUsage(undefined)),
        model: this.#model,
        id: this.#id,
      },
      this.#context,
    );
  }
}
