/**
 * ConverseStream frames → our stream events. Each frame is one eventstream message (decoded by
 * `http/eventstream.ts`): `messageStart`; `contentBlockStart` (a tool call's id and name; text and reasoning
 * blocks may have none); `contentBlockDelta` (text, `toolUse.input` fragments, or `reasoningContent` text,
 * signature or redacted bytes); `contentBlockStop` (where a tool call ends: its one `tool-call` event);
 * `messageStop` (the stop reason) and `metadata` (usage). Blocks share one `contentBlockIndex`: a new index
 * starts a new part. Bedrock sends `metadata` last; the stream is done once both `messageStop` and
 * `metadata` have arrived, or at the body's end after `messageStop`. Exception frames become the typed
 * error of the same exception as a response.
 *
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html
 */
import type { StreamFrame } from '../../http/frames.ts';
import { isRecord, type Json } from '../../spec/json.ts';
import type { ReasoningPart } from '../../spec/messages.ts';
import type { FinishEvent, StreamEvent, Usage } from '../../spec/types.ts';
import { MessageAssembler } from '../message-assembly.ts';
import { finishEvent, parseFrameJson, streamEndedEarly } from '../parse-helpers.ts';
import type { CallContext, StreamParser } from '../provider.ts';
import { mapBedrockStreamException } from './errors.ts';
import { mapBedrockStopReason, mapBedrockUsage } from './response.ts';

/** What a reasoning block has received so far (its signature or redacted bytes may come in pieces). */
interface ReasoningBlock {
  text: boolean;
  signature: string;
  redacted: string;
  /** The part its signature or redacted bytes went on, once there is one. */
  part?: ReasoningPart;
}

/** Reads one ConverseStream's frames; a new parser for every attempt. */
export class BedrockStreamParser implements StreamParser {
  #sawStop = false;
  #sawMetadata = false;
  #stopReason: string | undefined;
  #usage: Usage | undefined;
  /** The content block the last text or reasoning delta belonged to. */
  #block: number | undefined;
  readonly #reasoning = new Map<number, ReasoningBlock>();
  readonly #assembler = new MessageAssembler();
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
      case 'contentBlockStop': {
        const index = blockIndex(this.#json(frame));
        this.#assembler.endToolCall(index, out);
        // A reasoning block's signature may come in pieces: it is whole at the block's end.
        const signature = this.#reasoning.get(index)?.signature;
        if (signature) out.push({ type: 'reasoning-delta', text: '', signature });
        return;
      }
      case 'messageStop': {
        const payload = this.#json(frame);
        this.#sawStop = true;
        if (typeof payload.stopReason === 'string') this.#stopReason = payload.stopReason;
        this.#assembler.endOpenToolCalls(out);
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
      this.#assembler,
    );
  }

  #blockStart(payload: Json, out: StreamEvent[]): void {
    const start = isRecord(payload.start) ? payload.start : undefined;
    const use = start && isRecord(start.toolUse) ? start.toolUse : undefined;
    if (!use) return;
    this.#assembler.startToolCall(
      blockIndex(payload),
      typeof use.toolUseId === 'string' ? use.toolUseId : undefined,
      typeof use.name === 'string' ? use.name : undefined,
      out,
    );
  }

  #blockDelta(payload: Json, out: StreamEvent[]): void {
    const delta = isRecord(payload.delta) ? payload.delta : undefined;
    if (!delta) return;
    const index = blockIndex(payload);
    if (typeof delta.text === 'string') {
      this.#enter(index);
      this.#assembler.addText(delta.text, out);
    } else if (isRecord(delta.toolUse)) {
      const input = typeof delta.toolUse.input === 'string' ? delta.toolUse.input : '';
      this.#assembler.addToolCallArguments(index, input, out);
    } else if (isRecord(delta.reasoningContent)) this.#reasoningDelta(index, delta.reasoningContent, out);
  }

  /** A text or reasoning delta of block `index`: a block not seen before starts a new part. */
  #enter(index: number): void {
    if (this.#block !== index) this.#assembler.boundary();
    this.#block = index;
  }

  #reasoningDelta(index: number, reasoning: Json, out: StreamEvent[]): void {
    let block = this.#reasoning.get(index);
    if (!block) {
      block = { text: false, signature: '', redacted: '' };
      this.#reasoning.set(index, block);
    }
    if (typeof reasoning.text === 'string') {
      this.#enter(index);
      if (reasoning.text !== '') block.text = true;
      this.#assembler.addReasoning(reasoning.text, out);
    } else if (typeof reasoning.signature === 'string') {
      block.signature += reasoning.signature;
      this.#attach(index, block, { signature: block.signature });
    } else if (typeof reasoning.redactedContent === 'string') {
      block.redacted += reasoning.redactedContent;
      this.#attach(index, block, { redactedContent: block.redacted });
    }
  }

  /** Opaque state of reasoning block `index` onto its part (a part of its own when it showed no text). */
  #attach(index: number, block: ReasoningBlock, fields: Record<string, unknown>): void {
    if (block.part) {
      block.part.providerMetadata = { bedrock: { ...block.part.providerMetadata?.bedrock, ...fields } };
    } else if (block.text) {
      // Blocks arrive one after another: the last reasoning part is this block's.
      this.#assembler.annotate('reasoning', 'bedrock', fields);
    } else {
      this.#assembler.addOpaqueReasoning('bedrock', fields);
      block.part = this.#assembler.parts.at(-1) as ReasoningPart;
      this.#block = index;
    }
  }

  #json(frame: StreamFrame): Json {
    const payload = parseFrameJson(frame.data, this.#context, `a ${frame.event} event`);
    return isRecord(payload) ? payload : {};
  }
}

function blockIndex(payload: Json): number {
  return typeof payload.contentBlockIndex === 'number' ? payload.contentBlockIndex : -1;
}
