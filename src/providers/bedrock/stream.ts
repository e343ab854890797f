/**
 * ConverseStream frames → our stream events. Each frame is one eventstream message (decoded by
 * `http/eventstream.ts`): `messageStart`, `contentBlockStart` (a tool call's id and name),
 * `contentBlockDelta` (text, tool input, or reasoning, which is not surfaced), `contentBlockStop`,
 * `messageStop` (the stop reason) and `metadata` (usage). Bedrock sends `metadata` last; the stream is
 * done once both `messageStop` and `metadata` have arrived, or at the body's end after `messageStop`.
 * Exception frames become the typed error of the same exception as a response.
 */
import type { StreamFrame } from '../../http/frames.ts';
import { isRecord, type Json } from '../../spec/json.ts';
import type { FinishEvent, StreamEvent, Usage } from '../../spec/types.ts';
import { finishEvent, parseFrameJson, streamEndedEarly } from '../parse-helpers.ts';
import type { CallContext, StreamParser } from '../provider.ts';
import { mapBedrockStreamException } from './errors.ts';
import { mapBedrockStopReason, mapBedrockUsage } from './response.ts';

interface ToolBlock {
  /** Position among this response's tool calls (what `tool-call-delta.index` means). */
  index: number;
  /** Whether any input arrived; a call with none gets `{}`, as the non-streaming result has. */
  hasInput: boolean;
}

/** Reads one ConverseStream's frames; a new parser for every attempt. */
export class BedrockStreamParser implements StreamParser {
  #sawStop = false;
  #sawMetadata = false;
  #stopReason: string | undefined;
  #usage: Usage | undefined;
  /** Content block index → tool call. */
  readonly #tools = new Map<number, ToolBlock>();
  readonly #context: CallContext;

  constructor(context: CallContext) {
    this.#context = context;
  }

  get done(): boolean {
    return this.#sawStop && this.#sawMetadata;
  }

  onEvent(frame: StreamFrame, out: StreamEvent[]): void {
    const { event } = frame;
    if (event.startsWith('exception:') || event.startsWith('error:')) {
      throw mapBedrockStreamException(event, frame.data, this.#context);
    }
    switch (event) {
      case 'contentBlockStart':
        this.#blockStart(this.#json(frame), out);
        return;
      case 'contentBlockDelta':
        this.#blockDelta(this.#json(frame), out);
        return;
      case 'contentBlockStop':
        this.#blockStop(this.#json(frame), out);
        return;
      case 'messageStop': {
        const payload = this.#json(frame);
        this.#sawStop = true;
        if (typeof payload.stopReason === 'string') this.#stopReason = payload.stopReason;
        return;
      }
      case 'metadata':
        this.#sawMetadata = true;
        this.#usage = mapBedrockUsage(this.#json(frame).usage);
        return;
      default:
        // messageStart and events added later carry nothing we surface.
        return;
    }
  }

  finish(): FinishEvent {
    if (!this.#sawStop) throw streamEndedEarly(this.#context, 'no messageStop');
    // Bedrock neither names the model nor ids the message: the model asked for, and the request id.
    return finishEvent(
      {
        finishReason: mapBedrockStopReason(this.#stopReason),
        rawFinishReason: this.#stopReason,
        usage: this.#usage,
        model: this.#context.model,
        id: this.#context.requestId,
      },
      this.#context,
    );
  }

  #blockStart(payload: Json, out: StreamEvent[]): void {
    const start = isRecord(payload.start) ? payload.start : undefined;
    const use = start && isRecord(start.toolUse) ? start.toolUse : undefined;
    if (!use) return;
    const tool = this.#tool(payload.contentBlockIndex);
    const delta: StreamEvent = { type: 'tool-call-delta', index: tool.index, argumentsDelta: '' };
    if (typeof use.toolUseId === 'string') delta.id = use.toolUseId;
    if (typeof use.name === 'string') delta.name = use.name;
    out.push(delta);
  }

  #blockDelta(payload: Json, out: StreamEvent[]): void {
    const delta = isRecord(payload.delta) ? payload.delta : undefined;
    if (!delta) return;
    if (typeof delta.text === 'string') {
      if (delta.text) out.push({ type: 'text-delta', text: delta.text });
      return;
    }
    if (isRecord(delta.toolUse)) {
      const input = typeof delta.toolUse.input === 'string' ? delta.toolUse.input : '';
      const tool = this.#tool(payload.contentBlockIndex);
      if (input) tool.hasInput = true;
      out.push({ type: 'tool-call-delta', index: tool.index, argumentsDelta: input });
    }
    // reasoningContent (text, signature, redacted) is not part of the answer.
  }

  #blockStop(payload: Json, out: StreamEvent[]): void {
    const tool =
      typeof payload.contentBlockIndex === 'number' ? this.#tools.get(payload.contentBlockIndex) : undefined;
    if (tool && !tool.hasInput) {
      tool.hasInput = true;
      out.push({ type: 'tool-call-delta', index: tool.index, argumentsDelta: '{}' });
    }
  }

  #tool(blockIndex: unknown): ToolBlock {
    const key = typeof blockIndex === 'number' ? blockIndex : -1;
    let tool = this.#tools.get(key);
    if (!tool) {
      tool = { index: this.#tools.size, hasInput: false };
      this.#tools.set(key, tool);
    }
    return tool;
  }

  #json(frame: StreamFrame): Json {
    const payload = parseFrameJson(frame.data, this.#context, `a ${frame.event} event`);
    return isRecord(payload) ? payload : {};
  }
}
