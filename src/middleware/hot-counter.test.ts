/**
 * The hot counter reports what prom-client's own counter reports for the same increments: fed side by side
 * with random label values and amounts, their expositions are the same text; a series counted at 0 shows, a
 * reset empties it, and bad amounts throw at once (not at the next scrape).
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type * as PromClient from 'prom-client';
import { hotCounterClass } from './hot-counter.ts';

const prom = createRequire(import.meta.url)('prom-client') as typeof PromClient;
const Hot = hotCounterClass(prom);
const labelNames = ['endpoint', 'model', 'key', 'status'] as const;

function pair(name: string) {
  const registry = new prom.Registry();
  const hot = new Hot({ name: `${name}_hot`, help: 'h', labelNames, registers: [registry] });
  const plain = new prom.Counter({ name: `${name}_plain`, help: 'h', labelNames, registers: [registry] });
  const text = async () => {
    const body = await registry.metrics();
    const series = (suffix: string) =>
      body
        .split('\n')
        .filter((line) => line.startsWith(`${name}_${suffix}{`))
        .map((line) => line.slice(`${name}_${suffix}`.length))
        .sort();
    return { hot: series('hot'), plain: series('plain') };
  };
  return { registry, hot, plain, text };
}

describe('hot counter', () => {
  test('reports what a prom-client counter reports for the same increments', async () => {
    const value = fc.constantFrom('a', 'b', 'chat', 'x y', 'é', '');
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.tuple(
            // Eighths: their sums are exact in any order, as the two counters add them in different ones.
            fc.integer({ min: 0, max: 8_000_000 }).map((n) => n / 8),
            value,
            value,
            value,
            value,
            fc.boolean(),
          ),
          { maxLength: 60 },
        ),
        async (steps) => {
          const { hot, plain, text } = pair('same');
          for (const [by, a, b, c, d, scrape] of steps) {
            hot.add(by, a, b, c, d);
            plain.inc({ endpoint: a, model: b, key: c, status: d }, by);
            // Scrapes in between: what was added since is added once, not again.
            if (scrape) await text();
          }
          const { hot: fromHot, plain: fromPlain } = await text();
          assert.deepEqual(fromHot, fromPlain);
        },
      ),
      { numRuns: 200 },
    );
  });

  test('a series counted at 0 shows; a reset empties the counter', async () => {
    const { hot, plain, registry, text } = pair('zero');
    hot.add(0, 'chat', 'm', 'k', '200');
    plain.inc({ endpoint: 'chat', model: 'm', key: 'k', status: '200' }, 0);
    assert.deepEqual((await text()).hot, ['{endpoint="chat",model="m",key="k",status="200"} 0']);
    hot.add(2, 'chat', 'm', 'k', '200');
    registry.resetMetrics();
    assert.deepEqual((await text()).hot, []);
    hot.add(3, 'chat', 'm', 'k', '200');
    assert.deepEqual((await text()).hot, ['{endpoint="chat",model="m",key="k",status="200"} 3']);
  });

  test('a negative or non-finite amount throws when added', async () => {
    const { hot, text } = pair('bad');
    assert.throws(() => hot.add(-1, 'a', 'b', 'c', 'd'), /decrease/);
    assert.throws(() => hot.add(Number.NaN, 'a', 'b', 'c', 'd'), /not a valid number/);
    assert.throws(() => hot.add(Number.POSITIVE_INFINITY, 'a', 'b', 'c', 'd'), /not a valid number/);
    assert.deepEqual((await text()).hot, []);
  });
});
