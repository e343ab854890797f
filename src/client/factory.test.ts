import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Agent } from 'undici';
import type { CacheStore } from '../middleware/cache/store.ts';
import type { Logger } from '../middleware/logging.ts';
import type { Middleware } from '../middleware/types.ts';
import { SpendTracker } from '../pricing/spend-tracker.ts';
import { isLLMError, LLMBadRequestError, LLMConfigurationError } from '../spec/errors.ts';
import { createClient, LLMClientFactory } from './factory.ts';
import { inferProvider, parseModelSpec } from './model-inference.ts';
import type { ClientOptions } from './options.ts';

const KEY = 'sk-factory-test-0123456789abcdef';

describe('model-name inference', () => {
  for (const [model, provider] of [
    ['gpt-4o-mini', 'openai'],
    ['gpt-5', 'openai'],
    ['o1', 'openai'],
    ['o3-mini', 'openai'],
    ['o4-mini', 'openai'],
    ['chatgpt-4o-latest', 'openai'],
    ['text-embedding-3-small', 'openai'],
    ['claude-sonnet-4-5', 'anthropic'],
    ['gemini-2.5-flash', 'gemini'],
    ['llama3.2', undefined],
    ['mistral-large', undefined],
    ['o10-something', undefined],
  ] as const) {
    test(`${model} → ${provider ?? 'ambiguous'}`, () => assert.equal(inferProvider(model), provider));
  }
  test('provider/model strings, with slashes kept in the model', () => {
    assert.deepEqual(parseModelSpec('openai/gpt-4o-mini'), { provider: 'openai', model: 'gpt-4o-mini' });
    assert.deepEqual(parseModelSpec('openai-compatible/meta-llama/llama-3-70b'), {
      provider: 'openai-compatible',
      model: 'meta-llama/llama-3-70b',
    });
    assert.deepEqual(parseModelSpec('meta-llama/llama-3-70b'), { model: 'meta-llama/llama-3-70b' });
    assert.deepEqual(parseModelSpec('Azure'), { provider: 'azure' });
  });
});

