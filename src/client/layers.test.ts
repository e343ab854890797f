/**
 * The layer order the README and `layers.ts` state is the order the client composes: where the rate limiter
 * sits relative to retry is a claim the docs make, and this keeps it true.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { MemoryStore } from '../middleware/cache/memory-store.ts';
import { SpendTracker } from '../pricing/spend-tracker.ts';
import { layersFor } from './layers.ts';
import { resolveProvider } from './settings.ts';

/** The `a → b → c` diagram in `text`, as layer names. */
function diagram(text: string): string[] {
  const line = text.split('\n').find((candidate) => candidate.includes('→ retry →'));
  assert.ok(line, 'the text has the layer diagram');
  return line
    .replace(/^[\s*]+/, '')
    .split('→')
    .map((step) => step.trim().replace(/`/g, ''))
    .map((step) => ({ 'your middleware': 'yours', 'rate limit': 'rate-limit' })[step] ?? step);
}

test('the README and layers.ts describe the order the client composes', async () => {
  const { adapter } = resolveProvider('openai', { apiKey: 'test-key-not-real' }, {});
  const noop = { debug() {}, info() {}, warn() {}, error() {} };
  const { layers, inner } = layersFor(
    {
      middleware: [{ name: 'yours' }],
      logger: noop,
      tracing: true,
      metrics: true,
      spend: new SpendTracker(),
      cache: { store: new MemoryStore() },
      rateLimit: { requestsPerMinute: 60 },
    },
    adapter,
  );
  // The client puts retry between the two (llm-client.ts), and the provider at the core.
  const composed = [
    ...layers.map((layer) => layer.name),
    'retry',
    ...inner.map((layer) => layer.name),
    'provider',
  ];
  await Promise.all([...layers, ...inner].map((layer) => layer.close?.()));
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const comment = readFileSync(new URL('./layers.ts', import.meta.url), 'utf8');
  assert.deepEqual(diagram(readme), composed, 'README');
  assert.deepEqual(diagram(comment), composed, 'layers.ts');
});
