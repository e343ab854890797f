/**
 * `embed`: the vectors with what they cost. Usage is the provider's own count, summed over the batches a
 * call was split into, priced from the table; a cache hit costs nothing; a provider that reports no count
 * gives no usage rather than a guess.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import { MemoryStore } from '../middleware/cache/memory-store.ts';
import { openai } from '../middleware/test-support/harness.ts';
import { costOf } from '../pricing/pricing.ts';
import { createClient } from './factory.ts';

const TEXTS = ['the first document, a short one', 'a second', 'and a third, longer than both of the others'];

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(() => emulator.close());

/** The prompt tokens the emulator reports for `texts` in one request, asked over plain HTTP. */
async function reportedTokens(texts: string[]): Promise<number> {
  const response = await fetch(`${emulator.url}/v1/embeddings`, {
    method: 'POST',
    headers: { authorization: 'Bearer test-key-not-real', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'text-embedding-3-small', input: texts }),
  });
  const body = (await response.json()) as { usage: { prompt_tokens: number } };
  return body.usage.prompt_tokens;
}

describe('embed: vectors with their usage and cost', () => {
  test('usage is the sum of every batch the provider reported, priced', async (t) => {
    const client = openai(emulator);
    t.after(() => client.close());
    const result = await client.embed(TEXTS, { batchSize: 1 });
    let expected = 0;
    for (const text of TEXTS) expected += await reportedTokens([text]);
    assert.equal(result.embeddings.length, 3);
    assert.deepEqual(result.embeddings, await client.generateEmbeddings(TEXTS));
    assert.equal(result.model, 'text-embedding-3-small');
    assert.equal(result.usage?.inputTokens, expected, 'three batches of one, added up');
    assert.equal(result.usage?.outputTokens, 0);
    assert.equal(result.usage?.totalTokens, expected);
    const price = costOf('openai', 'text-embedding-3-small', {
      inputTokens: expected,
      outputTokens: 0,
      totalTokens: expected,
    });
    assert.ok(price !== undefined && price > 0);
    assert.ok(
      Math.abs((result.usage?.costUsd ?? -1) - price) < 1e-12,
      `${result.usage?.costUsd} vs ${price}`,
    );
  });

  test('vectors from the cache cost nothing; a partial hit costs only what was sent', async (t) => {
    const client = openai(emulator, { cache: { store: new MemoryStore() } });
    t.after(() => client.close());
    const first = await client.embed(TEXTS.slice(0, 2));
    assert.ok((first.usage?.inputTokens ?? 0) > 0);
    const again = await client.embed(TEXTS.slice(0, 2));
    assert.deepEqual(again.usage, { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 });
    const partial = await client.embed(TEXTS);
    assert.equal(partial.usage?.inputTokens, await reportedTokens([TEXTS[2]!]), 'only the third was billed');
  });

  test('a provider that reports no count gives no usage, never a guess', async (t) => {
    const client = createClient('gemini/gemini-2.0-flash', {
      apiKey: 'test-key-not-real',
      baseURL: emulator.url,
      embeddingModel: 'text-embedding-004',
    });
    t.after(() => client.close());
    const result = await client.embed(['one text']);
    assert.equal(result.embeddings.length, 1);
    assert.equal(result.usage, undefined);
  });
});
