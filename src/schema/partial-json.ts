/**
 * An incremental parser for JSON that arrives in pieces, giving after each piece the value so far: objects
 * with the keys whose values have begun, arrays with the elements begun, strings as far as they go; numbers,
 * `true`, `false` and `null` only once complete (a partial `12` may become `123`).
 *
 * Each piece is scanned once, and the value is rebuilt only along the path that changed (containers still
 * open are copied shallowly; finished ones are shared), so every snapshot is a new object that a UI can
 * compare by reference while consecutive snapshots share everything that did not change. A snapshot costs
 * the widths of the open containers, not the size of the answer; re-parsing the whole text at every piece
 * (what the AI SDK's `streamObject` does) is quadratic in the answer.
 *
 * Hand-written: no maintained library gives incremental parsing with immutable snapshots (see
 * bench/RESULTS.md, "streamObject").
 */

type Container = Record<string, unknown> | unknown[];

interface Frame {
  /** The container being filled; mutable until it closes. */
  draft: Container;
  /** Object: the key whose value is being read, once its string has ended. */
  key: string | undefined;
  /** Object: expecting a key (after `{` or `,`) rather than a value. */
  expectKey: boolean;
  /** A value has been placed in the current slot (so `,` or the closing bracket is next). */
  filled: boolean;
}

/** What the next character means: structure, string content, a number or literal, or nothing more. */
const Mode = { Value: 0, String: 1, Literal: 2, Done: 3 } as const;
type Mode = (typeof Mode)[keyof typeof Mode];

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const LITERAL_END = /[\s,\]}]/;
const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

export class PartialJsonParser {
  readonly #stack: Frame[] = [];
  #mode: Mode = Mode.Value;
  /** The root value once it is a scalar or a closed container. */
  #root: unknown;
  #hasRoot = false;
  /** The string being read: its decoded text so far, and whether it is an object key. */
  #string = '';
  #stringIsKey = false;
  #escape = '';
  #literal = '';
  #snapshot: unknown;
  #changed = false;
  #failed: string | undefined;

  /** The value so far (undefined until something has begun). Treat it as immutable. */
  get value(): unknown {
    return this.#snapshot;
  }

  /** True once the top-level value is complete. */
  get complete(): boolean {
    return this.#mode === Mode.Done;
  }

  /** Why the text is not JSON, once that is certain. */
  get error(): string | undefined {
    return this.#failed;
  }

  /** Feeds the next piece. True when the value changed (a new snapshot is in `value`). */
  push(piece: string): boolean {
    if (this.#failed !== undefined) return false;
    this.#changed = false;
    let i = 0;
    const length = piece.length;
    while (i < length) {
      if (this.#mode === Mode.String) {
        i = this.#readString(piece, i);
        continue;
      }
      const char = piece[i]!;
      if (this.#mode === Mode.Literal) {
        if (LITERAL_END.test(char)) {
          if (!this.#endLiteral()) return false;
          continue; // the delimiter is handled as a value-mode character
        }
        this.#literal += char;
        i++;
        continue;
      }
      if (this.#mode === Mode.Done) {
        if (!WHITESPACE.has(char)) return this.#fail(`unexpected ${JSON.stringify(char)} after the value`);
        i++;
        continue;
      }
      i++;
      if (WHITESPACE.has(char)) continue;
      if (!this.#structural(char)) return false;
    }
    if (this.#changed) this.#publish();
    return this.#changed;
  }

  /** Ends the input: a trailing number or literal completes; an open value is left as it is. */
  end(): void {
    if (this.#mode === Mode.Literal && this.#endLiteral() && this.#changed) this.#publish();
  }

  #fail(reason: string): false {
    this.#failed = reason;
    return false;
  }

  #structural(char: string): boolean {
    const frame = this.#stack[this.#stack.length - 1];
    if (frame && !Array.isArray(frame.draft) && frame.expectKey) {
      if (char === '"') {
        this.#mode = Mode.String;
        this.#string = '';
        this.#stringIsKey = true;
        return true;
      }
      if (char === '}' && !frame.filled) return this.#close('}');
      return this.#fail(`expected a key, got ${JSON.stringify(char)}`);
    }
    if (frame?.filled) {
      if (char === ',') {
        frame.filled = false;
        if (!Array.isArray(frame.draft)) frame.expectKey = true;
        return true;
      }
      if (char === '}' || char === ']') return this.#close(char);
      return this.#fail(`expected , or a closing bracket, got ${JSON.stringify(char)}`);
    }
    if (frame && !Array.isArray(frame.draft) && frame.key !== undefined && char === ':') return true;
    if (char === ']' && frame && Array.isArray(frame.draft) && frame.draft.length === 0)
      return this.#close(']');
    // A value begins.
    if (char === '{' || char === '[') {
      const draft: Container = char === '{' ? {} : [];
      this.#place(draft);
      this.#stack.push({ draft, key: undefined, expectKey: char === '{', filled: false });
      return true;
    }
    if (char === '"') {
      this.#mode = Mode.String;
      this.#string = '';
      this.#stringIsKey = false;
      this.#place('');
      return true;
    }
    if (char === '-' || (char >= '0' && char <= '9') || char === 't' || char === 'f' || char === 'n') {
      this.#mode = Mode.Literal;
      this.#literal = char;
      return true;
    }
    return this.#fail(`unexpected ${JSON.stringify(char)}`);
  }

  /** Reads string characters from `i`; returns the index after what it consumed. */
  #readString(piece: string, i: number): number {
    let run = i;
    const length = piece.length;
    while (i < length) {
      if (this.#escape) {
        const char = piece[i]!;
        this.#escape += char;
        i++;
        run = i;
        if (this.#escape.length === 2 && this.#escape !== '\\u') {
          this.#string += ESCAPES[char] ?? char;
          this.#escape = '';
        } else if (this.#escape.length === 6) {
          this.#string += String.fromCharCode(Number.parseInt(this.#escape.slice(2), 16));
          this.#escape = '';
        }
        continue;
      }
      const char = piece.charCodeAt(i);
      if (char === 34 /* " */ || char === 92 /* \ */) {
        if (i > run) this.#string += piece.slice(run, i);
        i++;
        run = i;
        if (char === 92) {
          this.#escape = '\\';
          continue;
        }
        this.#endString();
        return i;
      }
      i++;
    }
    if (i > run) this.#string += piece.slice(run, i);
    if (!this.#stringIsKey) this.#changed = true;
    return i;
  }

  #endString(): void {
    this.#mode = Mode.Value;
    if (this.#stringIsKey) {
      const frame = this.#stack[this.#stack.length - 1]!;
      frame.key = this.#string;
      frame.expectKey = false;
      return;
    }
    this.#setCurrent(this.#string);
    this.#string = '';
    this.#afterValue();
  }

  #endLiteral(): boolean {
    const text = this.#literal;
    this.#mode = Mode.Value;
    this.#literal = '';
    let value: unknown;
    if (text === 'true') value = true;
    else if (text === 'false') value = false;
    else if (text === 'null') value = null;
    else if (NUMBER.test(text)) value = Number(text);
    else return this.#fail(`${JSON.stringify(text)} is not a JSON value`);
    this.#place(value);
    this.#afterValue();
    return true;
  }

  /** Puts a new value in the current slot (object key or next array element), or makes it the root. */
  #place(value: unknown): void {
    this.#changed = true;
    const frame = this.#stack[this.#stack.length - 1];
    if (!frame) {
      this.#root = value;
      this.#hasRoot = true;
      return;
    }
    if (Array.isArray(frame.draft)) frame.draft.push(value);
    else setKey(frame.draft, frame.key!, value);
  }

