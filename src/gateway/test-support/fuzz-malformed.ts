/**
 * Bodies that are wrong in every way a client, a proxy or an attacker gets them wrong, each derived from a
 * valid one (fuzz-valid.ts) so that it reaches deep into the gateway: JSON of the wrong type at any field, a
 * required field gone, truncated or invalid JSON, bytes that are not UTF-8, numbers at the edges of IEEE 754,
 * nesting far deeper than any real request, huge strings, `__proto__` / `constructor` keys.
 *
 * Each case says what the gateway must do with it: `client-error` (a 4xx, always), or `no-server-error` (a
 * 4xx, or a 2xx when the change happened to leave the body valid: a field the API takes in many types).
 */
import fc from 'fast-check';
import { type Json, CHAT_MODELS as KNOWN_MODELS } from './fuzz-valid.ts';

export interface MalformedBody {
  kind: string;
  body: Buffer;
  expect: 'client-error' | 'no-server-error';
}

type Path = Array<string | number>;

/** Every path to a value inside `value` (not the root itself). */
export function pathsOf(value: Json, prefix: Path = []): Path[] {
  if (Array.isArray(value))
    return value.flatMap((item, index) => [[...prefix, index], ...pathsOf(item, [...prefix, index])]);
  if (value !== null && typeof value === 'object')
    return Object.entries(value).flatMap(([key, item]) => [
      [...prefix, key],
      ...pathsOf(item, [...prefix, key]),
    ]);
  return [];
}

/** Paths to the objects inside `value`, the root included. */
function objectPaths(value: Json): Path[] {
  const isObject = (item: Json) => item !== null && typeof item === 'object' && !Array.isArray(item);
  const inner = pathsOf(value).filter((path) => isObject(valueAt(value, path)));
  return isObject(value) ? [[], ...inner] : inner;
}

function valueAt(value: Json, path: Path): Json {
  let at: Json = value;
  for (const step of path) at = (at as Record<string | number, Json>)[step] as Json;
  return at;
}

/** A deep copy of `value` with the value at `path` replaced (or removed when `replacement` is undefined). */
function replaced(value: Json, path: Path, replacement: Json | undefined): Json {
  const copy = structuredClone(value);
  const parent = valueAt(copy, path.slice(0, -1)) as Record<string | number, Json>;
  const last = path.at(-1)!;
  if (replacement !== undefined) parent[last] = replacement;
  else if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last];
  return copy;
}

/**
 * Raw JSON text spliced where a marker string stands: lets a body carry what `JSON.stringify` cannot write
 * (`1e400`, a `__proto__` key, nesting deeper than its stack, bytes that are not UTF-8).
 */
const MARKER = '\u0001raw\u0001';
const MARKER_JSON = JSON.stringify(MARKER);

function withRaw(value: Json, raw: Buffer | string): Buffer {
  const text = JSON.stringify(value);
  const at = text.indexOf(MARKER_JSON);
  const rawBytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  return Buffer.concat([
    Buffer.from(text.slice(0, at), 'utf8'),
    rawBytes,
    Buffer.from(text.slice(at + MARKER_JSON.length), 'utf8'),
  ]);
}

const typeOf = (value: Json | undefined) =>
  value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value;

/** A JSON value of any type, small or not. */
const anyJson: fc.Arbitrary<Json> = fc.oneof(
  fc.constantFrom<Json>(null, true, false, 0, -1, '', [], {}, ' ', '0', 'null', [null], { '': null }),
  fc.integer() as fc.Arbitrary<Json>,
  fc.double({ noNaN: true, noDefaultInfinity: true }) as fc.Arbitrary<Json>,
  fc.string({ unit: 'binary', maxLength: 40 }) as fc.Arbitrary<Json>,
  fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<Json>,
);

/** Numbers at the edges: what JSON can spell and JavaScript reads oddly. */
const EDGE_NUMBERS = [
  '1e400',
  '-1e400',
  '1e308',
  '-0',
  '5e-324',
  '9007199254740993',
  '0.5',
  '-1',
  '0',
  '1E2',
  '100000000000000000000000',
];

