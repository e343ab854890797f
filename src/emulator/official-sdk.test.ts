/** The official `openai` npm client, pointed at the emulator, works unchanged — and so does ours. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI, { AzureOpenAI } from 'openai';
import { LLMClientFactory } from '../client/factory.ts';
import { type Emulator, startEmulator } from './index.ts';

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await emulator.close();
});

describe('official openai client against the emulator', () => {
  test('chat completion, stream with usage, embeddings (base64 by default), models', async () => {
    const openai = new OpenAI({ apiKey: 'sk-emulator', baseURL: `${emulator.url}/v1`, maxRetries: 0 });
    const completion = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Explain quantum computing' }],
      max_completion_tokens: 12,
    });
    assert.equal(completion.object, 'chat.completion');
    assert.equal(completion.choices[0]?.finish_reason, 'length');
    assert.equal(completion.usage?.completion_tokens, 12);
    assert.ok(completion.choices[0]?.message.content?.startsWith('You asked'));

    const stream = await openai.chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [{ role: 'user', content: 'Explain quantum computing' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = '';
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) usage = chunk.usage;
    }
    assert.ok(text.startsWith('You asked: “Explain quantum computing”.'));
    assert.ok(usage && usage.completion_tokens > 0 && usage.prompt_tokens > 0);

    const embeddings = await openai.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    assert.equal(embeddings.data.length, 2);
    assert.equal(embeddings.data[0]?.embedding.length, 1536);
    const norm = Math.hypot(...(embeddings.data[0]?.embedding ?? []));
    assert.ok(Math.abs(norm - 1) < 1e-5, 'unit length');

    const models = await openai.models.list();
    assert.ok(models.data.some((model) => model.id === 'gpt-4.1-mini'));
  });

  test('typed errors and retries of the official client see real status codes and hints', async () => {
    const openai = new OpenAI({ apiKey: 'sk-emulator', baseURL: `${emulator.url}/v1`, maxRetries: 2 });
    const recovered = await openai.chat.completions.create(
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'retry me' }] },
      { headers: { 'x-emulator-fault': 'rate-limit:1' } },
    );
    assert.ok(recovered.choices[0]?.message.content);
    await assert.rejects(
      openai.chat.completions.create(
        { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'always limited' }] },
        { headers: { 'x-emulator-fault': 'rate-limit' }, maxRetries: 0 },
      ),
      (error: unknown) => error instanceof OpenAI.RateLimitError && error.status === 429,
    );
    const withKeys = await startEmulator({ apiKeys: ['sk-right'] });
    await assert.rejects(
      new OpenAI({
        apiKey: 'sk-wrong-key-123456',
        baseURL: `${withKeys.url}/v1`,
        maxRetries: 0,
      }).models.list(),
      (error: unknown) => error instanceof OpenAI.AuthenticationError,
    );
    await withKeys.close();
  });

  test('AzureOpenAI client on the deployment paths', async () => {
    const azure = new AzureOpenAI({
      apiKey: 'azure-emulator-key',
      endpoint: emulator.url,
      apiVersion: '2024-10-21',
      deployment: 'my-gpt-4o',
      maxRetries: 0,
    });
    const completion = await azure.chat.completions.create({
      model: 'my-gpt-4o',
      messages: [{ role: 'user', content: 'hello azure' }],
    });
    assert.ok(completion.choices[0]?.message.content?.includes('hello azure'));
    const last = emulator.requests.at(-1)!;
    assert.equal(last.path, '/openai/deployments/my-gpt-4o/chat/completions?api-version=2024-10-21');
  });
});

describe('our client against the emulator', () => {
  test('the same conversation gives the same answer through both clients', async () => {
    const factory = new LLMClientFactory({ env: {} });
    const ours = factory.createClient('openai/gpt-4o-mini', {
      apiKey: 'sk-emulator',
      baseURL: `${emulator.url}/v1`,
    });
    const openai = new OpenAI({ apiKey: 'sk-emulator', baseURL: `${emulator.url}/v1` });
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'What is an LLM?' },
    ];
    const result = await ours.complete({ messages });
    const theirs = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages });
    assert.equal(result.text, theirs.choices[0]?.message.content);
    assert.equal(result.usage.inputTokens, theirs.usage?.prompt_tokens);
    assert.equal(await ours.generateCompletion('What is an LLM?', { system: 'Be brief.' }), result.text);
    assert.equal(
      ours.countTokens(result.text),
      result.usage.outputTokens,
      'emulator usage is the real tokenizer',
    );

    const vectors = await ours.generateEmbeddings(['First document', 'Second document'], { batchSize: 1 });
    const reference = await openai.embeddings.create({
      model: 'text-embedding-3-small',
      input: ['First document', 'Second document'],
    });
    assert.equal(vectors.length, 2);
    vectors.forEach((vector, i) => {
      assert.deepEqual(vector, reference.data[i]?.embedding, `input order kept for ${i}`);
    });
    await factory.close();
  });

  test('azure through our client', async () => {
    const factory = new LLMClientFactory({
      env: { AZURE_OPENAI_API_KEY: 'azure-emulator-key', AZURE_OPENAI_ENDPOINT: emulator.url },
    });
    const client = factory.createClient('azure', {
      model: 'my-deployment',
      embeddingModel: 'text-embedding-3-large',
    });
    const result = await client.complete({ prompt: 'hello' });
    assert.equal(result.provider, 'azure');
    assert.equal(result.finishReason, 'stop');
    const [vector] = await client.generateEmbeddings(['x']);
    assert.equal(vector?.length, 3072);
    let text = '';
    for await (const event of client.stream({ prompt: 'hello' }))
      if (event.type === 'text-delta') text += event.text;
    assert.equal(text, result.text);
    await factory.close();
  });

  test('a context-window overflow comes back as LLMContextWindowError', async () => {
    const small = await startEmulator({ contextWindow: 20 });
    const client = new LLMClientFactory({ env: {} }).createClient('openai', {
      apiKey: 'sk-x',
      baseURL: `${small.url}/v1`,
    });
    await assert.rejects(client.complete({ prompt: 'word '.repeat(50) }), (error: unknown) => {
      return (error as { code?: string }).code === 'context_window_exceeded';
    });
    await client.close();
    await small.close();
  });
});
