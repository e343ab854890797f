/**
 * Function calls in a Gemini stream → `tool-call-delta` events. Most models send each call whole, in one
 * part (`{name, args}`): one delta with the name and the whole arguments. With streamed arguments
 * (Vertex `streamFunctionCallArguments`) a call arrives in pieces: `{name, willContinue: true}`, then
 * `partialArgs` (`{jsonPath, stringValue|numberValue|boolValue|nullValue, willContinue}`), then an empty
 * `{}` that closes it. The pieces are assembled here and the arguments sent as one delta when the call
 * closes, so every call's deltas join into valid JSON.
 */

import { isRecord, type Json } from '../../spec/json.ts';
import type { StreamEvent } from '../../spec/types.ts';

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

/** Tracks the calls of one stream: their indexes, and the one being assembled from pieces. */
export class StreamedToolCalls {
  /** Calls seen so far (the next call's index). */
  count = 0;
  #open: { index: number; args: Json } | undefined;

  /** One `functionCall` part. */
  onFunctionCall(call: Json, out: StreamEvent[]): void {
    const partials = Array.isArray(call.partialArgs) ? call.partialArgs : undefined;
    const continues = call.willContinue === true;
    if (typeof call.name === 'string' && call.name) {
      this.close(out);
      const index = this.count++;
      const id = typeof call.id === 'string' && call.id ? call.id : `call_${index}`;
      if (!continues && !partials) {
        out.push({
          type: 'tool-call-delta',
          index,
          id,
          name: call.name,
          argumentsDelta: JSON.stringify(call.args ?? {}),
        });
        return;
      }
      out.push({ type: 'tool-call-delta', index, id, name: call.name, argumentsDelta: '' });
      this.#open = { index, args: isRecord(call.args) ? { ...call.args } : {} };
    }
    // A piece with no call started has nothing to belong to.
    if (!this.#open) return;
    for (const partial of partials ?? []) applyPartialArg(this.#open.args, partial);
    if (!continues) this.close(out);
  }

  /** Sends the assembled arguments of a call still open. */
  close(out: StreamEvent[]): void {
    if (!this.#open) return;
    out.push({
      type: 'tool-call-delta',
      index: this.#open.index,
      argumentsDelta: JSON.stringify(this.#open.args),
    });
    this.#open = undefined;
  }
}
