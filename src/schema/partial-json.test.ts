import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { PartialJsonParser } from './partial-json.ts';

/** Feeds `text` in pieces of the given sizes (cycled) and returns every snapshot. */
function feed(text: string, sizes: number[]): { parser: PartialJsonParser; snapshots: unknown[] } {
  const parser = new PartialJsonParser();
  const snapshots: unknown[] = [];
  let at = 0;
  for (let i = 0; at < text.length; i++) {
    const size = sizes[i % sizes.length]!;
    if (parser.push(text.slice(at, at + size))) snapshots.push(parser.value);
    at += size;
  }
  parser.end();
  return { parser, snapshots };
}

/** True when `partial` could grow into `final`: same keys so far, prefixes of strings, equal scalars. */
function grows(partial: unknown, final: unknown): boolean {
  if (typeof partial === 'string') return typeof final === 'string' && final.startsWith(partial);
  if (Array.isArray(partial)) {
    if (!Array.isArray(final) || partial.length > final.length) return false;
    return partial.every((item, i) =>
      i === partial.length - 1 ? grows(item, final[i]) : grows(item, final[i]),
    );
  }
  if (partial && typeof partial === 'object') {
    if (!final || typeof final !== 'object' || Array.isArray(final)) return false;
    return Object.entries(partial).every(
      ([key, value]) => key in final && grows(value, (final as Record<string, unknown>)[key]),
    );
  }
  return Object.is(partial, final) || (partial === 0 && final === 0);
}

test('any JSON value, cut anywhere, ends as JSON.parse reads it, and every snapshot grows into it', () => {
  fc.assert(
    fc.property(
      fc.jsonValue(),
      fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 5 }),
      (value, sizes) => {
        const text = JSON.stringify(value, null, sizes[0]! % 2 === 0 ? 2 : undefined);
        const { parser, snapshots } = feed(text, sizes);
        assert.equal(parser.error, undefined);
        assert.equal(parser.complete, true);
        assert.deepEqual(parser.value, JSON.parse(text));
        for (const snapshot of snapshots)
          assert.ok(grows(snapshot, JSON.parse(text)), `${JSON.stringify(snapshot)} ⊄ ${text}`);
      },
    ),
    { numRuns: 500 },
  );
});

test('each snapshot is a new object; what did not change is shared with the one before', () => {
  const text = JSON.stringify({ done: { a: [1, 2, 3] }, growing: 'a long string that grows' });
  const { snapshots } = feed(text, [3]);
  for (let i = 1; i < snapshots.length; i++) assert.notEqual(snapshots[i], snapshots[i - 1]);
  const late = snapshots.filter((s) => 'growing' in (s as object)) as Array<{
    done: unknown;
    growing: string;
  }>;
  assert.ok(late.length > 3);
  for (let i = 1; i < late.length; i++)
    assert.equal(late[i]!.done, late[0]!.done, 'a closed object is shared');
  // An earlier snapshot is not changed by later input.
  assert.equal(late[0]!.growing.length < late.at(-1)!.growing.length, true);
});

test('numbers and literals appear only when complete; strings as they grow', () => {
  const parser = new PartialJsonParser();
  parser.push('{"n": 12');
  assert.deepEqual(parser.value, {});
  parser.push('3, "s": "ab');
  assert.deepEqual(parser.value, { n: 123, s: 'ab' });
  parser.push('c\\u00e9\\n", "t": tr');
  assert.deepEqual(parser.value, { n: 123, s: 'abcé\n' });
  parser.push('ue}');
  assert.deepEqual(parser.value, { n: 123, s: 'abcé\n', t: true });
  assert.equal(parser.complete, true);
});

test('a piece that changes nothing reports no change (no snapshot to emit)', () => {
  const parser = new PartialJsonParser();
  assert.equal(parser.push('{'), true);
  assert.equal(parser.push('  '), false);
  assert.equal(parser.push('"ke'), false);
  assert.equal(parser.push('y":'), false);
  assert.equal(parser.push(' "v'), true);
});

test('text that is not JSON fails with a reason and stops changing', () => {
  for (const bad of ['{"a" 1 ]', '[1 2]', 'nope', '{"a":1}}', '{,}']) {
    const { parser } = feed(bad, [2]);
    assert.ok(parser.error, bad);
  }
});

test('long strings and arrays assemble from many small pieces', () => {
  const parser = new PartialJsonParser();
  parser.push('{"text": "');
  for (let i = 0; i < 100_000; i++) parser.push('word ');
  parser.push('", "items": [');
  for (let i = 0; i < 2_000; i++) parser.push(`${i === 0 ? '' : ','}${i}`);
  parser.push(']}');
  const value = parser.value as { text: string; items: number[] };
  assert.equal(value.text.length, 500_000);
  assert.equal(value.items.length, 2_000);
});

test('a "__proto__" key is an own property, as JSON.parse makes it, never the prototype', () => {
  // Found by the property test above (seed 711314270): `{"__proto__":false}` ended as `{}`.
  for (const text of ['{"__proto__":false}', '{"a":{"__proto__":{"polluted":"yes"}},"b":"__proto__"}']) {
    for (const sizes of [[1], [3], [text.length]]) {
      const { parser, snapshots } = feed(text, sizes);
      assert.deepEqual(parser.value, JSON.parse(text));
      for (const snapshot of snapshots) assert.equal(Object.getPrototypeOf(snapshot), Object.prototype);
      const inner = (parser.value as { a?: object }).a;
      if (inner) assert.equal((inner as { polluted?: string }).polluted, undefined, 'not inherited');
    }
  }
});
