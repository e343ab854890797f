/**
 * An OpenAI-compatible server runs models whose tokenizers we do not have: its counts are labelled
 * estimates, except for OpenAI's own models behind a gateway, whose public encoding makes them exact.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LLMClientFactory } from '../../client/factory.ts';
import { setModelPrice } from '../../pricing/pricing.ts';
import { estimateMessagesTokens, estimateTokens } from '../../tokens/estimate.ts';
import { countOpenAIChatTokens, countOpenAITokens } from '../../tokens/openai-tokenizer.ts';
import { isOpenAIModel } from './index.ts';

const factory = new LLMClientFactory({ env: {} });
const client = (model: string) =>
  factory.createClient(`openai-compatible/${model}`, { baseURL: 'http://127.0.0.1:9/v1' });
const TEXT = 'Explain quantum computing in simple terms, with one example.';

describe('openai-compatible token counts', () => {
  for (const model of [
    'llama-3.1-8b',
    'meta-llama/llama-3-70b',
    'Qwen/Qwen2.5-7B-Instruct',
    'gpt-oss-20b',
    'gpt-neox-20b',
  ]) {
    test(`${model}: estimates, labelled as such`, async () => {
      const llm = client(model);
      assert.equal(llm.tokenCountExact, false);
      assert.equal(llm.countTokens(TEXT), estimateTokens(TEXT));
      const messages = [{ role: 'user' as const, content: TEXT }];
      assert.deepEqual(await llm.countRequestTokens({ messages }), {
        inputTokens: estimateMessagesTokens(messages),
        exact: false,
        source: 'estimate',
      });
      await llm.close();
    });
  }

  for (const model of ['gpt-4o-mini', 'openai/gpt-4o-mini', 'gpt-4.1', 'o3-mini']) {
    test(`${model}: OpenAI's own model, counted exactly with its encoding`, async () => {
      const llm = client(model);
      assert.equal(llm.tokenCountExact, true);
      assert.equal(llm.countTokens(TEXT), countOpenAITokens(TEXT, model));
      const messages = [{ role: 'user' as const, content: TEXT }];
      assert.deepEqual(await llm.countRequestTokens({ messages }), {
        inputTokens: countOpenAIChatTokens(messages, model),
        exact: true,
        source: 'tokenizer',
      });
      await llm.close();
    });
  }

  test('a request naming another model is counted for that model', async () => {
    const llm = client('llama-3.1-8b');
    const counted = await llm.countRequestTokens({ model: 'gpt-4o-mini', prompt: TEXT });
    assert.equal(counted.exact, true);
    assert.equal(counted.source, 'tokenizer');
    await llm.close();
  });

  test('a price set at run time does not make a model OpenAI’s', () => {
    setModelPrice('*', 'my-vllm-model', { input: 0.1, output: 0.2 });
    assert.equal(isOpenAIModel('my-vllm-model'), false);
    assert.equal(isOpenAIModel('text-embedding-3-small'), true);
  });
});
