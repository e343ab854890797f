/**
 * `inputType: 'query' | 'document'` on the wire of every provider, through the emulator: Cohere on
 * Bedrock sends `input_type`, Gemini `taskType`; the providers without such a field send nothing, and a
 * bad value is refused before anything is sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import type { LLMClient } from '../client/llm-client.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import type { EmbeddingOptions } from '../spec/types.ts';
import { type Emulator, startEmulator } from './index.ts';

let emulator: Emulator;
const factory = new LLMClientFactory({ env: {} });
const KEY = 'test-key-not-real';

before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await factory.close();
  await emulator.close();
});

const bedrock = (embeddingModel: string) =>
  factory.createClient('bedrock', {
    region: 'us-east-1',
    baseURL: emulator.url,
    credentials: { accessKeyId: 'EMULATORKEYID', secretAccessKey: 'emulator-secret' },
    embeddingModel,
  });

/** The body of the embeddings request `options` made, and its vector. */
async function sent(
  llm: LLMClient,
  options: EmbeddingOptions,
): Promise<{ body: Record<string, unknown>; vector: number[] }> {
  const before = emulator.requests.length;
  const [vector] = await llm.generateEmbeddings(['what is retrieval-augmented generation?'], options);
  const requests = emulator.requests.slice(before);
  assert.equal(requests.length, 1);
  return { body: requests[0]!.body as Record<string, unknown>, vector: vector! };
}

describe('inputType on the wire', () => {
  test('bedrock cohere: input_type search_query / search_document (the default), and other vectors for a query', async () => {
    const llm = bedrock('cohere.embed-english-v3');
    const query = await sent(llm, { inputType: 'query' });
    const document = await sent(llm, { inputType: 'document' });
    const unset = await sent(llm, {});
    assert.equal(query.body.input_type, 'search_query');
    assert.equal(document.body.input_type, 'search_document');
    assert.equal(unset.body.input_type, 'search_document');
    assert.notDeepEqual(query.vector, document.vector);
    assert.deepEqual(unset.vector, document.vector);
    await llm.close();
  });

  test('gemini: taskType RETRIEVAL_QUERY / RETRIEVAL_DOCUMENT, none when unset', async () => {
    const llm = factory.createClient('gemini', { apiKey: KEY, baseURL: emulator.url });
    const query = await sent(llm, { inputType: 'query' });
    const document = await sent(llm, { inputType: 'document' });
    const unset = await sent(llm, {});
    const taskType = (body: Record<string, unknown>) =>
      (body.requests as Array<Record<string, unknown>>)[0]!.taskType;
    assert.equal(taskType(query.body), 'RETRIEVAL_QUERY');
    assert.equal(taskType(document.body), 'RETRIEVAL_DOCUMENT');
    assert.equal(taskType(unset.body), undefined);
    assert.notDeepEqual(query.vector, document.vector);
    await llm.close();
  });

  const ignoring: Array<[string, () => LLMClient, string[]]> = [
    [
      'openai',
      () => factory.createClient('openai', { apiKey: KEY, baseURL: `${emulator.url}/v1` }),
      ['encoding_format', 'input', 'model'],
    ],
    [
      'azure',
      () => factory.createClient('azure', { apiKey: KEY, endpoint: emulator.url, model: 'gpt-4o-mini' }),
      ['encoding_format', 'input'],
    ],
    [
      'openai-compatible',
      () =>
        factory.createClient('openai-compatible/llama-3.1-8b', {
          apiKey: KEY,
          baseURL: `${emulator.url}/v1`,
          embeddingModel: 'text-embedding-3-small',
        }),
      ['encoding_format', 'input', 'model'],
    ],
    ['ollama', () => factory.createClient('ollama', { baseURL: emulator.url }), ['input', 'model']],
    ['bedrock titan', () => bedrock('amazon.titan-embed-text-v2:0'), ['inputText', 'normalize']],
  ];
  for (const [name, make, fields] of ignoring) {
    test(`${name} has no such field: the body is the same with or without it`, async () => {
      const llm = make();
      const query = await sent(llm, { inputType: 'query' });
      const unset = await sent(llm, {});
      assert.deepEqual(Object.keys(query.body).sort(), fields);
      assert.deepEqual(query.body, unset.body);
      await llm.close();
    });
  }

  test('a bad inputType is an LLMBadRequestError naming the field, before anything is sent', async () => {
    const llm = factory.createClient('gemini', { apiKey: KEY, baseURL: emulator.url });
    const before = emulator.requests.length;
    for (const bad of ['search_query', 'QUERY', 1]) {
      await assert.rejects(
        llm.generateEmbeddings(['x'], { inputType: bad as never }),
        (error: unknown) =>
          error instanceof LLMBadRequestError &&
          /`inputType` must be 'query' or 'document'/.test(error.message),
      );
    }
    assert.equal(emulator.requests.length, before);
    await llm.close();
  });
});

describe('the emulator takes each provider’s field', () => {
  test('gemini refuses a taskType outside the API’s enum, as the API does', async () => {
    const response = await fetch(`${emulator.url}/v1beta/models/gemini-embedding-001:batchEmbedContents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
      body: JSON.stringify({
        requests: [
          { model: 'models/gemini-embedding-001', content: { parts: [{ text: 'x' }] }, taskType: 'SEARCH' },
        ],
      }),
    });
    assert.equal(response.status, 400);
    const body = (await response.json()) as { error: { status: string; message: string } };
    assert.equal(body.error.status, 'INVALID_ARGUMENT');
    assert.match(body.error.message, /Invalid value at 'requests\[0\]\.task_type'.*"SEARCH"/);
  });
});