  /** Replaces the value in the current slot (a string that grew). */
  #setCurrent(value: unknown): void {
    this.#changed = true;
    const frame = this.#stack[this.#stack.length - 1];
    if (!frame) {
      this.#root = value;
      return;
    }
    if (Array.isArray(frame.draft)) frame.draft[frame.draft.length - 1] = value;
    else setKey(frame.draft, frame.key!, value);
  }

  #afterValue(): void {
    const frame = this.#stack[this.#stack.length - 1];
    if (!frame) {
      this.#mode = Mode.Done;
      return;
    }
    frame.filled = true;
    frame.key = Array.isArray(frame.draft) ? undefined : frame.key;
  }

  #close(bracket: '}' | ']'): boolean {
    const frame = this.#stack.pop()!;
    if (Array.isArray(frame.draft) !== (bracket === ']')) return this.#fail(`unexpected ${bracket}`);
    this.#changed = true;
    if (this.#stack.length === 0) {
      this.#mode = Mode.Done;
      return true;
    }
    this.#afterValue();
    return true;
  }

  /** A new snapshot: open containers copied along the path, the string in progress in its slot. */
  #publish(): void {
    if (!this.#hasRoot) return;
    const stack = this.#stack;
    if (stack.length === 0) {
      this.#snapshot = this.#mode === Mode.String ? this.#string : this.#root;
      return;
    }
    let child: unknown;
    let hasChild = false;
    for (let depth = stack.length - 1; depth >= 0; depth--) {
      const frame = stack[depth]!;
      const copy: Container = Array.isArray(frame.draft) ? frame.draft.slice() : { ...frame.draft };
      if (depth === stack.length - 1) {
        if (this.#mode === Mode.String && !this.#stringIsKey) {
          if (Array.isArray(copy)) copy[copy.length - 1] = this.#string;
          else setKey(copy, frame.key!, this.#string);
        }
      } else if (hasChild) {
        if (Array.isArray(copy)) copy[copy.length - 1] = child;
        else setKey(copy, frame.key!, child);
      }
      child = copy;
      hasChild = true;
    }
    this.#snapshot = child;
  }
}

const ESCAPES: Record<string, string> = {
  '"': '"',
  '\\': '\\',
  '/': '/',
  b: '\b',
  f: '\f',
  n: '\n',
  r: '\r',
  t: '\t',
};

/**
 * Sets `key` as an own property, as JSON.parse does: a plain assignment of `__proto__` would set the
 * object's prototype instead (dropping the value, or worse, taking an object's properties as inherited).
 */
function setKey(object: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(object, key, { value, writable: true, enumerable: true, configurable: true });
  else object[key] = value;
}
