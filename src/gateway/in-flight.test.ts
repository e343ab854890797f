/**
 * The gateway's in-flight list (in-flight.ts): a set that adds and takes out at the request rate without a
 * hash table, iterated at shutdown while entries leave. What the class exists for — a link that has left
 * holds neither its value nor its neighbours, so no dead link keeps a young response alive through a
 * scavenge — only the garbage collector can see; bench/RESULTS.md measures it (what was promoted with a
 * `Set`, and without).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InFlight } from './in-flight.ts';

describe('InFlight', () => {
  test('holds what was added and not yet taken out, newest first, whatever the order they leave in', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.nat()), { maxLength: 200 }), (steps) => {
        const list = new InFlight<{ n: number }>();
        const model = new Map<{ n: number }, () => void>();
        let n = 0;
        for (const [adding, pick] of steps) {
          if (adding || model.size === 0) {
            const entry = { n: n++ };
            model.set(entry, list.add(entry));
          } else {
            const entry = [...model.keys()][pick % model.size]!;
            model.get(entry)!();
            model.delete(entry);
          }
          assert.equal(list.size, model.size);
        }
        assert.deepEqual(
          [...list].map((entry) => entry.n),
          [...model.keys()].map((entry) => entry.n).sort((a, b) => b - a),
        );
      }),
    );
  });

  test('taking an entry out twice, or after others left, changes nothing more', () => {
    const list = new InFlight<{ id: string }>();
    const a = { id: 'a' };
    const b = { id: 'b' };
    const removeA = list.add(a);
    const removeB = list.add(b);
    removeA();
    removeA();
    assert.equal(list.size, 1);
    assert.deepEqual([...list], [b]);
    removeB();
    removeA();
    assert.equal(list.size, 0);
    assert.deepEqual([...list], []);
  });

  test('iterating while entries leave sees every entry there when it began', () => {
    const list = new InFlight<{ id: number }>();
    const removers = Array.from({ length: 5 }, (_, id) => list.add({ id }));
    const seen: number[] = [];
    for (const entry of list) {
      seen.push(entry.id);
      removers[entry.id]!();
      if (entry.id === 4) removers[3]!();
    }
    assert.deepEqual(seen, [4, 3, 2, 1, 0]);
    assert.equal(list.size, 0);
  });
});
