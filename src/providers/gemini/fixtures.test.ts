/**
 * Every recorded Gemini payload in test/fixtures/gemini goes through the real client, transport,
 * stream decoder and parsers, served by a loopback server, whole and split into small chunks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../../client/factory.ts';
import type { ClientOptions } from '../../client/options.ts';
import { startEmulator } from '../../emulator/index.ts';
import {
  isLLMError,
  LLMAuthenticationError,
  LLMBadRequestError,
  LLMContextWindowError,
  type LLMError,
  LLMInvalidResponseError,
  LLMNotFoundError,
  LLMRateLimitError,
  LLMServerError,
} from '../../spec/errors.ts';
import type { StreamEvent } from '../../spec/types.ts';
import { fixtureFiles, fixtureJson, fixtureText } from '../../test-support/fixtures.ts';
import { coverage, ReplayHarness } from '../../test-support/replay-harness.ts';
import { type Reply, startReplayServer } from '../../test-support/replay-server.ts';

type LLMErrorClass = abstract new (...args: never[]) => LLMError;

const P = 'gemini';
const KEY = 'gemini-fixture-test-key-0000';
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const { use, covered } = coverage();

const client = (options: ClientOptions = {}) =>
  factory.createClient('gemini/gemini-2.5-flash', {
    apiKey: KEY,
    baseURL: harness.url,
    maxRetries: 0,
    ...options,
  });
const completeWith = (reply: Reply) => harness.complete(client(), reply);
const streamWith = (reply: Reply) =>
  harness.stream(client(), { headers: { 'content-type': 'text/event-stream' }, ...reply });
const errorFrom = (reply: Reply) => harness.error(client(), reply);
const lastRequest = () => harness.server.requests.at(-1)!;

/** An independent reading of a Gemini SSE body: candidate 0's text parts, thoughts left out, line by line. */
function oracleText(sse: string): string {
  let text = '';
  for (const line of sse.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    const chunk = JSON.parse(line.slice(5)) as {
      candidates?: Array<{ content?: { parts?: Array<{ text?: string; thought?: boolean }> } }>;
    };
    for (const part of chunk.candidates?.[0]?.content?.parts ?? [])
      if (!part.thought) text += part.text ?? '';
  }
  return text;
}

/** Tool calls assembled from stream deltas, as [name, arguments] by index. */
function toolCallsOf(events: StreamEvent[]): Array<[string, string]> {
  const calls: Array<[string, string]> = [];
  for (const event of events) {
    if (event.type !== 'tool-call-delta') continue;
    calls[event.index] ??= ['', ''];
    const call = calls[event.index]!;
    if (event.name) call[0] = event.name;
    call[1] += event.argumentsDelta;
  }
  return calls;
}

/** Events with the ids made up for calls Gemini gave none replaced by a placeholder (they differ per run). */
function withoutIds(events: StreamEvent[]): unknown {
  return JSON.parse(JSON.stringify(events).replace(/"call_[0-9a-f]{24}"/g, '"call_…"'));
}

/** A stream that must fail: the text delivered before the failure, and the typed error. */
async function failingStream(reply: Reply): Promise<{ text: string; error: LLMError }> {
  harness.next = { headers: { 'content-type': 'text/event-stream' }, ...reply };
  const c = client();
  let text = '';
  try {
    for await (const event of c.stream({ prompt: 'fixture' }))
      if (event.type === 'text-delta') text += event.text;
  } catch (error) {
    assert.ok(isLLMError(error), `a typed error, not ${String(error)}`);
    return { text, error };
  } finally {
    await c.close();
  }
  return assert.fail('expected the stream to fail');
}

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

interface Expected {
  finish: string;
  raw?: string;
  text: string | RegExp;
  usage: [number, number, number];
  reasoning?: number;
  cached?: number;
  model?: string;
  id?: string;
  tools?: Array<[string, string]>;
}

