/**
 * Function calls in a Gemini response → tool-call parts and events. Most models send each call whole, in
 * one part (`{name, args}`): one call, ended at once (Gemini's end-of-call signal is the part itself). With
 * streamed arguments (Vertex `streamFunctionCallArguments`) a call arrives in pieces: `{name, willContinue:
 * true}`, then `partialArgs` (`{jsonPath, stringValue|numberValue|boolValue|nullValue, willContinue}`), then
 * an empty `{}` that closes it. The pieces are assembled here and the arguments sent as one delta when the
 * call closes, so every call's deltas join into valid JSON. Calls carry no index: each gets the next one.
 */

import { isRecord, type Json } from '../../spec/json.ts';
import type { ProviderMetadata } from '../../spec/messages.ts';
import type { StreamEvent } from '../../spec/types.ts';
import type { MessageAssembler } from '../message-assembly.ts';

type PathSegment = string | number;
const SEGMENT = /\.([^.[\]]+)|\[(\d+)\]|\['([^']*)'\]|\["([^"]*)"\]/g;

/** `$.a.b[0]['c d']` → ['a', 'b', 0, 'c d']; undefined for anything else. */
export function parseJsonPath(path: string): PathSegment[] | undefined {
  if (!path.startsWith('$')) return undefined;
  const segments: PathSegment[] = [];
  let consumed = 1;
  for (const match of path.slice(1).matchAll(SEGMENT)) {
    if (match.index + 1 !== consumed) return undefined;
    consumed += match[0].length;
    if (match[2] !== undefined) segments.push(Number(match[2]));
    else segments.push((match[1] ?? match[3] ?? match[4])!);
  }
  return consumed === path.length && segments.length > 0 ? segments : undefined;
}

/** Applies one `partialArgs` entry; string pieces for the same path are appended. */
export function applyPartialArg(args: Json, partial: unknown): void {
  if (!isRecord(partial) || typeof partial.jsonPath !== 'string') return;
  const path = parseJsonPath(partial.jsonPath);
  if (!path) return;
  let value: unknown;
  let append = false;
  if (typeof partial.stringValue === 'string') {
    value = partial.stringValue;
    append = true;
  } else if ('numberValue' in partial) value = partial.numberValue;
  else if ('boolValue' in partial) value = partial.boolValue;
  else if ('nullValue' in partial) value = null;
  else return;
  let container: Record<PathSegment, unknown> = args;
  for (let i = 0; i < path.length - 1; i++) {
    const segment = path[i]!;
    // What is there already (an object, or an array the path runs through) is kept.
    if (typeof container[segment] !== 'object' || container[segment] === null)
      container[segment] = typeof path[i + 1] === 'number' ? [] : {};
    container = container[segment] as Record<PathSegment, unknown>;
  }
  const last = path.at(-1)!;
  const existing = container[last];
  container[last] = append && typeof existing === 'string' ? existing + (value as string) : value;
}

/** The opaque state a call carries: its thought signature, and whether we made its id up. */
function callState(id: string | undefined, signature: string | undefined): ProviderMetadata {
  const gemini: Json = {};
  if (signature !== undefined) gemini.thoughtSignature = signature;
  if (id === undefined) gemini.syntheticId = true;
  return { gemini };
}

/**
 * The calls of one response, into the message: a whole call at once (`addToolCall`, its own index even when
 * it has the same name as the one before), a call in pieces from its first piece to its closing `{}`.
 */
export class StreamedToolCalls {
  readonly #assembler: MessageAssembler;
  #pieces = 0;
  #open: { key: string; args: Json } | undefined;

  constructor(assembler: MessageAssembler) {
    this.#assembler = assembler;
  }

  /** One `functionCall` part, with the part's `thoughtSignature` when it has one. */
  onFunctionCall(call: Json, signature: string | undefined, out?: StreamEvent[]): void {
    const partials = Array.isArray(call.partialArgs) ? call.partialArgs : undefined;
    const continues = call.willContinue === true;
    if (typeof call.name === 'string' && call.name) {
      this.close(out);
      const id = typeof call.id === 'string' && call.id ? call.id : undefined;
      const state = callState(id, signature);
      if (!continues && !partials) {
        this.#assembler.addToolCall(id, call.name, JSON.stringify(call.args ?? {}), out, state);
        return;
      }
      const key = `pieces-${this.#pieces++}`;
      this.#assembler.startToolCall(key, id, call.name, out, state);
      this.#open = { key, args: isRecord(call.args) ? { ...call.args } : {} };
    }
    // A piece with no call started has nothing to belong to.
    if (!this.#open) return;
    for (const partial of partials ?? []) applyPartialArg(this.#open.args, partial);
    if (!continues) this.close(out);
  }

  /** Ends a call still open: its assembled arguments as one delta, then its `tool-call` event. */
  close(out?: StreamEvent[]): void {
    if (!this.#open) return;
    this.#assembler.addToolCallArguments(this.#open.key, JSON.stringify(this.#open.args), out);
    this.#assembler.endToolCall(this.#open.key, out);
    this.#open = undefined;
  }
}
