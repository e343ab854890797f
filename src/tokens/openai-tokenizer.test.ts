import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatMessage } from '../spec/types.ts';
import type { RecordedExchange } from '../test-support/exchanges.ts';
import { fixtureJson } from '../test-support/fixtures.ts';
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
    'gpt-35-turbo', // Azure's name for it (the recorded Azure responses say `"model": "gpt-35-turbo"`)
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
  // Reference values from tiktoken's encode_ordinary (o200k_base / cl100k_base); as one special token,
  // `<|endoftext|> hi` would be 2.
  assert.equal(countOpenAITokens('<|endoftext|> hi', 'gpt-4o'), 8);
  assert.equal(countOpenAITokens('hi <|endoftext|>', 'gpt-4o'), 8);
  assert.equal(countOpenAITokens('<|endoftext|> hi', 'gpt-4'), 8);
  assert.equal(countOpenAITokens('hi <|endoftext|>', 'gpt-4'), 7);
  assert.equal(countOpenAITokens('hi <|endoftext|>', 'gpt-35-turbo'), 7);
  assert.equal(countOpenAITokens('<|im_start|>system<|im_sep|>', 'gpt-4o'), 13);
});

interface Billed {
  source: string;
  model: string;
  messages: ChatMessage[];
  promptTokens: number;
}

/** The recorded requests whose response says what the API billed for them (`usage.prompt_tokens`). */
function billedRequests(): Billed[] {
  const parse = <T>(body: unknown): T => (typeof body === 'string' ? JSON.parse(body) : body) as T;
  const billed: Billed[] = [];
  const add = (source: string, request: unknown, response: unknown) => {
    const sent = parse<{ messages?: ChatMessage[]; tools?: unknown }>(request);
    const answer = parse<{ model?: string; usage?: { prompt_tokens?: number } }>(response);
    // Tool definitions are billed too, and are not part of this count.
    if (!sent.messages || sent.tools || !answer.model || answer.usage?.prompt_tokens === undefined) return;
    billed.push({
      source,
      model: answer.model,
      messages: sent.messages,
      promptTokens: answer.usage.prompt_tokens,
    });
  };
  for (const [provider, file] of [
    ['openai', 'exchange.chat-completions.200.pretty-body.2023-11.json'],
    ['openai', 'exchange.chat-completions.200.ratelimit-headers.2023-10.json'],
    ['azure-openai', 'exchange.chat-completions.200.api-version-2023-05-15.json'],
    ['azure-openai', 'exchange.chat-completions.200.api-version-2023-05-15.sdk-v1.json'],
    ['azure-openai', 'exchange.openai-and-azure.multiple-clients.json'],
  ] as const) {
    for (const [index, exchange] of fixtureJson<RecordedExchange[]>(provider, file).entries())
      add(`${file} #${index}`, exchange.request.body, exchange.response.body);
  }
  for (const stem of ['doc.chat-completion.nonstream.default', 'doc.chat-completion.nonstream.logprobs'])
    add(stem, fixtureJson('openai', `${stem}.request.json`), fixtureJson('openai', `${stem}.json`));
  return billed;
}

test('chat requests count what the API billed for the recorded ones (framing per message, reply primer)', () => {
  const billed = billedRequests();
  assert.deepEqual(
    billed.map((request) => [request.model, request.promptTokens]),
    [
      ['gpt-3.5-turbo-0613', 22],
      ['gpt-3.5-turbo-0613', 22],
      ['gpt-3.5-turbo-0613', 22],
      ['gpt-35-turbo', 22],
      ['gpt-35-turbo', 22],
      ['gpt-3.5-turbo-0613', 26],
      ['gpt-35-turbo', 27],
      ['gpt-5.4', 19],
      ['gpt-4o-mini', 9],
    ],
    'the oracle: every recorded pair of messages and billed prompt tokens',
  );
  for (const request of billed)
    assert.equal(
      countOpenAIChatTokens(request.messages, request.model),
      request.promptTokens,
      request.source,
    );
});
