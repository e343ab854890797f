/**
 * A deterministic measure of how much text a piece of code looks at, so that a test can tell a linear
 * decoder from a quadratic one without timing anything: while `run` runs, the built-in primitives that
 * scan or copy strings and bytes are wrapped to add up the characters (or bytes) each one goes over.
 *
 * Counted: `indexOf` / `includes` / `lastIndexOf` (up to the match), `search`, `match`, `matchAll`,
 * `replace`, `replaceAll`, `split`, `trim*`, `RegExp` `exec` / `test`, `JSON.parse`, `Array#join` (the
 * joined length), `Buffer.byteLength`, `Buffer.concat` and typed-array `set` (bytes copied). A decoder that
 * re-scans or re-flattens its whole pending buffer on every chunk shows up here through the first call
 * that touches the flattened string. `run` must be synchronous: nothing else runs while the wrappers are
 * in place, and they are always removed.
 */

type AnyFunction = (this: unknown, ...args: unknown[]) => unknown;

interface Patch {
  target: object;
  name: PropertyKey;
  /** `before`: what `before(self)` returned just before the call (a regular expression's `lastIndex`). */
  cost: (self: unknown, args: unknown[], result: unknown, before: number) => number;
  before?: (self: unknown) => number;
}

const length = (value: unknown): number =>
  typeof value === 'string' || ArrayBuffer.isView(value) || Array.isArray(value)
    ? (value as { length: number }).length
    : 0;

/** Characters an `indexOf`-style search went over, from its start to the match (or the end). */
function searched(self: unknown, args: unknown[], result: unknown): number {
  const text = String(self);
  const from = Math.max(0, Number(args[1] ?? 0) || 0);
  const found =
    typeof result === 'number' ? result : result === true ? text.indexOf(String(args[0]), from) : -1;
  return (found === -1 ? text.length : found + String(args[0]).length) - from;
}

const wholeString = (self: unknown): number => length(String(self));

/** Where a regular expression's next search starts. */
function regExpStart(self: unknown): number {
  const regExp = self as RegExp;
  return regExp.global || regExp.sticky ? regExp.lastIndex : 0;
}
const TYPED_ARRAY_PROTOTYPE = Object.getPrototypeOf(Uint8Array.prototype) as object;

const PATCHES: Patch[] = [
  { target: String.prototype, name: 'indexOf', cost: searched },
  { target: String.prototype, name: 'includes', cost: searched },
  { target: String.prototype, name: 'lastIndexOf', cost: wholeString },
  ...(
    ['search', 'match', 'matchAll', 'replace', 'replaceAll', 'split', 'trim', 'trimStart', 'trimEnd'] as const
  ).map((name): Patch => ({ target: String.prototype, name, cost: wholeString })),
  {
    // From where the search started to the end of the match (or of the input).
    target: RegExp.prototype,
    name: 'exec',
    before: regExpStart,
    cost: (_self, args, result, start) => {
      const match = result as RegExpExecArray | null;
      return (match ? match.index + match[0].length : length(String(args[0]))) - start;
    },
  },
  {
    target: RegExp.prototype,
    name: 'test',
    before: regExpStart,
    cost: (self, args, result, start) => {
      const regExp = self as RegExp;
      const end = result && (regExp.global || regExp.sticky) ? regExp.lastIndex : length(String(args[0]));
      return end - start;
    },
  },
  { target: JSON, name: 'parse', cost: (_self, args) => length(args[0]) },
  { target: Array.prototype, name: 'join', cost: (_self, _args, result) => length(result) },
  { target: Buffer, name: 'byteLength', cost: (_self, args) => length(args[0]) },
  { target: Buffer, name: 'concat', cost: (_self, _args, result) => length(result) },
  { target: TYPED_ARRAY_PROTOTYPE, name: 'set', cost: (_self, args) => length(args[0]) },
];

/** Runs `run` and returns how many characters (or bytes) the counted primitives went over meanwhile. */
export function countScannedCharacters(run: () => void): number {
  let total = 0;
  let counting = true;
  const originals: Array<{ target: object; name: PropertyKey; original: AnyFunction }> = [];
  try {
    for (const patch of PATCHES) {
      const original = Reflect.get(patch.target, patch.name) as AnyFunction;
      originals.push({ target: patch.target, name: patch.name, original });
      Reflect.set(patch.target, patch.name, function (this: unknown, ...args: unknown[]) {
        const before = counting && patch.before ? patch.before(this) : 0;
        const result = original.apply(this, args);
        if (counting) {
          // The cost functions use the wrapped primitives themselves: count nothing meanwhile.
          counting = false;
          try {
            total += patch.cost(this, args, result, before);
          } finally {
            counting = true;
          }
        }
        return result;
      });
    }
    run();
  } finally {
    counting = false;
    for (const { target, name, original } of originals) Reflect.set(target, name, original);
  }
  return total;
}