describe('LLMClientFactory', () => {
  test('getClient caches per provider, model and options; createClient always makes a new one', async () => {
    const factory = new LLMClientFactory({ env: { OPENAI_API_KEY: KEY } });
    const a = factory.getClient('openai', 'gpt-4o-mini');
    assert.equal(factory.getClient('openai', 'gpt-4o-mini'), a);
    assert.equal(factory.getClient('openai/gpt-4o-mini'), a, "'provider/model' reaches the same entry");
    assert.equal(factory.getClient('gpt-4o-mini'), a, 'a bare model name infers the provider');
    assert.notEqual(factory.getClient('openai', 'gpt-4o'), a);
    assert.notEqual(factory.getClient('openai', 'gpt-4o-mini', { timeoutMs: 5000 }), a);
    assert.notEqual(factory.createClient('openai/gpt-4o-mini'), a);
    assert.equal(factory.size, 3);
    await factory.close();
    assert.equal(factory.size, 0);
  });

  test('a rotated key in the environment gets a new client', async () => {
    const env: Record<string, string> = { OPENAI_API_KEY: KEY };
    const factory = new LLMClientFactory({ env });
    const first = factory.getClient('openai');
    env.OPENAI_API_KEY = 'sk-another-key-0123456789abcdef';
    assert.notEqual(factory.getClient('openai'), first, 'a rotated key gets a new client');
    await factory.close();
  });

  test('options first, then the environment', () => {
    const factory = new LLMClientFactory({
      env: { OPENAI_API_KEY: KEY, OPENAI_BASE_URL: 'http://127.0.0.1:1/v1' },
    });
    const fromEnv = factory.createClient('openai');
    assert.equal(fromEnv.model, 'gpt-4.1-mini', 'current default model');
    assert.equal(fromEnv.embeddingModel, 'text-embedding-3-small');
    const explicit = factory.createClient('openai', {
      model: 'gpt-4o',
      embeddingModel: 'text-embedding-3-large',
    });
    assert.equal(explicit.model, 'gpt-4o');
    assert.equal(explicit.embeddingModel, 'text-embedding-3-large');
  });

  test('a missing key fails at creation, naming the option and the variable', () => {
    const factory = new LLMClientFactory({ env: {} });
    assert.throws(
      () => factory.createClient('openai'),
      (error: unknown) =>
        error instanceof LLMConfigurationError &&
        /`apiKey`/.test(error.message) &&
        /OPENAI_API_KEY/.test(error.message),
    );
    assert.throws(
      () => factory.createClient('azure', { endpoint: 'https://x.openai.azure.com', model: 'd' }),
      /AZURE_OPENAI_API_KEY/,
    );
    assert.throws(() => factory.createClient('azure', { apiKey: KEY, model: 'd' }), /AZURE_OPENAI_ENDPOINT/);
    assert.throws(
      () => factory.createClient('azure', { apiKey: KEY, endpoint: 'https://x.openai.azure.com' }),
      /deployment.*`model`.*AZURE_OPENAI_DEPLOYMENT/,
    );
    assert.throws(
      () => factory.createClient('openai-compatible', { model: 'm' }),
      /`baseURL`.*OPENAI_COMPATIBLE_BASE_URL/,
    );
  });

  test('azure reads its environment variables', () => {
    const factory = new LLMClientFactory({
      env: {
        AZURE_OPENAI_API_KEY: 'azure-key-0123456789',
        AZURE_OPENAI_ENDPOINT: 'https://res.openai.azure.com',
        AZURE_OPENAI_DEPLOYMENT: 'prod-4o',
        OPENAI_API_VERSION: '2025-01-01-preview',
      },
    });
    const client = factory.createClient('azure');
    assert.equal(client.provider, 'azure');
    assert.equal(client.model, 'prod-4o');
  });

  test('openai-compatible needs no key', () => {
    const client = new LLMClientFactory({ env: {} }).createClient('openai-compatible/llama-3.1-8b', {
      baseURL: 'http://127.0.0.1:8000/v1',
    });
    assert.equal(client.provider, 'openai-compatible');
    assert.equal(client.model, 'llama-3.1-8b');
  });

  test('an unknown provider is named, with the known ones listed', () => {
    const factory = new LLMClientFactory({ env: {} });
    assert.throws(
      () => factory.createClient('mistral-large'),
      (error: unknown) =>
        error instanceof LLMConfigurationError &&
        /Unknown provider 'mistral-large'/.test(error.message) &&
        /openai/.test(error.message),
    );
  });

  test('every provider without its credentials names the option and the variable', () => {
    const factory = new LLMClientFactory({ env: {} });
    const cases: Array<[string, RegExp]> = [
      ['openai', /`apiKey`.*OPENAI_API_KEY/],
      ['anthropic', /`apiKey`.*ANTHROPIC_API_KEY/],
      ['claude-sonnet-4-6', /`apiKey`.*ANTHROPIC_API_KEY/],
      ['gemini/gemini-2.5-flash', /`apiKey`.*GEMINI_API_KEY.*GOOGLE_API_KEY/],
      ['bedrock', /`region`.*AWS_REGION/],
    ];
    for (const [spec, message] of cases) {
      assert.throws(
        () => factory.createClient(spec),
        (error: unknown) => error instanceof LLMConfigurationError && message.test(error.message),
        spec,
      );
    }
    assert.throws(
      () => factory.createClient('bedrock', { region: 'us-east-1' }),
      /AWS_ACCESS_KEY_ID|AWS_BEARER_TOKEN_BEDROCK/,
    );
    assert.equal(factory.createClient('ollama').provider, 'ollama', 'Ollama needs no key');
  });

  test('bad options are named: unknown names (with a hint) and wrong types', () => {
    const factory = new LLMClientFactory({ env: { OPENAI_API_KEY: KEY } });
    assert.throws(
      () => factory.createClient('openai', { timeout: 5 } as never),
      /Unknown option `timeout` \(did you mean `timeoutMs`\?\)/,
    );
    assert.throws(
      () => factory.createClient('openai', { maxRetries: -1 }),
      /`maxRetries`: expected a non-negative integer, got -1/,
    );
    assert.throws(
      () => factory.createClient('openai', { baseURL: 'not a url' }),
      /`baseURL`: expected an http\(s\) URL/,
    );
    assert.throws(
      () => factory.createClient('openai', { retry: { initialDelay: 1 } as never }),
      /`retry.initialDelay`/,
    );
    assert.throws(
      () => factory.createClient('openai', { apiKey: 42 as never }),
      (error: unknown) => isLLMError(error) && /`apiKey`/.test(error.message) && !/42/.test(error.message),
    );
  });

  test('the static methods use one default factory; createClient is the same as the static one', () => {
    const saved = process.env.OPENAI_API_KEY;
    process.env.OPENAI_API_KEY = KEY;
    try {
      const a = LLMClientFactory.getClient('openai', 'gpt-4o-mini');
      assert.equal(LLMClientFactory.getClient('openai', 'gpt-4o-mini'), a);
      assert.equal(LLMClientFactory.default.getClient('openai', 'gpt-4o-mini'), a);
      const b = createClient('openai/gpt-4o-mini');
      assert.notEqual(b, a);
      assert.equal(b.model, 'gpt-4o-mini');
    } finally {
      if (saved === undefined) delete process.env.OPENAI_API_KEY;
      else process.env.OPENAI_API_KEY = saved;
    }
  });

  test('bad requests are named before anything is sent', async () => {
    const client = new LLMClientFactory({ env: { OPENAI_API_KEY: KEY } }).createClient('openai', {
      baseURL: 'http://127.0.0.1:9/v1',
    });
    await assert.rejects(client.complete({}), /pass `messages`.*or `prompt`/);
    await assert.rejects(
      client.complete({ prompt: 'x', temperature: 3 }),
      /`temperature` must be a number from 0 to 2/,
    );
    await assert.rejects(
      client.complete({ prompt: 'x', maxTokens: 0 }),
      /`maxTokens` must be a positive integer/,
    );
    await assert.rejects(
      client.complete({ messages: [{ role: 'robot' as never, content: 'x' }] }),
      (error: unknown) => error instanceof LLMBadRequestError && /messages\[0\]\.role/.test(error.message),
    );
    await assert.rejects(client.generateEmbeddings(['ok', '']), /texts\[1\] is empty/);
    await client.close();
  });
});