/** Strings no client should send but JSON can carry: lone surrogates, NUL, BOMs, non-characters. */
const ODD_STRINGS = [
  '"\\ud800"',
  '"\\udfff\\ud800"',
  '"\\u0000"',
  '"\\ufeff"',
  '"\\uffff"',
  '"\\ufffe"',
  `"${'\\u0301'.repeat(5000)}"`,
];

/** Byte sequences that are not UTF-8 (lone continuation, overlong, an encoded surrogate, a cut sequence). */
const BAD_UTF8 = [
  [0xff],
  [0xc0, 0xaf],
  [0xed, 0xa0, 0x80],
  [0xe2, 0x82],
  [0x80],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
];

/** Keys that reach `Object.prototype` in code that merges or assigns by key. */
const PROTO_KEYS = [
  '"__proto__":{"polluted":"yes","toString":1}',
  '"constructor":{"prototype":{"polluted":"yes"}}',
  '"__proto__":null',
  '"prototype":{"polluted":"yes"}',
  '"hasOwnProperty":1',
];

/** Every way `valid` can be broken. `required` names the fields whose absence the API refuses. */
export function malformed(
  valid: fc.Arbitrary<Json>,
  required: readonly string[],
): fc.Arbitrary<MalformedBody> {
  return valid.chain((body) => {
    const text = JSON.stringify(body);
    const paths = pathsOf(body);
    const path = fc.constantFrom(...paths);
    const objects = fc.constantFrom(...objectPaths(body));
    const stringPaths = paths.filter((at) => typeof valueAt(body, at) === 'string');
    const numberPaths = paths.filter((at) => typeof valueAt(body, at) === 'number');
    const cases: Array<fc.Arbitrary<MalformedBody>> = [
      // Any field, any other type (or gone).
      fc
        .tuple(path, anyJson, fc.boolean())
        .filter(([at, value]) => typeOf(value) !== typeOf(valueAt(body, at)))
        .map(([at, value, remove]) => ({
          kind: `${remove ? 'removed' : 'wrong type at'} ${at.join('.')}`,
          body: Buffer.from(JSON.stringify(replaced(body, at, remove ? undefined : value))),
          expect: 'no-server-error' as const,
        })),
      // A required field gone or of the wrong type: always refused.
      fc
        .tuple(
          fc.constantFrom(...required),
          fc.constantFrom<Json | undefined>(undefined, null, -1, true, [], {}),
        )
        .map(([field, value]) => ({
          kind: `required ${field} ${value === undefined ? 'missing' : `= ${JSON.stringify(value)}`}`,
          body: Buffer.from(JSON.stringify(replaced(body, [field], value))),
          expect: 'client-error' as const,
        })),
      // A model this gateway does not serve: any string, long ones included (each would be a metric series).
      ...('model' in (body as object)
        ? [
            fc
              .oneof(
                fc.string({ unit: 'binary', minLength: 1, maxLength: 80 }),
                fc.string({ minLength: 1, maxLength: 8 }).map((stem) => stem.repeat(4_000)),
              )
              .filter((model) => !(KNOWN_MODELS as readonly string[]).includes(model))
              .map((model) => ({
                kind: `model ${JSON.stringify(model.slice(0, 40))} (${model.length} characters)`,
                body: Buffer.from(JSON.stringify(replaced(body, ['model'], model))),
                expect: 'client-error' as const,
              })),
          ]
        : []),
      // The body cut anywhere: never JSON.
      fc.integer({ min: 0, max: text.length - 1 }).map((end) => ({
        kind: `truncated at ${end} of ${text.length}`,
        body: Buffer.from(text.slice(0, end)),
        expect: 'client-error' as const,
      })),
      // Not a JSON object at all.
      fc
        .oneof(
          fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
          fc.string({ unit: 'binary', maxLength: 100 }).map((value) => Buffer.from(value)),
          anyJson
            .filter((value) => typeOf(value) !== 'object')
            .map((value) => Buffer.from(JSON.stringify(value))),
          fc
            .constantFrom('', ' ', '\ufeff{}', '{}{}', '{"model":1,}', "{'model':'openai'}", 'NaN', '[]')
            .map((value) => Buffer.from(value)),
        )
        .filter((bytes) => !isJsonObject(bytes))
        .map((bytes) => ({ kind: 'not a JSON object', body: bytes, expect: 'client-error' as const })),
      // Numbers JSON can spell that JavaScript reads as Infinity, -0, a lost integer…
      ...(numberPaths.length > 0
        ? [
            fc.tuple(fc.constantFrom(...numberPaths), fc.constantFrom(...EDGE_NUMBERS)).map(([at, raw]) => ({
              kind: `number ${raw} at ${at.join('.')}`,
              body: withRaw(replaced(body, at, MARKER), raw),
              expect: 'no-server-error' as const,
            })),
          ]
        : []),
      // Strings with lone surrogates, NUL, BOM; bytes that are not UTF-8 inside a string.
      ...(stringPaths.length > 0
        ? [
            fc.tuple(fc.constantFrom(...stringPaths), fc.constantFrom(...ODD_STRINGS)).map(([at, raw]) => ({
              kind: `odd string ${raw.slice(0, 20)} at ${at.join('.')}`,
              body: withRaw(replaced(body, at, MARKER), raw),
              expect: 'no-server-error' as const,
            })),
            fc.tuple(fc.constantFrom(...stringPaths), fc.constantFrom(...BAD_UTF8)).map(([at, bytes]) => ({
              kind: `bytes ${bytes.join(',')} (not UTF-8) in the string at ${at.join('.')}`,
              body: withRaw(
                replaced(body, at, MARKER),
                Buffer.concat([Buffer.from('"x'), Buffer.from(bytes), Buffer.from('y"')]),
              ),
              expect: 'no-server-error' as const,
            })),
          ]
        : []),
      // Nesting deeper than any real request (refused), or merely deep (answered either way).
      fc
        .tuple(
          path,
          fc.oneof(fc.integer({ min: 1, max: 100 }), fc.constantFrom(1_000, 10_000, 100_000, 1_000_000)),
          fc.boolean(),
        )
        .map(([at, depth, arrays]) => ({
          kind: `nested ${depth} deep (${arrays ? 'arrays' : 'objects'}) at ${at.join('.')}`,
          body: withRaw(
            replaced(body, at, MARKER),
            arrays
              ? `${'['.repeat(depth)}${']'.repeat(depth)}`
              : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
          ),
          expect: depth > 256 ? ('client-error' as const) : ('no-server-error' as const),
        })),
      // Keys that pollute prototypes where code assigns by key.
      fc.tuple(objects, fc.constantFrom(...PROTO_KEYS)).map(([at, raw]) => {
        const target = valueAt(body, at) as Record<string, Json>;
        const withMarker = replaced(body, at, { ...target, [MARKER]: null });
        const bytes = JSON.stringify(withMarker).replace(`${MARKER_JSON}:null`, raw);
        return {
          kind: `${raw.slice(0, 24)} at ${at.join('.') || 'the root'}`,
          body: Buffer.from(bytes),
          expect: 'no-server-error' as const,
        };
      }),
    ];
    return fc.oneof(...cases);
  });
}

function isJsonObject(bytes: Buffer): boolean {
  try {
    const value = JSON.parse(bytes.toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value);
  } catch {
    return false;
  }
}

/**
 * A valid body with one of its strings (anywhere: a message's content reaches the provider) made `sizeBytes`
 * long, under the body limit: words, so that counting its tokens stays linear.
 */
export function huge(valid: fc.Arbitrary<Json>, sizeBytes: number): fc.Arbitrary<MalformedBody> {
  const filler = 'lorem ipsum dolor sit amet '.repeat(Math.ceil(sizeBytes / 27)).slice(0, sizeBytes);
  return valid.chain((body) => {
    const strings = pathsOf(body).filter((at) => typeof valueAt(body, at) === 'string');
    return fc.constantFrom(...strings).map((at) => ({
      kind: `a string of ${sizeBytes} bytes at ${at.join('.')}`,
      body: Buffer.from(JSON.stringify(replaced(body, at, filler))),
      expect: 'no-server-error' as const,
    }));
  });
}
