/**
 * Builds the assistant message from what a provider sends, whole or streamed, the same way for every
 * provider: text and reasoning in ordered parts (a provider's block boundary starts a new part), opaque
 * state attached to the part it belongs to, tool calls assembled by the provider's own key (OpenAI's
 * `index`, Anthropic's and Bedrock's block index, a counter for Gemini and Ollama) and numbered 0, 1, 2 in
 * the order they began.
 *
 * Stream parsers pass `out` and get the public events pushed into it: `text-delta`, `reasoning-delta`,
 * `tool-call-delta`, and one `tool-call` per call when the provider signals that the call ended — never
 * because the arguments so far happen to parse.
 */
import { randomUUID } from 'node:crypto';
import type { AssistantContentPart, ResultMessage, ToolCall, ToolCallPart } from '../spec/messages.ts';
import type { Warning } from '../spec/tools.ts';
import type { FinishReason, StreamEvent } from '../spec/types.ts';

interface OpenCall {
  ordinal: number;
  part: ToolCallPart;
  ended: boolean;
}

/** An id for a call the provider gave none (Gemini before 3, older Ollama): `call_` and 24 hex digits. */
export function syntheticToolCallId(): string {
  return `call_${randomUUID().replace(/-/g, '').slice(0, 24)}`;
}

export class MessageAssembler {
  readonly parts: AssistantContentPart[] = [];
  readonly warnings: Warning[] = [];
  /** Made at the first tool call: most answers have none. */
  #calls: Map<string | number, OpenCall> | undefined;
  readonly #ordered: ToolCallPart[] = [];
  #text = '';
  #reasoning = '';
  #hasReasoning = false;
  #boundary = false;

  /** The text parts joined. */
  get text(): string {
    return this.#text;
  }

  /** The reasoning parts joined, or undefined when there was none. */
  get reasoning(): string | undefined {
    return this.#hasReasoning ? this.#reasoning : undefined;
  }

  get hasToolCalls(): boolean {
    return this.#ordered.length > 0;
  }

  /** The next text or reasoning goes into a new part (a provider's content-block boundary). */
  boundary(): void {
    this.#boundary = true;
  }

  addText(delta: string, out?: StreamEvent[]): void {
    if (delta.length === 0) return;
    this.#append('text', delta);
    this.#text += delta;
    out?.push({ type: 'text-delta', text: delta });
  }

  addReasoning(delta: string, out?: StreamEvent[]): void {
    this.#hasReasoning = true;
    if (delta.length === 0) return;
    this.#append('reasoning', delta);
    this.#reasoning += delta;
    out?.push({ type: 'reasoning-delta', text: delta });
  }

  /** A reasoning part with no readable text (Anthropic `redacted_thinking`, Bedrock `redactedContent`). */
  addOpaqueReasoning(provider: string, fields: Record<string, unknown>): void {
    this.#hasReasoning = true;
    this.parts.push({ type: 'reasoning', text: '', providerMetadata: { [provider]: fields } });
    this.#boundary = true;
  }

  /**
   * Attaches opaque fields to the last part of `type` (a signature that arrives after its reasoning), or
   * to a new empty part of that type when there is none yet.
   */
  annotate(type: 'text' | 'reasoning', provider: string, fields: Record<string, unknown>): void {
    let target: AssistantContentPart | undefined;
    for (let i = this.parts.length - 1; i >= 0; i--) {
      const part = this.parts[i]!;
      if (part.type === type) {
        target = part;
        break;
      }
      if (part.type === 'tool-call') break;
    }
    if (!target) {
      const created: AssistantContentPart = { type, text: '' };
      this.parts.push(created);
      target = created;
      if (type === 'reasoning') this.#hasReasoning = true;
    }
    target.providerMetadata ??= {};
    target.providerMetadata[provider] = { ...target.providerMetadata[provider], ...fields };
  }

