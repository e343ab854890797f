/**
 * ConverseStream frames → our stream events. Each frame is one eventstream message (decoded by
 * `http/eventstream.ts`): `messageStart`, `contentBlockStart` (a tool call's id and name),
 * `contentBlockDelta` (text, tool input, or reasoning, which is not surfaced), `contentBlockStop`,
 * `messageStop` (the stop reason) and `metadata` (usage). Bedrock sends `metadata` last; the stream is
 * done once both `messageStop` and `metadata` have arrived, or at the body's end after `messageStop`.
 * Exception frames become the typed error of the same exception as a response.
 */
import type { StreamFrame } from '../../http/frames.ts';
import { LLMInvalidResponseError } from '../../spec/errors.ts';
import type { Json } from '../../spec/json.ts';
import type { FinishEvent, StreamEvent, Usage } from '../../spec/types.ts';
import type { CallContext, StreamParser } from '../provider.ts';
import { mapBedrockStreamException } from './errors.ts';
import { isObject, mapBedrockStopReason, mapBedrockUsage } from './response.ts';

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
    if (!this.#sawStop) {
      throw new LLMInvalidResponseError(
        `${this.#context.provider} stream ended before the model finished (no messageStop)`,
        {
          provider: this.#context.provider,
          model: this.#context.model,
          requestId: this.#context.requestId,
          retryable: true,
        },
      );
    }
    const event: FinishEvent = {
      type: 'finish',
      finishReason: mapBedrockStopReason(this.#stopReason),
      usage: this.#usage ?? { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
      model: this.#context.model,
    };
    if (this.#stopReason !== undefined) event.rawFinishReason = this.#stopReason;
    if (this.#context.requestId !== undefined) {
      event.id = this.#context.requestId;
      event.requestId = this.#context.requestId;
    }
    return event;
  }

  #blockStart(payload: Json, out: StreamEvent[]): void {
    const start = isObject(payload.start) ? payload.start : undefined;
    const use = start && isObject(start.toolUse) ? start.toolUse : undefined;
    if (!use) return;
    const tool = this.#tool(payload.contentBlockIndex);
    const delta: StreamEvent = { type: 'tool-call-delta', index: tool.index, argumentsDelta: '' };
    if (typeof use.toolUseId === 'string') delta.id = use.toolUseId;
    if (typeof use.name === 'string') delta.name = use.name;
    out.push(delta);
  }

  #blockDelta(payload: Json, out: StreamEvent[]): void {
    const delta = isObject(payload.delta) ? payload.delta : undefined;
    if (!delta) return;
    if (typeof delta.text === 'string') {
      if (delta.text) out.push({ type: 'text-delta', text: delta.text });
      return;
    }
    if (isObject(delta.toolUse)) {
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
    let payload: unknown;
    try {
      payload = JSON.parse(frame.data);
    } catch (cause) {
      throw new LLMInvalidResponseError(
        `${this.#context.provider} sent a ${frame.event} event that is not JSON`,
        {
          provider: this.#context.provider,
          model: this.#context.model,
          requestId: this.#context.requestId,
          body: frame.data.slice(0, 2048),
          retryable: true,
          cause,
        },
      );
    }
    return isObject(payload) ? payload : {};
  }
}
