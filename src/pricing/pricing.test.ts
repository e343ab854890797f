import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import type { ProviderName, Usage } from '../spec/types.ts';
import { contextWindowOf, costOf, findModelPrice, type ModelPrice, setModelPrice } from './pricing.ts';
import { SpendTracker } from './spend-tracker.ts';

const usage = (inputTokens: number, outputTokens: number, extra: object = {}) => ({
  inputTokens,
  outputTokens,
  totalTokens: inputTokens + outputTokens,
  ...extra,
});
/** The table entry a lookup matched (its id) and its prices. */
const entryOf = (provider: ProviderName, model: string) => {
  const found = findModelPrice(provider, model) as (ModelPrice & { id?: string }) | undefined;
  if (!found) return undefined;
  const { id, input, output, cacheRead, cacheWrite, contextWindow } = found;
  const fields = { id, input, output, cacheRead, cacheWrite, contextWindow };
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined));
};
const close = (actual: number | undefined, expected: number) => {
  assert.ok(actual !== undefined, 'priced');
  assert.ok(Math.abs(actual - expected) < 1e-12, `${actual} ≠ ${expected}`);
};

describe('cost arithmetic (hand-computed)', () => {
  test('gpt-4o-mini: $0.15 in, $0.075 cached in, $0.60 out per million', () => {
    // 800 fresh × 0.15 + 200 cached × 0.075 + 500 out × 0.60 = 120 + 15 + 300 = 435 µ$
    close(costOf('openai', 'gpt-4o-mini', usage(1000, 500, { cachedInputTokens: 200 })), 0.000435);
    close(costOf('openai', 'gpt-4o-mini-2024-07-18', usage(1_000_000, 0)), 0.15);
  });

  test('claude-sonnet-4-5: cache writes and reads priced apart, the >200k tier by prompt size', () => {
    // 1000 fresh × 3 + 2000 written × 3.75 + 7000 read × 0.30 + 100 out × 15 = 3000 + 7500 + 2100 + 1500 µ$
    close(
      costOf(
        'anthropic',
        'claude-sonnet-4-5-20250929',
        usage(10_000, 100, { cachedInputTokens: 7000, cacheWriteInputTokens: 2000 }),
      ),
      0.0141,
    );
    // 250k prompt: the whole call at the tier prices (6 in, 22.5 out).
    close(costOf('anthropic', 'claude-sonnet-4-5', usage(250_000, 1000)), (250_000 * 6 + 1000 * 22.5) / 1e6);
  });

  test('gemini, bedrock (regional prefix) and azure (OpenAI list prices) resolve to their entries', () => {
    close(costOf('gemini', 'gemini-2.5-flash', usage(1000, 1000)), (1000 * 0.3 + 1000 * 2.5) / 1e6);
    assert.deepEqual(entryOf('gemini', 'gemini-2.5-flash'), {
      id: 'gemini-2.5-flash',
      input: 0.3,
      output: 2.5,
      cacheRead: 0.03,
      contextWindow: 1_048_576,
    });
    // A geographic cross-region profile (us.) is priced as regional; global. has its own, lower entry.
    assert.deepEqual(entryOf('bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'), {
      id: 'regional.anthropic.claude-sonnet-4-5-20250929-v1:0',
      input: 3.3,
      output: 16.5,
      cacheRead: 0.33,
      cacheWrite: 4.125,
      contextWindow: 200_000,
    });
    assert.deepEqual(entryOf('bedrock', 'global.anthropic.claude-sonnet-4-5-20250929-v1:0'), {
      id: 'global.anthropic.claude-sonnet-4-5-20250929-v1:0',
      input: 3,
      output: 15,
      cacheRead: 0.3,
      cacheWrite: 3.75,
      contextWindow: 200_000,
    });
    // Azure's own list first (its o3 entry), OpenAI's list prices for what it lacks (gpt-4.1).
    assert.equal(entryOf('azure', 'o3')?.id, 'o3-2025-04-16');
    assert.deepEqual(entryOf('azure', 'gpt-4.1-2025-04-14'), {
      id: 'gpt-4.1',
      input: 2,
      output: 8,
      cacheRead: 0.5,
      contextWindow: 1_000_000,
    });
    assert.equal(contextWindowOf('openai', 'gpt-4.1-mini'), 1_000_000);
  });

  test('an unknown model has no price: undefined, never a guess; local models cost 0', () => {
    assert.equal(costOf('openai', 'ft:my-private-finetune', usage(100, 100)), undefined);
    assert.equal(costOf('openai-compatible', 'llama-3.1-8b', usage(100, 100)), undefined);
    assert.equal(costOf('ollama', 'llama3.2', usage(100, 100)), 0);
  });

  test('prices can be set at run time', () => {
    setModelPrice('openai-compatible', 'my-vllm-model', { input: 1, output: 2 });
    close(costOf('openai-compatible', 'my-vllm-model', usage(1_000_000, 500_000)), 2);
  });
});

describe('cost on results, and the spend tracker', () => {
  let emulator: Emulator;
  before(async () => {
    emulator = await startEmulator();
  });
  after(async () => {
    await emulator.close();
  });

  test('every result and stream finish carries costUsd; the tracker sums them', async () => {
    const spend = new SpendTracker();
    const factory = new LLMClientFactory({ env: {} });
    const client = factory.createClient('openai/gpt-4o-mini', {
      apiKey: 'sk-x',
      baseURL: `${emulator.url}/v1`,
      spend,
    });
    const result = await client.complete({ prompt: 'price me' });
    close(result.usage.costUsd, (result.usage.inputTokens * 0.15 + result.usage.outputTokens * 0.6) / 1e6);
    let finishCost: number | undefined;
    let finishUsage: Usage | undefined;
    for await (const event of client.stream({ prompt: 'price me too' })) {
      if (event.type === 'finish') {
        finishCost = event.usage.costUsd;
        finishUsage = event.usage;
      }
    }
    close(finishCost, (finishUsage!.inputTokens * 0.15 + finishUsage!.outputTokens * 0.6) / 1e6);
    const unknown = factory.createClient('openai/ft:unknown-model', {
      apiKey: 'sk-x',
      baseURL: `${emulator.url}/v1`,
      spend,
    });
    const unpriced = await unknown.complete({ prompt: 'x' });
    assert.equal(unpriced.usage.costUsd, undefined);

    const lines = spend.lines();
    const mini = lines.find((line) => line.model === 'gpt-4o-mini');
    assert.equal(mini?.requests, 2);
    close(mini?.costUsd, result.usage.costUsd! + finishCost!);
    assert.equal(spend.total().unpricedRequests, 1);
    assert.equal(spend.total().requests, 3);
    await factory.close();
    await client.close();
    await unknown.close();
  });
});

test('a prefix does not swallow a different model number', () => {
  assert.equal(findModelPrice('anthropic', 'claude-sonnet-5-5'), undefined, 'not priced as claude-sonnet-5');
  assert.deepEqual(entryOf('anthropic', 'claude-sonnet-5'), {
    id: 'claude-sonnet-5',
    input: 2,
    output: 10,
    cacheRead: 0.2,
    cacheWrite: 2.5,
    contextWindow: 1_000_000,
  });
  assert.deepEqual(
    entryOf('anthropic', 'claude-haiku-4-5-20251001'),
    { id: 'claude-haiku-4-5', input: 1, output: 5, cacheRead: 0.1, cacheWrite: 1.25, contextWindow: 200_000 },
    'a dated snapshot is the same model',
  );
});
