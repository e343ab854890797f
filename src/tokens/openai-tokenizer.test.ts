import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countOpenAIChatTokens, countOpenAITokens, encodingForModel } from './openai-tokenizer.ts';

test('models map to their encodings', () => {
  for (const model of [
    'gpt-4o',
    'gpt-4o-mini',
    'gpt-4.1-nano',
    'gpt-5',
    'o1',
    'o3-mini',
    'o4-mini',
    'future-model',
  ]) {
    assert.equal(encodingForModel(model), 'o200k_base', model);
  }
  for (const model of [
    'gpt-4',
    'gpt-4-turbo',
    'gpt-3.5-turbo',
    'text-embedding-3-small',
    'text-embedding-ada-002',
  ]) {
    assert.equal(encodingForModel(model), 'cl100k_base', model);
  }
});

test('counts agree with tiktoken on known strings', () => {
  // Reference values from tiktoken (o200k_base / cl100k_base).
  assert.equal(countOpenAITokens('hello world', 'gpt-4o'), 2);
  assert.equal(countOpenAITokens('hello world', 'gpt-4'), 2);
  assert.equal(countOpenAITokens('Explain quantum computing in simple terms', 'gpt-4o'), 6);
  assert.equal(countOpenAITokens('', 'gpt-4o'), 0);
});

test('special-token text in user content is ordinary text, wherever it stands', () => {
  const atStart = countOpenAITokens('<|endoftext|> hi', 'gpt-4o');
  const inMiddle = countOpenAITokens('hi <|endoftext|>', 'gpt-4o');
  assert.ok(atStart > 2, 'not collapsed to one special token at the start');
  assert.ok(inMiddle > 2);
  assert.doesNotThrow(() => countOpenAITokens('<|im_start|>system<|im_sep|>', 'gpt-4o'));
});

test('chat requests count framing per message and the reply primer', () => {
  const messages = [
    { role: 'system' as const, content: 'You are helpful.' },
    { role: 'user' as const, content: 'hello world' },
  ];
  const content = countOpenAITokens('You are helpful.', 'gpt-4o') + 2;
  const roles = countOpenAITokens('system', 'gpt-4o') + countOpenAITokens('user', 'gpt-4o');
  assert.equal(countOpenAIChatTokens(messages, 'gpt-4o'), 3 + 2 * 3 + roles + content);
});
