/** Gemini configuration, request building and frame decoding, checked piece by piece. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { StreamFrame } from '../../http/frames.ts';
import { LLMConfigurationError, LLMInvalidResponseError, LLMUnsupportedError } from '../../spec/errors.ts';
import type { NormalizedMessage } from '../normalized.ts';
import type { NormalizedRequest, ProviderInput } from '../provider.ts';
import { resolveGemini } from './config.ts';
import { geminiApiRoot } from './index.ts';
import { countTokensBody, generateContentBody, modelResource } from './request.ts';
import { GeminiStreamDecoder } from './stream-decoder.ts';
import { applyPartialArg, parseJsonPath } from './stream-tool-calls.ts';
import { parseGeminiTokenCount } from './token-count.ts';

const input = (extra: Partial<ProviderInput> = {}): ProviderInput => ({ headers: {}, ...extra });
const text = (value: string) => [{ type: 'text' as const, text: value }];
const request = (extra: Partial<NormalizedRequest> = {}): NormalizedRequest => ({
  messages: [{ role: 'user', content: text('hi') }],
  model: 'gemini-2.5-flash',
  ...extra,
});
const bodyOf = (extra: Partial<NormalizedRequest>) => JSON.parse(generateContentBody(request(extra)).body);

describe('gemini configuration', () => {
  test('the key: option, then GEMINI_API_KEY, then GOOGLE_API_KEY', () => {
    const env = { GEMINI_API_KEY: 'from-gemini-env', GOOGLE_API_KEY: 'from-google-env' };
    assert.deepEqual(resolveGemini(input({ apiKey: 'from-option' }), env).secrets, ['from-option']);
    assert.deepEqual(resolveGemini(input(), env).secrets, ['from-gemini-env']);
    assert.deepEqual(resolveGemini(input(), { GOOGLE_API_KEY: 'from-google-env' }).secrets, [
      'from-google-env',
    ]);
  });

  test('a missing key names the option and both variables', () => {
    assert.throws(
      () => resolveGemini(input(), {}),
      (error: unknown) =>
        error instanceof LLMConfigurationError &&
        error.message === 'No API key for gemini: pass `apiKey` or set GEMINI_API_KEY or GOOGLE_API_KEY',
    );
  });

  test('defaults: the public host, v1beta, gemini-2.5-flash and gemini-embedding-001', async () => {
    const resolved = resolveGemini(input({ apiKey: 'k' }), {});
    assert.equal(resolved.adapter.origin, 'https://generativelanguage.googleapis.com');
    assert.equal(resolved.model, 'gemini-2.5-flash');
    assert.equal(resolved.embeddingModel, 'gemini-embedding-001');
    const prepared = resolved.adapter.completionRequest(request(), false);
    assert.equal(
      prepared.url,
      'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent',
    );
    assert.equal(prepared.headers['x-goog-api-key'], 'k');
    assert.equal(resolved.adapter.tokenCountExact, false);
  });

  test('the host from GOOGLE_GEMINI_BASE_URL; the option wins; apiVersion is honoured and checked', () => {
    const env = { GEMINI_API_KEY: 'k', GOOGLE_GEMINI_BASE_URL: 'https://env.example' };
    assert.equal(resolveGemini(input(), env).adapter.origin, 'https://env.example');
    assert.equal(
      resolveGemini(input({ baseURL: 'http://127.0.0.1:9' }), env).adapter.origin,
      'http://127.0.0.1:9',
    );
    const v1 = resolveGemini(input({ apiVersion: 'v1' }), env).adapter.completionRequest(request(), true);
    assert.equal(v1.url, 'https://env.example/v1/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    assert.throws(() => resolveGemini(input({ apiVersion: '2024-10-21' }), env), LLMConfigurationError);
    assert.throws(() => resolveGemini(input({ baseURL: 'not a url' }), env), LLMConfigurationError);
  });

  test('a base URL that already ends in a version is kept as the API root', () => {
    assert.equal(geminiApiRoot('https://host', 'v1beta'), 'https://host/v1beta');
    assert.equal(geminiApiRoot('https://host/', 'v1beta'), 'https://host/v1beta');
    assert.equal(geminiApiRoot('https://proxy/gemini/v1beta/', 'v1beta'), 'https://proxy/gemini/v1beta');
    assert.equal(
      geminiApiRoot('https://gw/v1/acct/google-ai-studio', 'v1beta'),
      'https://gw/v1/acct/google-ai-studio/v1beta',
    );
  });

  test('model names with or without models/', () => {
    assert.equal(modelResource('gemini-2.5-flash'), 'models/gemini-2.5-flash');
    assert.equal(modelResource('models/gemini-2.5-flash'), 'models/gemini-2.5-flash');
    assert.equal(modelResource('tunedModels/mine'), 'tunedModels/mine');
    const adapter = resolveGemini(input({ apiKey: 'k' }), {}).adapter;
    for (const model of ['gemini-2.5-pro', 'models/gemini-2.5-pro']) {
      assert.match(
        adapter.completionRequest(request({ model }), false).url,
        /\/v1beta\/models\/gemini-2\.5-pro:generateContent$/,
      );
    }
  });
});

describe('gemini request bodies', () => {
  test('roles: system → systemInstruction, assistant → model; sampling in generationConfig', () => {
    const body = bodyOf({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: text('Hi') },
        { role: 'assistant', content: text('Hello!') },
        { role: 'user', content: text('Bye') },
      ],
      temperature: 0,
      topP: 0.5,
      maxTokens: 10,
      stop: 'END',
      seed: 7,
    });
    assert.deepEqual(body, {
      contents: [
        { role: 'user', parts: [{ text: 'Hi' }] },
        { role: 'model', parts: [{ text: 'Hello!' }] },
        { role: 'user', parts: [{ text: 'Bye' }] },
      ],
      systemInstruction: { parts: [{ text: 'Be brief.' }] },
      generationConfig: { temperature: 0, topP: 0.5, maxOutputTokens: 10, stopSequences: ['END'], seed: 7 },
    });
  });

  test('tool results become functionResponse parts, parallel ones in one user turn, ids only when Gemini gave them', () => {
    const messages: NormalizedMessage[] = [
      { role: 'user', content: text('Weather in Paris and Rome?') },
      {
        role: 'assistant',
        content: [
          { type: 'tool-call', id: 'call_given', name: 'weather', arguments: '{"city":"Paris"}' },
          {
            type: 'tool-call',
            id: 'call_made_up',
            name: 'weather',
            arguments: '{"city":"Rome"}',
            providerMetadata: { gemini: { syntheticId: true } },
          },
        ],
      },
      {
        role: 'tool',
        toolCallId: 'call_given',
        toolName: 'weather',
        content: text('{"temp":21}'),
        isError: false,
      },
      {
        role: 'tool',
        toolCallId: 'call_made_up',
        toolName: 'weather',
        content: text('sunny'),
        isError: false,
      },
      { role: 'user', content: text('Thanks') },
    ];
    assert.deepEqual(bodyOf({ messages }).contents.slice(1), [
      {
        role: 'model',
        parts: [
          { functionCall: { name: 'weather', args: { city: 'Paris' }, id: 'call_given' } },
          { functionCall: { name: 'weather', args: { city: 'Rome' } } },
        ],
      },
      {
        role: 'user',
        parts: [
          { functionResponse: { name: 'weather', response: { temp: 21 }, id: 'call_given' } },
          { functionResponse: { name: 'weather', response: { output: 'sunny' } } },
        ],
      },
      { role: 'user', parts: [{ text: 'Thanks' }] },
    ]);
  });

  test('providerOptions.gemini merge without overwriting; built-in tools join ours', () => {
    const body = bodyOf({
      temperature: 0.2,
      maxTokens: 5,
      providerOptions: {
        gemini: {
          generationConfig: { thinkingConfig: { thinkingBudget: 0 }, topK: 3 },
          tools: [{ googleSearch: {} }],
        },
        anthropic: { top_k: 1 },
      },
    });
    assert.deepEqual(body.generationConfig, {
      temperature: 0.2,
      maxOutputTokens: 5,
      thinkingConfig: { thinkingBudget: 0 },
      topK: 3,
    });
    assert.deepEqual(body.tools, [{ googleSearch: {} }]);
    assert.equal(body.top_k, undefined);
  });

  test('countTokens: the short form, or the whole request when a system turn or tools must count', () => {
    assert.deepEqual(JSON.parse(countTokensBody(request())), {
      contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
    });
    const full = JSON.parse(
      countTokensBody(
        request({
          tools: [{ name: 'now', parameters: { type: 'object', properties: {} } }],
          providerOptions: { gemini: { tools: [{ codeExecution: {} }] } },
        }),
      ),
    );
    assert.deepEqual(full, {
      generateContentRequest: {
        model: 'models/gemini-2.5-flash',
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        tools: [
          {
            functionDeclarations: [{ name: 'now', parametersJsonSchema: { type: 'object', properties: {} } }],
          },
          { codeExecution: {} },
        ],
      },
    });
  });
});

describe('gemini thinking config', () => {
  const config = (reasoning: NormalizedRequest['reasoning'], model: string) => {
    const { body, warnings } = generateContentBody(request({ reasoning, model }));
    const thinking = (JSON.parse(body).generationConfig as Record<string, unknown> | undefined)
      ?.thinkingConfig;
    return { thinking, warnings: warnings.map((warning) => warning.code) };
  };

  test('2.5: a budget, from budgetTokens or effort, with thought summaries', () => {
    assert.deepEqual(config({ budgetTokens: 2048 }, 'gemini-2.5-flash'), {
      thinking: { thinkingBudget: 2048, includeThoughts: true },
      warnings: [],
    });
    assert.deepEqual(config({ effort: 'low' }, 'gemini-2.5-flash').thinking, {
      thinkingBudget: 1024,
      includeThoughts: true,
    });
    assert.deepEqual(config({ effort: 'none' }, 'gemini-2.5-flash').thinking, { thinkingBudget: 0 });
    assert.deepEqual(config({ effort: 'none' }, 'gemini-2.5-pro'), {
      thinking: { thinkingBudget: 128, includeThoughts: true },
      warnings: ['setting-changed'],
    });
    assert.deepEqual(config({ effort: 'xhigh' }, 'gemini-2.5-pro').thinking, {
      thinkingBudget: 32768,
      includeThoughts: true,
    });
  });

  test('3: a level from effort (Pro has low and high), a budget only without effort', () => {
    assert.deepEqual(config({ effort: 'medium' }, 'gemini-3-flash-preview'), {
      thinking: { thinkingLevel: 'medium', includeThoughts: true },
      warnings: [],
    });
    assert.deepEqual(config({ effort: 'minimal', budgetTokens: 100 }, 'gemini-3-pro-preview'), {
      thinking: { thinkingLevel: 'low', includeThoughts: true },
      warnings: ['setting-changed', 'setting-ignored'],
    });
    assert.deepEqual(config({ budgetTokens: 4096 }, 'models/gemini-3-pro-preview').thinking, {
      thinkingBudget: 4096,
      includeThoughts: true,
    });
  });

  test('before 2.5 a model does not think: unsupported (effort none is fine)', () => {
    assert.throws(
      () => config({ effort: 'high' }, 'gemini-2.0-flash'),
      (error: unknown) =>
        error instanceof LLMUnsupportedError &&
        /gemini model gemini-2\.0-flash does not support reasoning/.test(error.message),
    );
    assert.equal(config({ effort: 'none' }, 'gemini-2.0-flash').thinking, undefined);
  });
});

describe('gemini local token estimate', () => {
  test('an estimate that counts media and tools', () => {
    const { adapter } = resolveGemini(input({ apiKey: 'k' }), {});
    const plain = adapter.countRequestTokensLocally(
      request({ messages: [{ role: 'user', content: text('hello') }] }),
    );
    const rich = adapter.countRequestTokensLocally(
      request({
        messages: [
          {
            role: 'user',
            content: [
              ...text('hello'),
              { type: 'image', source: { kind: 'base64', data: 'iVBORw0KGgo=', mediaType: 'image/png' } },
            ],
          },
        ],
        tools: [{ name: 'now', parameters: { type: 'object', properties: {} } }],
      }),
    );
    assert.equal(plain.exact, false);
    assert.equal(plain.source, 'estimate');
    assert.ok(rich.inputTokens >= plain.inputTokens + 258, `${rich.inputTokens} counts the image`);
  });
});

describe('gemini stream decoder', () => {
  const decode = (text: string, chunkSize: number): StreamFrame[] => {
    const frames: StreamFrame[] = [];
    const decoder = new GeminiStreamDecoder();
    const bytes = Buffer.from(text);
    for (let i = 0; i < bytes.length; i += chunkSize)
      decoder.push(bytes.subarray(i, i + chunkSize), (f) => frames.push(f));
    decoder.end((f) => frames.push(f));
    return frames;
  };

  test('SSE events, then a bare pretty-printed object as one raw frame, in order, at any chunk size', () => {
    const text = 'data: {"a":1}\r\n\r\ndata: {"a":2}\n\n{\n  "error": {\n    "code": 500\n  }\n}\n';
    for (const size of [1, 3, 7, text.length]) {
      assert.deepEqual(decode(text, size), [
        { event: 'message', data: '{"a":1}' },
        { event: 'message', data: '{"a":2}' },
        { event: 'raw', data: '{\n  "error": {\n    "code": 500\n  }\n}' },
      ]);
    }
  });

  test('a JSON array body is one raw frame; a last event without its blank line still comes out', () => {
    assert.deepEqual(decode('[{"a":1}\n,\r\n{"a":2}\n]', 4), [
      { event: 'raw', data: '[{"a":1}\n,\r\n{"a":2}\n]' },
    ]);
    assert.deepEqual(decode('data: {"a":1}', 5), [{ event: 'message', data: '{"a":1}' }]);
  });

  test('a multi-byte character split across chunks survives', () => {
    assert.deepEqual(decode('data: {"t":"秋风"}\r\n\r\n', 1), [{ event: 'message', data: '{"t":"秋风"}' }]);
  });
});

describe('gemini streamed function-call arguments', () => {
  test('JSON paths', () => {
    assert.deepEqual(parseJsonPath('$.location'), ['location']);
    assert.deepEqual(parseJsonPath("$.a.b[2]['c d']"), ['a', 'b', 2, 'c d']);
    assert.equal(parseJsonPath('location'), undefined);
    assert.equal(parseJsonPath('$'), undefined);
  });

  test('string pieces append; numbers, booleans and nulls set; nested paths are created', () => {
    const args: Record<string, unknown> = {};
    applyPartialArg(args, { jsonPath: '$.city', stringValue: 'San ', willContinue: true });
    applyPartialArg(args, { jsonPath: '$.city', stringValue: 'Jose' });
    applyPartialArg(args, { jsonPath: '$.days', numberValue: 3 });
    applyPartialArg(args, { jsonPath: '$.units.metric', boolValue: true });
    applyPartialArg(args, { jsonPath: '$.tags[0]', stringValue: 'x' });
    applyPartialArg(args, { jsonPath: '$.note', nullValue: null });
    assert.deepEqual(args, { city: 'San Jose', days: 3, units: { metric: true }, tags: ['x'], note: null });
  });
});

describe('one JSON guard (isRecord: an object, not an array)', () => {
  const context = { provider: 'gemini' as const, model: 'gemini-2.5-flash', secrets: [] };

  test('a countTokens answer that is an array is an invalid response, not 0 tokens', () => {
    assert.equal(parseGeminiTokenCount({}, context), 0, 'an empty object is 0 (zero fields are left out)');
    assert.throws(() => parseGeminiTokenCount([], context), LLMInvalidResponseError);
  });

  test('streamed arguments still build arrays along their paths', () => {
    const args: Record<string, unknown> = {};
    applyPartialArg(args, { jsonPath: '$.items[0]', stringValue: 'a' });
    applyPartialArg(args, { jsonPath: '$.items[1]', stringValue: 'b' });
    assert.deepEqual(args, { items: ['a', 'b'] });
  });
});