describe('gemini generateContent fixtures', () => {
  const cases: Array<[string, Expected]> = [
    [
      'fbtd.googleai.unary-success-basic-reply-long.json',
      {
        finish: 'stop',
        text: /^Making professional-quality coffee at home/,
        usage: [9, 1612, 1621],
        model: 'gemini-2.0-flash',
      },
    ],
    [
      'fbtd.googleai.unary-success-basic-reply-short.json',
      {
        finish: 'stop',
        text: "Google's headquarters, also known as the Googleplex, is located in **Mountain View, California**.\n",
        usage: [7, 22, 29],
      },
    ],
    [
      'fbtd.googleai.unary-success-citations.json',
      { finish: 'stop', text: /^Okay, let's break down quantum mechanics/, usage: [15, 1667, 1682] },
    ],
    [
      'fbtd.googleai.unary-success-code-execution.json',
      {
        finish: 'stop',
        text: /^The first 5 prime numbers are 2, 3, 5, 7, and 11\.\nThe sum/,
        usage: [21, 182, 363],
        reasoning: 86,
        id: '2Uu4aK2pMeOR-8YP-7eXwAQ',
      },
    ],
    [
      'fbtd.googleai.unary-success-google-maps-grounding.json',
      { finish: 'stop', text: /^Here are a few pizza places near you/, usage: [9, 375, 443], reasoning: 87 },
    ],
    [
      'fbtd.googleai.unary-success-google-search-grounding-empty-grounding-chunks.json',
      {
        finish: 'stop',
        text: /^The current weather in London, United Kingdom is cloudy with/,
        usage: [8, 59, 67],
      },
    ],
    [
      'fbtd.googleai.unary-success-google-search-grounding.json',
      {
        finish: 'stop',
        text: /^The current weather in London, United Kingdom is cloudy\./,
        usage: [8, 60, 68],
      },
    ],
    [
      'fbtd.googleai.unary-success-thinking-function-call-thought-summary-signature.json',
      {
        finish: 'tool-calls',
        raw: 'STOP',
        text: '',
        usage: [38, 509, 547],
        reasoning: 501,
        model: 'gemini-2.5-pro',
        tools: [['now', '{}']],
      },
    ],
    [
      'fbtd.googleai.unary-success-thinking-reply-thought-summary.json',
      { finish: 'stop', text: 'Mountain View', usage: [14, 26, 40], reasoning: 24 },
    ],
    [
      'fbtd.googleai.unary-success-url-context-mixed-validity.json',
      {
        finish: 'stop',
        text: /^\nThe valid page, https:\/\/ai\.google\.dev, successfully loaded/,
        usage: [118, 358, 2437],
        reasoning: 46,
      },
    ],
    [
      'fbtd.googleai.unary-success-url-context.json',
      {
        finish: 'stop',
        text: /^Berkshire Hathaway Inc\.'s official website/,
        usage: [15, 244, 683],
        reasoning: 142,
      },
    ],
    [
      'fbtd.googleai.unary-failure-finish-reason-safety.json',
      {
        finish: 'content-filter',
        raw: 'SAFETY',
        text: 'Safety error incoming in 5, 4, 3, 2...',
        usage: [7, 20, 27],
      },
    ],
    [
      'fbtd.googleai.unary-failure-only-prompt-feedback.json',
      { finish: 'content-filter', text: '', usage: [0, 0, 0], model: 'gemini-2.0-flash' },
    ],
    [
      'fbtd.googleai.unary-failure-with-message-no-content.json',
      { finish: 'other', raw: 'OTHER', text: '', usage: [0, 0, 0], model: 'gemini-2.5-flash' },
    ],
    [
      'fbtd.vertexai.unary-success-function-call-empty-arguments.json',
      { finish: 'tool-calls', text: '', usage: [0, 0, 0], tools: [['current_time', '{}']] },
    ],
    [
      'fbtd.vertexai.unary-success-function-call-parallel-calls.json',
      {
        finish: 'tool-calls',
        text: '',
        usage: [0, 0, 0],
        tools: [
          ['sum', '{"y":1,"x":2}'],
          ['sum', '{"y":3,"x":4}'],
          ['sum', '{"y":5,"x":6}'],
        ],
      },
    ],
    [
      'fbtd.vertexai.unary-success-function-call-with-arguments.json',
      { finish: 'tool-calls', text: '', usage: [0, 0, 0], tools: [['sum', '{"y":5,"x":4}']] },
    ],
    [
      'fbtd.vertexai.unary-success-implicit-caching.json',
      {
        finish: 'stop',
        text: 'Red Riding Hood is looking for **directions** in the forest.',
        usage: [12013, 88, 12101],
        reasoning: 73,
        cached: 11243,
      },
    ],
    [
      'fbtd.vertexai.unary-success-unknown-enum-safety-ratings.json',
      { finish: 'stop', text: 'Some text', usage: [0, 0, 0] },
    ],
    [
      'fbtd.vertexai.unary-success-usage-metadata.json',
      { finish: 'stop', text: 'Mountain View, California, United States', usage: [6, 357, 363] },
    ],
    [
      'gai-js.unary-success-logprobs.json',
      { finish: 'stop', text: /^1\. \*\*Definition:\*\*\nQuantum mechanics/, usage: [0, 0, 0] },
    ],
    [
      'generateContent.functionCall.json',
      {
        finish: 'tool-calls',
        text: '',
        usage: [29, 908, 937],
        reasoning: 893,
        model: 'gemini-3-pro-preview',
        id: 'm36LaZGyCLz1xs0PtNSB-QU',
        tools: [['weather', '{"location":"San Francisco"}']],
      },
    ],
    [
      'generateContent.text.gemini-3-pro-preview.json',
      {
        finish: 'stop',
        text: "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.",
        usage: [9, 272, 281],
        reasoning: 244,
        id: 'Un6LacrVMcjUxs0PmJfWoQc',
      },
    ],
    [
      'generateContent.thought-parts.json',
      {
        finish: 'stop',
        text: 'There are **3** "r"s in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.',
        usage: [9, 311, 320],
        reasoning: 282,
      },
    ],
  ];
  for (const [file, expected] of cases) {
    test(use(file), async () => {
      const body = fixtureText(P, file);
      const result = await completeWith({ body });
      assert.equal(result.finishReason, expected.finish);
      assert.equal(
        result.rawFinishReason,
        expected.raw ?? (expected.finish === 'content-filter' ? undefined : 'STOP'),
      );
      if (typeof expected.text === 'string') assert.equal(result.text, expected.text);
      else assert.match(result.text, expected.text);
      const { usage } = result;
      assert.deepEqual([usage.inputTokens, usage.outputTokens, usage.totalTokens], expected.usage);
      assert.equal(usage.reasoningTokens, expected.reasoning);
      assert.equal(usage.cachedInputTokens, expected.cached);
      if (expected.model) assert.equal(result.model, expected.model);
      if (expected.id) assert.equal(result.id, expected.id);
      assert.deepEqual(
        result.toolCalls.map((call) => [call.name, call.arguments]),
        expected.tools ?? [],
      );
      // Gemini gave no ids: each call gets its own, marked as made up so that it is never sent back.
      const ids = result.toolCalls.map((call) => call.id);
      assert.equal(new Set(ids).size, ids.length, 'distinct ids, even for same-name calls');
      for (const part of result.message.content) {
        if (part.type !== 'tool-call') continue;
        assert.match(part.id, /^call_[0-9a-f]{24}$/);
        assert.equal(part.providerMetadata?.gemini?.syntheticId, true);
      }
      assert.equal(result.provider, 'gemini');
      assert.deepEqual(result.raw, JSON.parse(body), 'raw keeps the whole body');
    });
  }

  test('code-execution parts are not text: only the text parts are', async () => {
    const result = await completeWith({
      body: fixtureText(P, 'fbtd.googleai.unary-success-code-execution.json'),
    });
    assert.ok(!result.text.includes('prime_numbers ='), 'executable code left out');
    assert.ok(!result.text.includes('OUTCOME_OK'), 'execution result left out');
  });

  test(`${use('constructed.generateContent.request.json')}: the body we send, on the native path, key in a header`, async () => {
    harness.next = { body: fixtureText(P, 'generateContent.text.gemini-3-pro-preview.json') };
    const c = client();
    await c.complete({
      system: 'Answer briefly.',
      prompt: 'What is the capital of Wyoming?',
      temperature: 0.7,
      maxTokens: 256,
    });
    await c.close();
    const seen = lastRequest();
    assert.deepEqual(JSON.parse(seen.body), fixtureJson(P, 'constructed.generateContent.request.json'));
    assert.equal(seen.url, '/v1beta/models/gemini-2.5-flash:generateContent');
    assert.equal(seen.headers['x-goog-api-key'], KEY);
    assert.ok(!seen.url.includes('key='), 'never the key in the URL');
  });

  test(`${use('fbtd.vertexai.unary-failure-invalid-response.json')} (synthetic) is an LLMInvalidResponseError`, async () => {
    const error = await errorFrom({
      body: fixtureText(P, 'fbtd.vertexai.unary-failure-invalid-response.json'),
    });
    assert.ok(error instanceof LLMInvalidResponseError, error.message);
    assert.equal(error.retryable, true);
  });
});

describe('gemini streamGenerateContent fixtures', () => {
  const cases: Array<[string, Omit<Expected, 'text' | 'usage'> & { usage?: [number, number, number] }]> = [
    [
      'fbtd.googleai.streaming-failure-prompt-blocked-safety.sse',
      { finish: 'content-filter', raw: 'SAFETY' },
    ],
    [
      'fbtd.googleai.streaming-failure-recitation-no-content.sse',
      { finish: 'content-filter', raw: 'RECITATION', usage: [9, 261, 270] },
    ],
    ['fbtd.googleai.streaming-success-basic-reply-long.sse', { finish: 'stop', usage: [10, 1996, 2006] }],
    [
      'fbtd.googleai.streaming-success-basic-reply-short.sse',
      { finish: 'stop', usage: [7, 10, 17], model: 'gemini-2.0-flash' },
    ],
    ['fbtd.googleai.streaming-success-citations.sse', { finish: 'stop', usage: [15, 1381, 1396] }],
    [
      'fbtd.googleai.streaming-success-code-execution.sse',
      { finish: 'stop', usage: [21, 221, 485], reasoning: 95, id: 'RUy4aObyJcTujrEPqtKYKQ' },
    ],
    ['fbtd.googleai.streaming-success-empty-parts.sse', { finish: 'stop', usage: [16, 1307, 1323] }],
    ['fbtd.googleai.streaming-success-finish-message.sse', { finish: 'stop', usage: [0, 0, 0] }],
    ['fbtd.googleai.streaming-success-no-content-parts.sse', { finish: 'stop', usage: [34, 1370, 1404] }],
    [
      'fbtd.googleai.streaming-success-thinking-function-call-thought-summary-signature.sse',
      { finish: 'tool-calls', usage: [38, 174, 212], reasoning: 168, tools: [['now', '{}']] },
    ],
    [
      'fbtd.googleai.streaming-success-thinking-reply-thought-summary.sse',
      { finish: 'stop', usage: [10, 588, 598], reasoning: 540 },
    ],
    [
      'fbtd.googleai.streaming-success-url-context.sse',
      { finish: 'stop', usage: [438, 120, 1177], reasoning: 39 },
    ],
    [
      'fbtd.vertexai.streaming-success-function-call-short.sse',
      { finish: 'tool-calls', tools: [['getTemperature', '{"city":"San Jose"}']] },
    ],
    ['fbtd.vertexai.streaming-success-utf8.sse', { finish: 'stop' }],
    // Older models repeat finishReason STOP on every chunk; the last chunk (grounding only) has none.
    ['gai-js.streaming-success-search-grounding.sse', { finish: 'stop', usage: [8, 106, 114] }],
    ['gai-js.streaming-unknown-enum.sse', { finish: 'other', raw: 'FAKE_ENUM' }],
    [
      'streamGenerateContent.sse.functionCall.reframed.sse',
      {
        finish: 'tool-calls',
        usage: [29, 60, 89],
        reasoning: 45,
        tools: [['weather', '{"location":"San Francisco"}']],
      },
    ],
    [
      'streamGenerateContent.sse.text.gemini-3-pro-preview.reframed.sse',
      {
        finish: 'stop',
        usage: [9, 208, 217],
        reasoning: 185,
        model: 'gemini-3-pro-preview',
        id: 'bH6LaZW8Fp_3nsEPqtaSwQ4',
      },
    ],
    [
      'streamGenerateContent.sse.thought-parts.reframed.sse',
      { finish: 'stop', usage: [9, 285, 294], reasoning: 256 },
    ],
    // Vertex streamed arguments: two calls, each assembled from partialArgs pieces.
    [
      'vertex.streamGenerateContent.partialArgs.reframed.sse',
      {
        finish: 'tool-calls',
        usage: [26, 155, 181],
        reasoning: 132,
        tools: [
          ['getWeather', '{"location":"Boston"}'],
          ['getWeather', '{"location":"San Francisco"}'],
        ],
      },
    ],
  ];
  for (const [file, expected] of cases) {
    for (const chunkSize of [undefined, 7]) {
      test(`${use(file)}${chunkSize ? ` in ${chunkSize}-byte chunks` : ''}`, async () => {
        const sse = fixtureText(P, file);
        const { text, events, finish } = await streamWith(
          chunkSize ? { body: sse, chunkSize } : { body: sse },
        );
        assert.equal(text, oracleText(sse));
        assert.equal(finish.finishReason, expected.finish);
        assert.equal(finish.rawFinishReason, expected.raw ?? 'STOP');
        if (expected.usage) {
          const { usage } = finish;
          assert.deepEqual([usage.inputTokens, usage.outputTokens, usage.totalTokens], expected.usage);
          assert.equal(usage.reasoningTokens, expected.reasoning);
        }
        if (expected.model) assert.equal(finish.model, expected.model);
        if (expected.id) assert.equal(finish.id, expected.id);
        assert.deepEqual(toolCallsOf(events), expected.tools ?? []);
        for (const [, args] of toolCallsOf(events)) JSON.parse(args);
        assert.equal(lastRequest().url, '/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
      });
    }
  }

  test('CRLF framing split between CR and LF, one byte at a time, gives the same events', async () => {
    const sse = fixtureText(P, 'fbtd.googleai.streaming-success-basic-reply-short.sse');
    assert.ok(sse.includes('\r\n\r\n'), 'the recording is CRLF-framed');
    const whole = await streamWith({ body: sse });
    const bytewise = await streamWith({ body: sse, chunkSize: 1 });
    assert.deepEqual(bytewise.events, whole.events);
    assert.equal(whole.text, 'The capital of Wyoming is **Cheyenne**.\n');
  });

  for (const name of ['functionCall', 'text.gemini-3-pro-preview', 'thought-parts']) {
    const jsonl = `streamGenerateContent.sse.${name}.chunks.jsonl`;
    const reframed = `streamGenerateContent.sse.${name}.reframed.sse`;
    test(`${use(jsonl)} is ${reframed} (CRLF) and streams the same as a JSON array without alt=sse`, async () => {
      const lines = fixtureText(P, jsonl).trim().split('\n');
      assert.equal(lines.map((line) => `data: ${line}\r\n\r\n`).join(''), fixtureText(P, reframed));
      const sse = await streamWith({ body: fixtureText(P, reframed) });
      const array = await streamWith({
        headers: { 'content-type': 'application/json' },
        body: `[${lines.join('\n,\r\n')}]`,
        chunkSize: 64,
      });
      assert.deepEqual(withoutIds(array.events), withoutIds(sse.events));
    });
  }

  test(`${use('vertex.streamGenerateContent.partialArgs.chunks.jsonl')} reframes to its .sse`, () => {
    const lines = fixtureText(P, 'vertex.streamGenerateContent.partialArgs.chunks.jsonl').trim().split('\n');
    assert.equal(
      lines.map((line) => `data: ${line}\r\n\r\n`).join(''),
      fixtureText(P, 'vertex.streamGenerateContent.partialArgs.reframed.sse'),
    );
  });

  for (const chunkSize of [undefined, 7]) {
    test(`${use('fbtd.vertexai.streaming-failure-error-mid-stream.sse')}: text first, then the bare error object, typed${chunkSize ? ` (${chunkSize}-byte chunks)` : ''}`, async () => {
      const sse = fixtureText(P, 'fbtd.vertexai.streaming-failure-error-mid-stream.sse');
      const { text, error } = await failingStream(chunkSize ? { body: sse, chunkSize } : { body: sse });
      assert.equal(text, 'First Second ');
      assert.equal(text, oracleText(sse));
      assert.ok(error instanceof LLMServerError, `${error.name}: ${error.message}`);
      assert.equal(error.providerCode, 'CANCELLED');
      assert.equal(error.status, 200, 'the response’s real status, not the body’s code (499)');
      assert.match(error.body ?? '', /"code":499/, 'the body keeps the code');
      assert.equal(error.attempts, 1, 'output was produced: not retried');
      assert.match(error.message, /^gemini stream error CANCELLED: The operation was cancelled\./);
    });
  }

  test('an error event in SSE framing mid-stream is typed the same way', async () => {
    const first = fixtureText(P, 'fbtd.vertexai.streaming-failure-error-mid-stream.sse').split(
      /\r?\n\r?\n/,
    )[0]!;
    const error = {
      error: {
        code: 429,
        message: 'Resource has been exhausted (e.g. check quota).',
        status: 'RESOURCE_EXHAUSTED',
      },
    };
    const outcome = await failingStream({ body: `${first}\r\n\r\ndata: ${JSON.stringify(error)}\r\n\r\n` });
    assert.equal(outcome.text, 'First ');
    assert.ok(outcome.error instanceof LLMRateLimitError);
    assert.equal(outcome.error.status, 200, 'not the 429 the body’s code says');
    assert.equal(outcome.error.providerCode, 'RESOURCE_EXHAUSTED');
  });

  test(`${use('fbtd.vertexai.streaming-failure-invalid-json.sse')} (synthetic): no finish reason, an LLMInvalidResponseError`, async () => {
    const { text, error } = await failingStream({
      body: fixtureText(P, 'fbtd.vertexai.streaming-failure-invalid-json.sse'),
    });
    assert.equal(text, '');
    assert.ok(error instanceof LLMInvalidResponseError, error.message);
    assert.match(error.message, /ended before the model finished/);
  });

  test('a stream cut before its finish reason is an LLMInvalidResponseError', async () => {
    const sse = fixtureText(P, 'fbtd.googleai.streaming-success-basic-reply-short.sse');
    const { text, error } = await failingStream({ body: sse.slice(0, sse.lastIndexOf('data:')) });
    assert.equal(text, 'The capital of Wyoming');
    assert.ok(error instanceof LLMInvalidResponseError);
  });

  test(`${use('fbtd.googleai.streaming-failure-image-rejected.sse')}: as a 400, and as a bare body in a 200`, async () => {
    const body = fixtureText(P, 'fbtd.googleai.streaming-failure-image-rejected.sse');
    for (const reply of [{ status: 400, body }, { body }, { body, chunkSize: 5 }]) {
      const { text, error } = await failingStream(reply);
      assert.equal(text, '');
      assert.equal(error.constructor, LLMBadRequestError);
      assert.equal(error.providerCode, 'INVALID_ARGUMENT');
      assert.match(error.message, /Request contains an invalid argument/);
    }
  });

  test(`${use('fbtd.vertexai.streaming-failure-http-error.json')} (templated): a 400 to a stream request is typed`, async () => {
    const { error } = await failingStream({
      status: 400,
      body: fixtureText(P, 'fbtd.vertexai.streaming-failure-http-error.json'),
    });
    assert.equal(error.constructor, LLMBadRequestError);
    assert.equal(error.providerCode, 'FAILED_PRECONDITION');
    assert.equal(error.retryable, false);
  });
});

describe('gemini error fixtures', () => {
  const cases: Array<
    [string, number, LLMErrorClass, { code?: string; retryAfterMs?: number; message?: RegExp }]
  > = [
    [
      'error.400.INVALID_ARGUMENT.batchEmbedContents-limit.json',
      400,
      LLMBadRequestError,
      { code: 'INVALID_ARGUMENT', message: /at most 100 requests can be in one batch/ },
    ],
    [
      'error.400.INVALID_ARGUMENT.penalty-not-enabled.json',
      400,
      LLMBadRequestError,
      { code: 'INVALID_ARGUMENT', message: /Penalty is not enabled/ },
    ],
    [
      'error.429.RESOURCE_EXHAUSTED.QuotaFailure-RetryInfo.json',
      429,
      LLMRateLimitError,
      { code: 'RESOURCE_EXHAUSTED', retryAfterMs: 34_400 },
    ],
    [
      'error.429.RESOURCE_EXHAUSTED.free-tier.full.captured.json',
      429,
      LLMRateLimitError,
      { code: 'RESOURCE_EXHAUSTED', retryAfterMs: 57_000, message: /Please retry in 57\.219397761s/ },
    ],
    [
      'fbtd.googleai.unary-failure-api-key.json',
      400,
      LLMAuthenticationError,
      { code: 'INVALID_ARGUMENT', message: /API key not valid/ },
    ],
    [
      'fbtd.googleai.unary-failure-generativelanguage-api-not-enabled.json',
      403,
      LLMAuthenticationError,
      { code: 'PERMISSION_DENIED' },
    ],
    [
      'fbtd.googleai.unary-failure-unknown-model.json',
      404,
      LLMNotFoundError,
      { code: 'NOT_FOUND', message: /models\/gemini-5\.0-flash is not found/ },
    ],
    // Templated: the message is the placeholder "$grpcMessage"; the status and code are what count.
    ['fbtd.vertexai.unary-failure-http-error.json', 400, LLMBadRequestError, { code: 'FAILED_PRECONDITION' }],
    [
      'fbtd.vertexai.unary-failure-iam-permission-denied.json',
      403,
      LLMAuthenticationError,
      { code: 'PERMISSION_DENIED' },
    ],
    ['fbtd.vertexai.unary-failure-model-not-found.json', 404, LLMNotFoundError, { code: 'NOT_FOUND' }],
    [
      'fbtd.vertexai.unary-failure-quota-exceeded.json',
      429,
      LLMRateLimitError,
      { code: 'RESOURCE_EXHAUSTED' },
    ],
  ];
  for (const [file, status, type, expected] of cases) {
    test(`${use(file)} → ${type.name}, also as an array of one status`, async () => {
      const body = fixtureText(P, file);
      for (const served of [body, `[${body}]`]) {
        const error = await errorFrom({ status, body: served });
        assert.equal(error.constructor, type, `${error.name}: ${error.message}`);
        assert.equal(error.status, status);
        assert.equal(error.providerCode, expected.code);
        assert.equal(error.retryAfterMs, expected.retryAfterMs);
        assert.equal(error.retryable, type === LLMRateLimitError);
        if (expected.message) assert.match(error.message, expected.message);
        assert.equal(error.body, served, 'the body is kept as sent');
      }
    });
  }

  test(`${use('error.400.INVALID_ARGUMENT.batchEmbedContents-limit.with-status.json')}: the recorded status and body, from embeddings`, async () => {
    const recorded = fixtureJson<{ status: number; body: unknown }>(
      P,
      'error.400.INVALID_ARGUMENT.batchEmbedContents-limit.with-status.json',
    );
    harness.next = { status: recorded.status, body: JSON.stringify(recorded.body) };
    const c = client();
    const error = await c.generateEmbeddings(['a']).then(
      () => assert.fail('expected a failure'),
      (caught: LLMError) => caught,
    );
    await c.close();
    assert.equal(error.constructor, LLMBadRequestError);
    assert.equal(error.status, 400);
  });

  test('RetryInfo wins over retry-after; retry-after is the fallback without it', async () => {
    const withInfo = await errorFrom({
      status: 429,
      headers: { 'retry-after': '7' },
      body: fixtureText(P, 'error.429.RESOURCE_EXHAUSTED.QuotaFailure-RetryInfo.json'),
    });
    assert.equal(withInfo.retryAfterMs, 34_400);
    const without = await errorFrom({
      status: 429,
      headers: { 'retry-after': '7' },
      body: fixtureText(P, 'fbtd.vertexai.unary-failure-quota-exceeded.json'),
    });
    assert.equal(without.retryAfterMs, 7000);
  });

  test('the API key is scrubbed from a body that echoes it', async () => {
    harness.next = { status: 400, body: fixtureText(P, 'fbtd.googleai.unary-failure-api-key.json') };
    const c = client({ apiKey: 'key1234' });
    const error = await c.complete({ prompt: 'x' }).then(
      () => assert.fail('expected a failure'),
      (caught: LLMError) => caught,
    );
    await c.close();
    assert.ok(error instanceof LLMAuthenticationError);
    assert.ok(!error.body?.includes('key1234') && !error.message.includes('key1234'));
  });

  test('bodies of any shape get the class their status calls for', async () => {
    const contextWindow = JSON.stringify({
      error: {
        code: 400,
        message: 'The input token count (1196265) exceeds the maximum number of tokens allowed (1048575).',
        status: 'INVALID_ARGUMENT',
      },
    });
    assert.ok((await errorFrom({ status: 400, body: contextWindow })) instanceof LLMContextWindowError);
    assert.ok(
      (await errorFrom({
        status: 503,
        headers: { 'content-type': 'text/html' },
        body: '<html><body>503 Service Unavailable</body></html>',
      })) instanceof LLMServerError,
    );
    assert.ok((await errorFrom({ status: 429, body: '' })) instanceof LLMRateLimitError);
    assert.ok((await errorFrom({ status: 500, body: '{"error": "boom"}' })) instanceof LLMServerError);
  });
});

describe('gemini embeddings and token-count fixtures', () => {
  test(`${use('constructed.batchEmbedContents.request.json')} → ${use('constructed.batchEmbedContents.response.json')}`, async () => {
    harness.next = { body: fixtureText(P, 'constructed.batchEmbedContents.response.json') };
    const c = client();
    const vectors = await c.generateEmbeddings(['first text', 'second text']);
    await c.close();
    assert.deepEqual(vectors, [
      [0.0123, -0.0456, 0.0789],
      [-0.0321, 0.0654, -0.0987],
    ]);
    assert.equal(lastRequest().url, '/v1beta/models/gemini-embedding-001:batchEmbedContents');
    assert.deepEqual(
      JSON.parse(lastRequest().body),
      fixtureJson(P, 'constructed.batchEmbedContents.request.json'),
    );
  });

  test(`${use('constructed.embedContent.response.json')} (one input) is read too`, async () => {
    harness.next = { body: fixtureText(P, 'constructed.embedContent.response.json') };
    const c = client();
    assert.deepEqual(await c.generateEmbeddings(['x']), [[0.0123, -0.0456, 0.0789, -0.0012]]);
    await c.close();
  });

  test(`${use('constructed.embedContent.request.json')} is answered by the emulator in the documented shape`, async () => {
    const emulator = await startEmulator();
    try {
      const response = await fetch(`${emulator.url}/v1beta/models/gemini-embedding-001:embedContent`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-goog-api-key': KEY },
        body: fixtureText(P, 'constructed.embedContent.request.json'),
      });
      const body = (await response.json()) as { embedding: { values: number[] } };
      assert.equal(response.status, 200);
      assert.equal(body.embedding.values.length, 768, 'outputDimensionality honoured');
      assert.ok(Math.abs(Math.hypot(...body.embedding.values) - 1) < 1e-5);
    } finally {
      await emulator.close();
    }
  });

  test('150 inputs go as batches of 100 and 50, vectors back in input order', async () => {
    const server = await startReplayServer((request) => {
      const { requests } = JSON.parse(request.body) as {
        requests: Array<{ content: { parts: Array<{ text: string }> } }>;
      };
      return {
        body: JSON.stringify({
          embeddings: requests.map((r) => ({ values: [Number(r.content.parts[0]!.text)] })),
        }),
      };
    });
    const c = factory.createClient('gemini', { apiKey: KEY, baseURL: server.url, maxRetries: 0 });
    const texts = Array.from({ length: 150 }, (_, i) => String(i));
    const vectors = await c.generateEmbeddings(texts, { dimensions: 8 });
    await c.close();
    await server.close();
    assert.deepEqual(
      vectors,
      texts.map((text) => [Number(text)]),
    );
    const sizes = server.requests.map(
      (r) => (JSON.parse(r.body) as { requests: Array<{ outputDimensionality: number }> }).requests,
    );
    assert.deepEqual(
      sizes.map((batch) => batch.length).sort((a, b) => b - a),
      [100, 50],
    );
    assert.ok(sizes.flat().every((entry) => entry.outputDimensionality === 8));
  });

  test(`${use('constructed.countTokens.request.json')} → ${use('constructed.countTokens.response.json')}`, async () => {
    harness.next = { body: fixtureText(P, 'constructed.countTokens.response.json') };
    const c = client();
    const count = await c.countRequestTokens({ prompt: 'The quick brown fox jumps over the lazy dog.' });
    await c.close();
    assert.deepEqual(count, { inputTokens: 10, exact: true, source: 'endpoint' });
    assert.equal(lastRequest().url, '/v1beta/models/gemini-2.5-flash:countTokens');
    assert.deepEqual(JSON.parse(lastRequest().body), fixtureJson(P, 'constructed.countTokens.request.json'));
  });

  for (const [file, tokens] of [
    ['fbtd.vertexai.unary-success-total-tokens.json', 6],
    ['fbtd.vertexai.unary-success-detailed-token-response.json', 1837],
  ] as const) {
    test(`${use(file)} is a countTokens answer of ${tokens}`, async () => {
      harness.next = { body: fixtureText(P, file) };
      const c = client();
      const count = await c.countRequestTokens({ system: 'Be brief.', prompt: 'count me' });
      await c.close();
      assert.equal(count.inputTokens, tokens);
      const sent = JSON.parse(lastRequest().body) as {
        generateContentRequest: { model: string; systemInstruction: unknown };
      };
      assert.equal(
        sent.generateContentRequest.model,
        'models/gemini-2.5-flash',
        'a system turn needs the full request',
      );
      assert.deepEqual(sent.generateContentRequest.systemInstruction, { parts: [{ text: 'Be brief.' }] });
    });
  }
});

test('every gemini fixture is covered', () => {
  const leftOut = new Map<string, string>();
  const missing = fixtureFiles(P).filter((file) => !covered.has(file) && !leftOut.has(file));
  assert.deepEqual(missing, [], `fixtures with no test: ${missing.join(', ')}`);
});
