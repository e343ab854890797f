/**
 * One scripted conversation through every provider via the emulator: the same request shape gives
 * equivalent results everywhere — text, finish reason, usage, cost where priced, streams that agree with
 * completions, and the same typed error for the same fault.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import type { LLMClient } from '../client/llm-client.ts';
import { isLLMError } from '../spec/errors.ts';
import type { ChatMessage, ProviderName } from '../spec/types.ts';
import { type Emulator, startEmulator } from './index.ts';

let emulator: Emulator;
const factory = new LLMClientFactory({ env: {} });

const CONVERSATION: ChatMessage[] = [
  { role: 'system', content: 'You are a concise assistant.' },
  { role: 'user', content: 'What is a large language model?' },
  { role: 'assistant', content: 'A model that predicts text.' },
  { role: 'user', content: 'Explain quantum computing in simple terms' },
];

function clientFor(provider: ProviderName): LLMClient {
  const common = { maxRetries: 1, retry: { initialDelayMs: 5 } };
  switch (provider) {
    case 'openai':
      return factory.createClient('openai/gpt-4o-mini', {
        ...common,
        apiKey: 'sk-emulator',
        baseURL: `${emulator.url}/v1`,
      });
    case 'azure':
      return factory.createClient('azure', {
        ...common,
        apiKey: 'azure-emulator',
        endpoint: emulator.url,
        model: 'gpt-4o-mini',
      });
    case 'openai-compatible':
      return factory.createClient('openai-compatible/llama-3.1-8b', {
        ...common,
        apiKey: 'local-server-key',
        baseURL: `${emulator.url}/v1`,
      });
    case 'anthropic':
      return factory.createClient('anthropic/claude-sonnet-4-6', {
        ...common,
        apiKey: 'sk-ant-emulator',
        baseURL: emulator.url,
      });
    case 'gemini':
      return factory.createClient('gemini/gemini-2.5-flash', {
        ...common,
        apiKey: 'gemini-emulator',
        baseURL: emulator.url,
      });
    case 'bedrock':
      return factory.createClient('bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0', {
        ...common,
        region: 'us-east-1',
        baseURL: emulator.url,
        credentials: { accessKeyId: 'EMULATORKEYID', secretAccessKey: 'emulator-secret' },
      });
    case 'ollama':
      return factory.createClient('ollama/llama3.2', { ...common, baseURL: emulator.url });
  }
}

const PROVIDERS: ProviderName[] = [
  'openai',
  'azure',
  'openai-compatible',
  'anthropic',
  'gemini',
  'bedrock',
  'ollama',
];

before(async () => {
  emulator = await startEmulator({ retryAfterMs: 5 });
});
after(async () => {
  await factory.close();
  await emulator.close();
});

describe('one conversation, every provider', () => {
  for (const provider of PROVIDERS) {
    test(provider, async () => {
      const client = clientFor(provider);
      const result = await client.complete({ messages: CONVERSATION, temperature: 0.2 });
      assert.equal(result.provider, provider);
      assert.match(
        result.text,
        /^You asked: “Explain quantum computing in simple terms”\./,
        'answers the last user turn',
      );
      assert.equal(result.finishReason, 'stop');
      assert.ok(result.usage.inputTokens > 0 && result.usage.outputTokens > 0, 'usage present');
      assert.equal(result.usage.totalTokens, result.usage.inputTokens + result.usage.outputTokens);
      if (['openai', 'anthropic', 'gemini', 'bedrock'].includes(provider)) {
        assert.ok((result.usage.costUsd ?? 0) > 0, 'priced');
      }

      let streamed = '';
      let finish: string | undefined;
      for await (const event of client.stream({ messages: CONVERSATION })) {
        if (event.type === 'text-delta') streamed += event.text;
        if (event.type === 'finish') finish = event.finishReason;
      }
      assert.equal(streamed, result.text, 'the stream says what the completion says');
      assert.equal(finish, 'stop');

      const cut = await client.complete({ messages: CONVERSATION, maxTokens: 5 });
      assert.equal(cut.finishReason, 'length');
      assert.ok(cut.text.length < result.text.length);

      const retried = await client.complete({
        messages: CONVERSATION,
        headers: { 'x-emulator-fault': 'server-error:1' },
      });
      assert.equal(retried.text, result.text, 'a transient 500 is retried transparently');
      const failure = await client
        .complete({ messages: CONVERSATION, headers: { 'x-emulator-fault': 'rate-limit' } })
        .catch((error: unknown) => error);
      assert.ok(
        isLLMError(failure) && failure.code === 'rate_limit',
        `${provider}: a persistent 429 is a rate-limit error`,
      );
      await client.close();
    });
  }
});

describe('an error inside a stream keeps the response’s real status, every provider', () => {
  for (const provider of PROVIDERS) {
    test(provider, async () => {
      const client = clientFor(provider);
      const failure = await (async () => {
        for await (const _event of client.stream({
          messages: CONVERSATION,
          headers: { 'x-emulator-fault': 'stream-error' },
        }));
      })().catch((error: unknown) => error);
      await client.close();
      assert.ok(isLLMError(failure), `${provider}: a typed error`);
      assert.equal(failure.code, 'server_error', `${provider}: ${failure.message}`);
      assert.equal(failure.status, 200, `${provider}: the HTTP status of the response, not an invented one`);
      assert.match(failure.message, new RegExp(`^${provider} stream error`));
    });
  }
});
