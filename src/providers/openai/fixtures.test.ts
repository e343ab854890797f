/**
 * Every recorded OpenAI payload in test/fixtures/openai goes through the real client, transport,
 * SSE decoder and parsers, served by a loopback server, whole and split into small chunks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import {
  LLMAuthenticationError,
  LLMBadRequestError,
  LLMContextWindowError,
  LLMRateLimitError,
  LLMServerError,
} from '../../spec/errors.ts';
import {
  oracleStreamText,
  type RecordedExchange,
  recordedPath,
  replyFromRecorded,
} from '../../test-support/exchanges.ts';
import { fixtureFiles, fixtureJson, fixtureText } from '../../test-support/fixtures.ts';
import { coverage, ReplayHarness } from '../../test-support/replay-harness.ts';
import type { Reply } from '../../test-support/replay-server.ts';

const P = 'openai';
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const { use, covered } = coverage();

function client(): LLMClient {
  return factory.createClient('openai/gpt-4o', {
    apiKey: 'sk-fixture-test-key-0000000000',
    baseURL: `${harness.url}/v1`,
    maxRetries: 0,
  });
}
const completeWith = (reply: Reply) => harness.complete(client(), reply);
const streamWith = (reply: Reply) => harness.stream(client(), reply);
const errorFrom = (reply: Reply) => harness.error(client(), reply);

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

describe('openai non-streaming fixtures', () => {
  const cases: Array<
    [
      string,
      {
        finish: string;
        text: string | RegExp;
        usage: [number, number, number];
        model: string;
        tools?: number;
        cached?: number;
      },
    ]
  > = [
    [
      'chat-completion.nonstream.finish-length.gpt-4o.json',
      { finish: 'length', text: '{"', usage: [79, 1, 80], model: 'gpt-4o-2024-08-06' },
    ],
    [
      'chat-completion.nonstream.gpt-4.1-nano.json',
      {
        finish: 'stop',
        text: /^\*\*Holiday Name:\*\* Galaxy Day/,
        usage: [16, 363, 379],
        model: 'gpt-4.1-nano-2025-04-14',
        cached: 0,
      },
    ],
    [
      'chat-completion.nonstream.gpt-4o-mini.json',
      {
        finish: 'stop',
        text: 'OpenAI API Documentation',
        usage: [72, 4, 76],
        model: 'gpt-4o-mini-2024-07-18',
        cached: 0,
      },
    ],
    [
      'chat-completion.nonstream.json-schema.gpt-4o.json',
      {
        finish: 'stop',
        text: /^\{"city":"San Francisco","temperature":65/,
        usage: [79, 14, 93],
        model: 'gpt-4o-2024-08-06',
      },
    ],
    [
      'chat-completion.nonstream.n3.gpt-4o.json',
      { finish: 'stop', text: /"temperature":64/, usage: [79, 44, 123], model: 'gpt-4o-2024-08-06' },
    ],
    [
      'chat-completion.nonstream.refusal.gpt-4o.json',
      {
        finish: 'content-filter',
        text: /^I'm very sorry, but I can't as/,
        usage: [79, 12, 91],
        model: 'gpt-4o-2024-08-06',
      },
    ],
    [
      'chat-completion.nonstream.text.gpt-4o.json',
      {
        finish: 'stop',
        text: /^I'm unable to provide real-time weather updates/,
        usage: [14, 37, 51],
        model: 'gpt-4o-2024-08-06',
      },
    ],
    [
      'chat-completion.nonstream.tool_calls.complex-args.gpt-4o.json',
      { finish: 'tool-calls', text: '', usage: [512, 132, 644], model: 'gpt-4o-2024-08-06', tools: 1 },
    ],
    [
      'chat-completion.nonstream.tool_calls.parallel.gpt-4o.json',
      { finish: 'tool-calls', text: '', usage: [149, 60, 209], model: 'gpt-4o-2024-08-06', tools: 2 },
    ],
    [
      'chat-completion.nonstream.tool_calls.single.gpt-4o.json',
      { finish: 'tool-calls', text: '', usage: [76, 24, 100], model: 'gpt-4o-2024-08-06', tools: 1 },
    ],
    [
      'doc.chat-completion.nonstream.default.json',
      {
        finish: 'stop',
        text: 'Hello! How can I assist you today?',
        usage: [19, 10, 29],
        model: 'gpt-5.4',
        cached: 0,
      },
    ],
    [
      'doc.chat-completion.nonstream.logprobs.json',
      { finish: 'stop', text: 'Hello! How can I assist you today?', usage: [9, 9, 18], model: 'gpt-4o-mini' },
    ],
    [
      'doc.chat-completion.nonstream.tool_calls.json',
      { finish: 'tool-calls', text: '', usage: [82, 17, 99], model: 'gpt-4o-mini', tools: 1 },
    ],
    [
      'legacy-completions.nonstream.json',
      {
        finish: 'length',
        text: /^The new holiday is called "Gratitude Day"/,
        usage: [14, 16, 30],
        model: 'gpt-3.5-turbo-instruct:20230824-v2',
      },
    ],
  ];
  for (const [file, expected] of cases) {
    test(use(file), async () => {
      const result = await completeWith({ body: fixtureText(P, file) });
      assert.equal(result.finishReason, expected.finish);
      if (typeof expected.text === 'string') assert.equal(result.text, expected.text);
      else assert.match(result.text, expected.text);
      assert.deepEqual(
        [result.usage.inputTokens, result.usage.outputTokens, result.usage.totalTokens],
        expected.usage,
      );
      assert.equal(result.model, expected.model);
      assert.equal(result.provider, 'openai');
      assert.equal(result.toolCalls.length, expected.tools ?? 0);
      if (expected.cached !== undefined) assert.equal(result.usage.cachedInputTokens, expected.cached);
      for (const call of result.toolCalls ?? []) {
        assert.ok(call.id && call.name, 'tool calls keep id and name');
        JSON.parse(call.arguments);
      }
      assert.deepEqual(result.raw, JSON.parse(fixtureText(P, file)), 'raw keeps the whole body');
    });
  }

  test(use('chat-completion.cached-tokens.wrapper.json'), async () => {
    const wrapper = fixtureJson<{
      attempts: Array<{
        rawResponseBody: unknown;
        rawCachedTokens: number;
        sdkUsage: { inputTokens: number; outputTokens: number };
      }>;
    }>(P, 'chat-completion.cached-tokens.wrapper.json');
    assert.equal(wrapper.attempts.length, 2);
    for (const attempt of wrapper.attempts) {
      const result = await completeWith({ body: JSON.stringify(attempt.rawResponseBody) });
      assert.equal(result.usage.cachedInputTokens, attempt.rawCachedTokens);
      assert.equal(result.usage.inputTokens, attempt.sdkUsage.inputTokens);
      assert.equal(result.usage.outputTokens, attempt.sdkUsage.outputTokens);
    }
    assert.equal(wrapper.attempts[1]!.rawCachedTokens, 9984);
  });

  test('a recorded 200 exchange keeps the request id from its headers', async () => {
    for (const file of [
      use('exchange.chat-completions.200.pretty-body.2023-11.json'),
      use('exchange.chat-completions.200.ratelimit-headers.2023-10.json'),
    ]) {
      for (const exchange of fixtureJson<RecordedExchange[]>(P, file)) {
        const reply = replyFromRecorded(exchange.response);
        const result = await completeWith(reply);
        assert.equal(result.requestId, reply.headers?.['x-request-id']);
        const body = JSON.parse(reply.body as string) as { choices: Array<{ message: { content: string } }> };
        assert.equal(result.text, body.choices[0]!.message.content);
        assert.equal(result.finishReason, 'stop');
        assert.equal(
          harness.server.requests.at(-1)!.url,
          recordedPath(exchange.request),
          'we call the path the SDK called',
        );
      }
    }
  });

  test(use('exchange.legacy-completions.200.2023-10.json'), async () => {
    for (const exchange of fixtureJson<RecordedExchange[]>(
      P,
      'exchange.legacy-completions.200.2023-10.json',
    )) {
      const body = JSON.parse(exchange.response.body as string) as {
        choices: Array<{ text: string }>;
        usage: { total_tokens: number };
      };
      const result = await completeWith(replyFromRecorded(exchange.response));
      assert.equal(result.text, body.choices[0]!.text);
      assert.equal(result.usage.totalTokens, body.usage.total_tokens);
    }
  });
});

describe('openai streaming fixtures', () => {
  const cases: Array<[string, { finish: string; usage?: [number, number, number]; tools?: number }]> = [
    ['chat-completion.stream.2023-10.gpt-3.5.raw.sse', { finish: 'stop' }],
    ['chat-completion.stream.content-logprobs.raw.sse', { finish: 'stop', usage: [9, 2, 11] }],
    ['chat-completion.stream.finish-length.raw.sse', { finish: 'length', usage: [79, 1, 80] }],
    [
      'chat-completion.stream.include-usage.gpt-4.1-nano.reframed.sse',
      { finish: 'stop', usage: [16, 300, 316] },
    ],
    ['chat-completion.stream.json-schema.raw.sse', { finish: 'stop', usage: [79, 14, 93] }],
    ['chat-completion.stream.json_object.raw.sse', { finish: 'stop', usage: [19, 177, 196] }],
    ['chat-completion.stream.n3-multiple-choices.raw.sse', { finish: 'stop', usage: [79, 42, 121] }],
    ['chat-completion.stream.refusal-logprobs.raw.sse', { finish: 'content-filter', usage: [79, 12, 91] }],
    ['chat-completion.stream.refusal.raw.sse', { finish: 'content-filter', usage: [79, 11, 90] }],
    ['chat-completion.stream.text.raw.sse', { finish: 'stop', usage: [14, 30, 44] }],
    [
      'chat-completion.stream.tool_calls.non-strict.raw.sse',
      { finish: 'tool-calls', usage: [44, 16, 60], tools: 1 },
    ],
    [
      'chat-completion.stream.tool_calls.parallel.raw.sse',
      { finish: 'tool-calls', usage: [149, 60, 209], tools: 2 },
    ],
    [
      'chat-completion.stream.tool_calls.single.raw.sse',
      { finish: 'tool-calls', usage: [76, 24, 100], tools: 1 },
    ],
    [
      'chat-completion.stream.tool_calls.strict.raw.sse',
      { finish: 'tool-calls', usage: [48, 19, 67], tools: 1 },
    ],
    ['legacy-completions.stream.reframed.sse', { finish: 'length', usage: [14, 16, 30] }],
  ];
  for (const [file, expected] of cases) {
    for (const chunkSize of [undefined, 7]) {
      test(`${use(file)}${chunkSize ? ` in ${chunkSize}-byte chunks` : ''}`, async () => {
        const sse = fixtureText(P, file);
        const { text, events, finish } = await streamWith(
          chunkSize ? { body: sse, chunkSize } : { body: sse },
        );
        assert.equal(text, oracleStreamText(sse));
        assert.equal(finish.finishReason, expected.finish);
        if (expected.usage) {
          assert.deepEqual(
            [finish.usage.inputTokens, finish.usage.outputTokens, finish.usage.totalTokens],
            expected.usage,
          );
        }
        const toolIndexes = new Set(events.flatMap((e) => (e.type === 'tool-call-delta' ? [e.index] : [])));
        assert.equal(toolIndexes.size, expected.tools ?? 0);
        if (expected.tools) {
          for (const index of toolIndexes) {
            const args = events
              .map((e) => (e.type === 'tool-call-delta' && e.index === index ? e.argumentsDelta : ''))
              .join('');
            JSON.parse(args);
          }
        }
      });
    }
  }

  test(`${use('chat-completion.stream.include-usage.gpt-4.1-nano.chunks.jsonl')} matches its reframed SSE`, async () => {
    const lines = fixtureText(P, 'chat-completion.stream.include-usage.gpt-4.1-nano.chunks.jsonl')
      .trim()
      .split('\n');
    const sse = `${lines.map((line) => `data: ${line}\n\n`).join('')}data: [DONE]\n\n`;
    const { text } = await streamWith({ body: sse, chunkSize: 64 });
    assert.equal(
      text,
      oracleStreamText(fixtureText(P, 'chat-completion.stream.include-usage.gpt-4.1-nano.reframed.sse')),
    );
  });

  test(`${use('legacy-completions.stream.chunks.jsonl')} text matches the legacy stream`, async () => {
    const lines = fixtureText(P, 'legacy-completions.stream.chunks.jsonl').trim().split('\n');
    const expected = lines
      .map((line) => (JSON.parse(line) as { choices: Array<{ text?: string }> }).choices[0]?.text ?? '')
      .join('');
    const { text } = await streamWith({ body: fixtureText(P, 'legacy-completions.stream.reframed.sse') });
    assert.equal(text, expected);
  });

  test(use('exchange.chat-completions.stream.200.2023-10.json'), async () => {
    const [exchange] = fixtureJson<RecordedExchange[]>(
      P,
      'exchange.chat-completions.stream.200.2023-10.json',
    );
    const reply = replyFromRecorded(exchange!.response);
    const { text, finish } = await streamWith(reply);
    assert.equal(text, oracleStreamText(reply.body as string));
    assert.equal(finish.requestId, reply.headers?.['x-request-id']);
    assert.equal(finish.finishReason, 'stop');
    assert.deepEqual(
      finish.usage,
      { inputTokens: 0, outputTokens: 0, totalTokens: 0 },
      'pre-include_usage era: no usage',
    );
  });
});

describe('openai embeddings fixtures', () => {
  test(`${use('embeddings.base64.text-embedding-3-small.derived.json')} decodes to ${use('embeddings.float.text-embedding-3-small.json')}`, async () => {
    const floats = fixtureJson<{ data: Array<{ embedding: number[] }> }>(
      P,
      'embeddings.float.text-embedding-3-small.json',
    );
    const c = client();
    harness.next = { body: fixtureText(P, 'embeddings.base64.text-embedding-3-small.derived.json') };
    const fromBase64 = await c.generateEmbeddings(floats.data.map((_, i) => `text ${i}`));
    harness.next = { body: fixtureText(P, 'embeddings.float.text-embedding-3-small.json') };
    const fromFloat = await c.generateEmbeddings(floats.data.map((_, i) => `text ${i}`));
    await c.close();
    assert.equal(fromBase64.length, floats.data.length);
    fromBase64.forEach((vector, i) => {
      assert.equal(vector.length, floats.data[i]!.embedding.length);
      vector.forEach((value, j) => {
        assert.equal(value, Math.fround(floats.data[i]!.embedding[j]!));
      });
    });
    assert.deepEqual(
      fromFloat,
      floats.data.map((d) => d.embedding),
    );
  });

  test(use('doc.embeddings.cleaned.json'), async () => {
    const c = client();
    harness.next = { body: fixtureText(P, 'doc.embeddings.cleaned.json') };
    const [vector] = await c.generateEmbeddings(['The food was delicious and the waiter...']);
    await c.close();
    assert.deepEqual(vector, [0.0023064255, -0.009327292, -0.0028842222]);
  });
});

describe('openai error fixtures', () => {
  const wrapped = (file: string) => {
    const parsed = fixtureJson<{ status: number; body: unknown }>(P, file);
    return { status: parsed.status, body: JSON.stringify(parsed.body) };
  };
  test(use('error.400.context_length_exceeded.issue-reported.json'), async () => {
    const error = await errorFrom(wrapped('error.400.context_length_exceeded.issue-reported.json'));
    assert.ok(error instanceof LLMContextWindowError);
    assert.equal(error.code, 'context_window_exceeded');
    assert.equal(error.status, 400);
    assert.equal(error.retryable, false);
    assert.match(error.message, /maximum context length is 4097 tokens/);
  });
  test(use('error.400.context_length_exceeded.raw.issue-reported.json'), async () => {
    const error = await errorFrom({
      status: 400,
      body: fixtureText(P, 'error.400.context_length_exceeded.raw.issue-reported.json'),
    });
    assert.ok(error instanceof LLMContextWindowError);
    assert.equal(
      error.body,
      fixtureText(P, 'error.400.context_length_exceeded.raw.issue-reported.json'),
      'the raw body is kept byte for byte',
    );
  });
  test(use('error.400.embeddings.max_tokens_per_request.json'), async () => {
    const error = await errorFrom({
      status: 400,
      body: fixtureText(P, 'error.400.embeddings.max_tokens_per_request.json'),
    });
    assert.ok(error instanceof LLMBadRequestError);
    assert.equal(error.providerCode, 'max_tokens_per_request');
  });
  test(use('error.400.unsupported_parameter.max_tokens.json'), async () => {
    const error = await errorFrom({
      status: 400,
      body: fixtureText(P, 'error.400.unsupported_parameter.max_tokens.json'),
    });
    assert.equal(error.constructor, LLMBadRequestError);
    assert.equal(error.providerCode, 'unsupported_parameter');
    assert.match(error.message, /max_completion_tokens/);
  });
  test(use('error.401.invalid_api_key.issue-reported.json'), async () => {
    const error = await errorFrom(wrapped('error.401.invalid_api_key.issue-reported.json'));
    assert.ok(error instanceof LLMAuthenticationError);
    assert.equal(error.code, 'authentication');
    assert.equal(error.providerCode, 'invalid_api_key');
    assert.equal(error.retryable, false);
  });
  test(`${use('error.429.insufficient_quota.2023.raw.reconstructed.json')} with ${use('error.429.insufficient_quota.2023.headers.issue-reported.json')}`, async () => {
    const recorded = fixtureJson<{ headers: Record<string, string> }>(
      P,
      'error.429.insufficient_quota.2023.headers.issue-reported.json',
    );
    const reply = replyFromRecorded({
      status: 429,
      headers: recorded.headers,
      body: fixtureText(P, 'error.429.insufficient_quota.2023.raw.reconstructed.json'),
    });
    const error = await errorFrom(reply);
    assert.ok(error instanceof LLMRateLimitError);
    assert.equal(error.retryable, false, 'an exhausted quota is not retried');
    assert.equal(error.requestId, '976373fcd5c5f57c8824dd133abf4efd');
    assert.equal(Buffer.byteLength(error.body ?? ''), 206, 'body kept as sent (Content-Length 206)');
  });
  test(use('error.429.insufficient_quota.current.issue-reported.json'), async () => {
    const error = await errorFrom(wrapped('error.429.insufficient_quota.current.issue-reported.json'));
    assert.ok(error instanceof LLMRateLimitError);
    assert.equal(error.retryable, false);
    assert.equal(error.providerCode, 'insufficient_quota');
  });
  test(use('error.429.rate_limit_exceeded.tokens.body.raw.json'), async () => {
    const error = await errorFrom({
      status: 429,
      headers: { 'retry-after': '7' },
      body: fixtureText(P, 'error.429.rate_limit_exceeded.tokens.body.raw.json'),
    });
    assert.ok(error instanceof LLMRateLimitError);
    assert.equal(error.retryable, true);
    assert.equal(error.retryAfterMs, 7000);
    assert.equal(error.providerCode, 'rate_limit_exceeded');
  });
  test(use('error.500.server_error.issue-reported.json'), async () => {
    const error = await errorFrom({
      status: 500,
      body: fixtureText(P, 'error.500.server_error.issue-reported.json'),
    });
    assert.ok(error instanceof LLMServerError);
    assert.equal(error.retryable, true);
    assert.equal(error.providerCode, 'server_error');
  });
  test(use('exchange.error.429.rate_limit_exceeded.tokens.2023-10.json'), async () => {
    const [exchange] = fixtureJson<RecordedExchange[]>(
      P,
      'exchange.error.429.rate_limit_exceeded.tokens.2023-10.json',
    );
    const reply = replyFromRecorded(exchange!.response);
    const error = await errorFrom(reply);
    assert.ok(error instanceof LLMRateLimitError);
    assert.equal(error.requestId, reply.headers?.['x-request-id']);
    assert.equal(error.retryable, true);
  });
});

test('every openai fixture is covered, or knowingly left out', () => {
  // Request bodies, model listings and published examples that are not valid payloads are not responses
  // this client reads.
  const leftOut = /\.request\.json$|^doc\.models\.|\.as-published\.txt$/;
  const missing = fixtureFiles(P).filter((file) => !covered.has(file) && !leftOut.test(file));
  assert.deepEqual(missing, []);
});