  #append(type: 'text' | 'reasoning', delta: string): void {
    const last = this.parts[this.parts.length - 1];
    if (!this.#boundary && last?.type === type) {
      last.text += delta;
      return;
    }
    this.#boundary = false;
    this.parts.push({ type, text: delta });
  }

  /** A call begins (its id and name, when known now). */
  startToolCall(
    key: string | number,
    id: string | undefined,
    name: string | undefined,
    out?: StreamEvent[],
    metadata?: ToolCallPart['providerMetadata'],
  ): void {
    this.#calls ??= new Map();
    if (this.#calls.has(key)) return;
    const part: ToolCallPart = {
      type: 'tool-call',
      id: id || syntheticToolCallId(),
      name: name ?? '',
      arguments: '',
    };
    if (metadata) part.providerMetadata = metadata;
    const call: OpenCall = { ordinal: this.#ordered.length, part, ended: false };
    this.#calls.set(key, call);
    this.#ordered.push(part);
    this.parts.push(part);
    this.#boundary = true;
    if (out) {
      const event: StreamEvent = { type: 'tool-call-delta', index: call.ordinal, argumentsDelta: '' };
      event.id = part.id;
      if (part.name) event.name = part.name;
      out.push(event);
    }
  }

  /** More of a call's arguments (its name too, when a compatible server sends it late). */
  addToolCallArguments(key: string | number, delta: string, out?: StreamEvent[], name?: string): void {
    let call = this.#calls?.get(key);
    if (!call) {
      this.startToolCall(key, undefined, name, out);
      call = this.#calls!.get(key)!;
    } else if (name && !call.part.name) call.part.name = name;
    if (delta.length === 0) return;
    call.part.arguments += delta;
    out?.push({ type: 'tool-call-delta', index: call.ordinal, argumentsDelta: delta });
  }

  /** The provider said the call is complete: `'{}'` for no arguments, one `tool-call` event. */
  endToolCall(key: string | number, out?: StreamEvent[]): void {
    const call = this.#calls?.get(key);
    if (!call || call.ended) return;
    call.ended = true;
    const part = call.part;
    if (part.arguments.trim() === '') part.arguments = '{}';
    else if (!isJson(part.arguments)) {
      this.warnings.push({
        code: 'tool-arguments-incomplete',
        message: `tool call ${part.id} (${part.name}): the arguments are not complete JSON (the answer was probably cut by maxTokens)`,
      });
    }
    out?.push({
      type: 'tool-call',
      index: call.ordinal,
      id: part.id,
      name: part.name,
      arguments: part.arguments,
    });
  }

  /** A call that arrives whole (Gemini, Ollama, a non-streamed body). */
  addToolCall(
    id: string | undefined,
    name: string,
    args: string,
    out?: StreamEvent[],
    metadata?: ToolCallPart['providerMetadata'],
  ): void {
    const key = `#whole${this.#ordered.length}`;
    this.startToolCall(key, id, name, out, metadata);
    this.addToolCallArguments(key, args, out);
    this.endToolCall(key, out);
  }

  /** Ends every call still open (OpenAI ends them all with its finish reason or `[DONE]`). */
  endOpenToolCalls(out?: StreamEvent[]): void {
    if (!this.#calls) return;
    for (const key of this.#calls.keys()) this.endToolCall(key, out);
  }

  toolCalls(): ToolCall[] {
    return this.#ordered.map((part) => ({ id: part.id, name: part.name, arguments: part.arguments }));
  }

  message(): ResultMessage {
    return { role: 'assistant', content: this.parts };
  }

  /**
   * The finish reason callers see: `tool-calls` whenever the model called a tool, whatever the provider
   * said (Gemini and Ollama say `STOP`/`stop`) — unless the answer was cut (`length`) or filtered.
   */
  finishReason(mapped: FinishReason): FinishReason {
    if (this.hasToolCalls && mapped !== 'length' && mapped !== 'content-filter') return 'tool-calls';
    return mapped;
  }
}

function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
