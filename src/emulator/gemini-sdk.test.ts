/** The official `@google/genai` client, pointed at the emulator, works unchanged — and so does ours. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiError, GoogleGenAI } from '@google/genai';
import { LLMClientFactory } from '../client/factory.ts';
import { USER_AGENT } from '../providers/config-helpers.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import { estimateTokens } from '../tokens/estimate.ts';
import { type Emulator, startEmulator } from './index.ts';

const KEY = 'gemini-emulator-key';
let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await emulator.close();
});

const genai = (apiKey = KEY, url = emulator.url) =>
  new GoogleGenAI({ apiKey, httpOptions: { baseUrl: url } });

describe('official @google/genai client against the emulator', () => {
  test('generateContent, generateContentStream, embedContent and countTokens', async () => {
    const ai = genai();
    const response = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'Explain quantum computing',
      config: { maxOutputTokens: 12 },
    });
    assert.ok(response.text?.startsWith('You asked: “Explain quantum computing”.'));
    assert.equal(response.candidates?.[0]?.finishReason, 'MAX_TOKENS');
    assert.equal(response.usageMetadata?.candidatesTokenCount, 12);
    assert.equal(response.modelVersion, 'gemini-2.5-flash');
    assert.ok(response.responseId);

    let text = '';
    let usage: typeof response.usageMetadata;
    let finishReason: string | undefined;
    let chunks = 0;
    for await (const chunk of await ai.models.generateContentStream({
      model: 'gemini-2.5-flash',
      contents: 'Explain quantum computing',
    })) {
      chunks++;
      text += chunk.text ?? '';
      if (chunk.usageMetadata) usage = chunk.usageMetadata;
      finishReason = chunk.candidates?.[0]?.finishReason ?? finishReason;
    }
    assert.ok(chunks > 2, 'streamed in pieces');
    assert.ok(text.startsWith('You asked: “Explain quantum computing”.'));
    assert.equal(finishReason, 'STOP');
    assert.ok(usage && (usage.candidatesTokenCount ?? 0) > 0 && (usage.promptTokenCount ?? 0) > 0);
    assert.equal(usage.totalTokenCount, (usage.promptTokenCount ?? 0) + (usage.candidatesTokenCount ?? 0));

    const embedded = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['a', 'b'] });
    assert.equal(embedded.embeddings?.length, 2);
    const values = embedded.embeddings?.[0]?.values ?? [];
    assert.equal(values.length, 3072);
    assert.ok(Math.abs(Math.hypot(...values) - 1) < 1e-5, 'unit length');
    const short = await ai.models.embedContent({
      model: 'text-embedding-004',
      contents: 'a',
      config: { outputDimensionality: 64 },
    });
    assert.equal(short.embeddings?.[0]?.values?.length, 64);

    const counted = await ai.models.countTokens({
      model: 'gemini-2.5-flash',
      contents: 'Explain quantum computing',
    });
    assert.equal(counted.totalTokens, usage.promptTokenCount, 'countTokens agrees with usage');
  });

  test('models.list on v1beta', async () => {
    // The SDK's default version is v1; the emulator's GET /v1/models is OpenAI's, so list on v1beta.
    const ai = new GoogleGenAI({ apiKey: KEY, httpOptions: { baseUrl: emulator.url, apiVersion: 'v1beta' } });
    const names: string[] = [];
    for await (const model of await ai.models.list()) names.push(model.name ?? '');
    assert.ok(names.includes('models/gemini-2.5-flash'));
    assert.ok(names.includes('models/gemini-embedding-001'));
  });

  test('errors the official client sees: 429 with RetryInfo, 400 API_KEY_INVALID, a failure mid-stream', async () => {
    const ai = genai();
    await assert.rejects(
      ai.models.generateContent({
        model: 'gemini-2.5-flash',
        contents: 'always limited',
        config: { httpOptions: { headers: { 'x-emulator-fault': 'rate-limit' } } },
      }),
      (error: unknown) =>
        error instanceof ApiError && error.status === 429 && /RESOURCE_EXHAUSTED/.test(error.message),
    );
    const keyed = await startEmulator({ apiKeys: ['the-right-key'] });
    await assert.rejects(
      genai('the-wrong-key', keyed.url).models.generateContent({ model: 'gemini-2.5-flash', contents: 'x' }),
      (error: unknown) =>
        error instanceof ApiError && error.status === 400 && /API_KEY_INVALID/.test(error.message),
    );
    await keyed.close();
    let text = '';
    await assert.rejects(async () => {
      for await (const chunk of await ai.models.generateContentStream({
        model: 'gemini-2.5-flash',
        contents: 'fails mid-stream',
        config: { httpOptions: { headers: { 'x-emulator-fault': 'stream-error' } } },
      })) {
        text += chunk.text ?? '';
      }
    });
    assert.equal(text, 'You asked:', 'two chunks before the failure');
  });
});

describe('our client against the emulator', () => {
  test('complete, stream, generateCompletion, embeddings and token counts agree with the official client', async () => {
    const factory = new LLMClientFactory({
      env: { GEMINI_API_KEY: KEY, GOOGLE_GEMINI_BASE_URL: emulator.url },
    });
    const ours = factory.createClient('gemini');
    const ai = genai();
    const before = emulator.requests.length;

    const result = await ours.complete({ system: 'Be brief.', prompt: 'What is an LLM?' });
    const theirs = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'What is an LLM?',
      config: { systemInstruction: 'Be brief.' },
    });
    assert.equal(result.provider, 'gemini');
    assert.equal(result.text, theirs.text);
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.rawFinishReason, 'STOP');
    assert.equal(result.model, 'gemini-2.5-flash');
    assert.equal(result.usage.inputTokens, theirs.usageMetadata?.promptTokenCount);
    assert.equal(result.usage.outputTokens, theirs.usageMetadata?.candidatesTokenCount);
    assert.equal(await ours.generateCompletion('What is an LLM?', { system: 'Be brief.' }), result.text);

    let streamed = '';
    let finish: { inputTokens: number; outputTokens: number } | undefined;
    for await (const event of ours.stream({ system: 'Be brief.', prompt: 'What is an LLM?' })) {
      if (event.type === 'text-delta') streamed += event.text;
      if (event.type === 'finish') finish = event.usage;
    }
    assert.equal(streamed, result.text);
    assert.equal(finish?.inputTokens, result.usage.inputTokens);
    assert.equal(finish?.outputTokens, result.usage.outputTokens);

    const short = await ours.complete({ prompt: 'What is an LLM?', maxTokens: 5, stop: ['never'] });
    assert.equal(short.finishReason, 'length');
    assert.equal(short.usage.outputTokens, 5);

    const vectors = await ours.generateEmbeddings(['First document', 'Second document'], { batchSize: 1 });
    const reference = await ai.models.embedContent({
      model: 'gemini-embedding-001',
      contents: ['First document', 'Second document'],
    });
    assert.equal(vectors.length, 2);
    vectors.forEach((vector, i) => {
      assert.deepEqual(vector, reference.embeddings?.[i]?.values, `input order kept for ${i}`);
    });
    assert.equal((await ours.generateEmbeddings(['x'], { dimensions: 256 }))[0]?.length, 256);

    assert.equal(ours.countTokens('some text to count'), estimateTokens('some text to count'));
    const counted = await ours.countRequestTokens({ system: 'Be brief.', prompt: 'What is an LLM?' });
    assert.deepEqual(counted, { inputTokens: result.usage.inputTokens, exact: true, source: 'endpoint' });

    const mine = emulator.requests
      .slice(before)
      .filter((request) => request.headers['user-agent'] === USER_AGENT);
    assert.equal(mine.length, 8, 'complete ×3, stream, embeddings ×3, countTokens');
    for (const request of mine) {
      assert.equal(request.headers['x-goog-api-key'], KEY);
      assert.ok(!request.path.includes('key='), 'the key never goes in the URL');
      assert.match(request.path, /^\/v1beta\/models\/gemini-(?:2\.5-flash|embedding-001):/);
    }
    await factory.close();
  });

  test('text-embedding-004 gives 768 dimensions; an empty input is refused before sending', async () => {
    const factory = new LLMClientFactory({ env: {} });
    const client = factory.createClient('gemini', {
      apiKey: KEY,
      baseURL: emulator.url,
      embeddingModel: 'text-embedding-004',
    });
    const [vector] = await client.generateEmbeddings(['x']);
    assert.equal(vector?.length, 768);
    const before = emulator.requests.length;
    await assert.rejects(client.generateEmbeddings(['']), LLMBadRequestError);
    assert.equal(emulator.requests.length, before);
    await factory.close();
  });
});