describe("getClient never hands one caller another caller's client", () => {
  // Each maker returns a new object with new methods: the same shape, different behaviour.
  const logger = (): Logger => ({ debug() {}, info() {}, warn() {}, error() {} });
  const layer = (): Middleware => ({ name: 'audit', complete: (request, call, next) => next(request, call) });
  const store = (): CacheStore => {
    const entries = new Map<string, string>();
    return {
      get: async (key) => entries.get(key),
      set: async (key, value) => void entries.set(key, value),
      delete: async (key) => void entries.delete(key),
      close: async () => {},
    };
  };
  const plainDispatcher = () => ({ request: () => Promise.reject(new Error('not used')) }) as never;
  const members: Array<[string, () => ClientOptions]> = [
    ['logger', () => ({ logger: logger() })],
    ['a middleware layer', () => ({ middleware: [layer()] })],
    ['a cache store', () => ({ cache: { store: store() } })],
    ['a plain-object dispatcher', () => ({ dispatcher: plainDispatcher() })],
    ['an undici dispatcher', () => ({ dispatcher: new Agent() })],
    ['a spend tracker', () => ({ spend: new SpendTracker() })],
  ];

  for (const [member, options] of members) {
    test(`options that differ only in ${member} give different clients; the same ones, the same client`, async () => {
      const factory = new LLMClientFactory({ env: { OPENAI_API_KEY: KEY } });
      const mine = options();
      const a = factory.getClient('openai', 'gpt-4o-mini', mine);
      const b = factory.getClient('openai', 'gpt-4o-mini', options());
      assert.notEqual(a, b, `another caller's ${member} gets its own client`);
      assert.equal(
        factory.getClient('openai', 'gpt-4o-mini', { ...mine }),
        a,
        'the same options, the same client',
      );
      await factory.close();
    });
  }

  test('bedrock credentials count by value: other credentials, another client; equal ones, the same', async () => {
    const factory = new LLMClientFactory({ env: { AWS_REGION: 'us-east-1' } });
    const credentials = (secret: string) => ({
      credentials: { accessKeyId: 'TESTKEYID', secretAccessKey: secret },
    });
    const a = factory.getClient('bedrock', undefined, credentials('test-secret-not-real-1'));
    assert.notEqual(factory.getClient('bedrock', undefined, credentials('test-secret-not-real-2')), a);
    assert.equal(factory.getClient('bedrock', undefined, credentials('test-secret-not-real-1')), a);
    await factory.close();
  });

  test('data options count by value, whatever the key order', async () => {
    const factory = new LLMClientFactory({ env: { OPENAI_API_KEY: KEY } });
    const a = factory.getClient('openai', 'gpt-4o-mini', {
      headers: { 'x-a': '1', 'x-b': '2' },
      retry: { maxDelayMs: 50 },
    });
    assert.equal(
      factory.getClient('openai', 'gpt-4o-mini', {
        retry: { maxDelayMs: 50 },
        headers: { 'x-b': '2', 'x-a': '1' },
      }),
      a,
    );
    assert.notEqual(factory.getClient('openai', 'gpt-4o-mini', { headers: { 'x-a': '1', 'x-b': '3' } }), a);
    assert.equal(
      factory.getClient('openai', 'gpt-4o-mini', {
        tracing: undefined,
        headers: { 'x-a': '1', 'x-b': '2' },
        retry: { maxDelayMs: 50 },
      }),
      a,
      'an undefined option is an absent one',
    );
    await factory.close();
  });
});
