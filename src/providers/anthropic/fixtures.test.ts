/**
 * Every recorded Anthropic payload in test/fixtures/anthropic goes through the real client, transport,
 * SSE decoder and parsers, served by a loopback server, whole and split into small chunks. Stream text and
 * tool arguments are checked against an independent line-by-line reading of the same bytes.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import type { ClientOptions } from '../../client/options.ts';
import {
  LLMAuthenticationError,
  LLMBadRequestError,
  type LLMError,
  LLMInvalidResponseError,
  LLMRateLimitError,
  LLMServerError,
} from '../../spec/errors.ts';
import type { CompletionRequest, StreamEvent } from '../../spec/types.ts';
import { type RecordedExchange, recordedPath, replyFromRecorded } from '../../test-support/exchanges.ts';
import { fixtureFiles, fixtureJson, fixtureText } from '../../test-support/fixtures.ts';
import { coverage, ReplayHarness, type StreamOutcome } from '../../test-support/replay-harness.ts';
import { type Reply, startReplayServer } from '../../test-support/replay-server.ts';

const P = 'anthropic';
const KEY = 'test-anthropic-fixture-key';
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const { use, covered } = coverage();

function client(baseURL = harness.url, options: ClientOptions = {}): LLMClient {
  return factory.createClient('anthropic/claude-sonnet-4-5', {
    apiKey: KEY,
    baseURL,
    maxRetries: 0,
    ...options,
  });
}
const completeWith = (reply: Reply, request?: CompletionRequest) =>
  harness.complete(client(), reply, request);
const streamWith = (reply: Reply, request?: CompletionRequest) => harness.stream(client(), reply, request);
const errorFrom = (reply: Reply) => harness.error(client(), reply);

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

/** An independent reading of an Anthropic SSE body, line by line: the text and each tool_use's arguments. */
function oracle(sse: string): { text: string; tools: Array<{ id: string; name: string; args: string }> } {
  let text = '';
  const tools: Array<{ id: string; name: string; args: string }> = [];
  const byBlock = new Map<number, { id: string; name: string; args: string }>();
  for (const line of sse.split(/\r\n|\r|\n/)) {
    if (!line.startsWith('data:')) continue;
    const event = JSON.parse(line.slice(5)) as {
      type: string;
      index?: number;
      content_block?: { type: string; id: string; name: string };
      delta?: { type?: string; text?: string; partial_json?: string };
    };
    if (event.type === 'content_block_start' && event.content_block?.type === 'tool_use') {
      const tool = { id: event.content_block.id, name: event.content_block.name, args: '' };
      tools.push(tool);
      byBlock.set(event.index!, tool);
    }
    if (event.type === 'content_block_delta' && event.delta?.type === 'text_delta') text += event.delta.text;
    if (event.type === 'content_block_delta' && event.delta?.type === 'input_json_delta') {
      const tool = byBlock.get(event.index!);
      if (tool) tool.args += event.delta.partial_json;
    }
  }
  return { text, tools };
}

/** Our tool calls from stream events: id, name and concatenated arguments per call index. */
function streamedTools(events: StreamEvent[]): Array<{ id: string; name: string; args: string }> {
  const calls: Array<{ id: string; name: string; args: string }> = [];
  for (const event of events) {
    if (event.type !== 'tool-call-delta') continue;
    calls[event.index] ??= { id: '', name: '', args: '' };
    const call = calls[event.index]!;
    if (event.id) call.id = event.id;
    if (event.name) call.name = event.name;
    call.args += event.argumentsDelta;
  }
  return calls;
}

const usageOf = (outcome: { usage: { inputTokens: number; outputTokens: number; totalTokens: number } }) => [
  outcome.usage.inputTokens,
  outcome.usage.outputTokens,
  outcome.usage.totalTokens,
];

/** The SSE a `.chunks.jsonl` recording was re-framed into: `event: <type>` then `data: <line>`. */
function framed(jsonl: string): string {
  return jsonl
    .trim()
    .split('\n')
    .map((line) => `event: ${(JSON.parse(line) as { type: string }).type}\ndata: ${line}\n\n`)
    .join('');
}

describe('anthropic non-streaming fixtures', () => {
  const cases: Array<
    [
      string,
      { finish: string; raw: string; text: string | RegExp; usage: number[]; model: string; tools?: number },
    ]
  > = [
    [
      'messages.nonstream.text.claude-sonnet-4-5.json',
      {
        finish: 'stop',
        raw: 'end_turn',
        text: "Hello! I'm doing well, thanks for asking. How are you doing today? Is there anything I can help you with?",
        usage: [12, 29, 41],
        model: 'claude-sonnet-4-5-20250929',
      },
    ],
    [
      'messages.nonstream.refusal.json',
      { finish: 'content-filter', raw: 'refusal', text: '', usage: [18, 5, 23], model: 'claude-fable-5' },
    ],
    [
      'messages.nonstream.text-then-tool_use-no-args.json',
      {
        finish: 'tool-calls',
        raw: 'tool_use',
        text: /^<thinking>\nThe updateIssueList tool[\s\S]*Okay, I will update the current issue list:$/,
        usage: [602, 93, 695],
        model: 'claude-3-opus-20240229',
        tools: 1,
      },
    ],
    [
      'messages.nonstream.tool_use.claude-haiku-4-5.json',
      {
        finish: 'tool-calls',
        raw: 'tool_use',
        text: '',
        usage: [1151, 87, 1238],
        model: 'claude-haiku-4-5-20251001',
        tools: 1,
      },
    ],
  ];
  for (const [file, expected] of cases) {
    test(use(file), async () => {
      const body = fixtureJson<{
        content: Array<{ type: string; id?: string; name?: string; input?: unknown }>;
      }>(P, file);
      const result = await completeWith({ body: fixtureText(P, file) });
      assert.equal(result.finishReason, expected.finish);
      assert.equal(result.rawFinishReason, expected.raw);
      if (typeof expected.text === 'string') assert.equal(result.text, expected.text);
      else assert.match(result.text, expected.text);
      assert.deepEqual(usageOf(result), expected.usage);
      assert.equal(result.usage.cachedInputTokens, 0);
      assert.equal(result.model, expected.model);
      assert.equal(result.provider, 'anthropic');
      assert.equal(result.toolCalls.length, expected.tools ?? 0, 'toolCalls is always an array');
      const toolBlocks = body.content.filter((block) => block.type === 'tool_use');
      result.toolCalls?.forEach((call, i) => {
        assert.equal(call.id, toolBlocks[i]!.id);
        assert.equal(call.name, toolBlocks[i]!.name);
        assert.deepEqual(JSON.parse(call.arguments), toolBlocks[i]!.input, 'arguments are the input as JSON');
      });
      assert.deepEqual(result.raw, body, 'raw keeps the whole body');
    });
  }

  test('a tool call without arguments has arguments "{}"', async () => {
    const result = await completeWith({
      body: fixtureText(P, 'messages.nonstream.text-then-tool_use-no-args.json'),
    });
    assert.deepEqual(result.toolCalls, [
      { id: 'toolu_01LRmxn9vGM1d2DZSDBowdZ1', name: 'updateIssueList', arguments: '{}' },
    ]);
  });
});

describe('anthropic streaming fixtures', () => {
  const cases: Array<[string, { finish: string; usage: number[]; model?: string; tools?: number }]> = [
    [
      'doc.messages.stream.basic.sse',
      { finish: 'stop', usage: [25, 15, 40], model: 'claude-opus-4-1-20250805' },
    ],
    ['doc.messages.stream.extended-thinking.sse', { finish: 'stop', usage: [0, 0, 0] }],
    ['doc.messages.stream.tool_use.sse', { finish: 'tool-calls', usage: [472, 89, 561], tools: 1 }],
    ['messages.stream.basic.raw.sse', { finish: 'stop', usage: [11, 6, 17], model: 'claude-3-opus-latest' }],
    [
      'messages.stream.message_delta-input_tokens.compat-provider.reframed.sse',
      // message_start said 43 input tokens; message_delta's 61 is the final count and wins.
      { finish: 'stop', usage: [61, 2, 63] },
    ],
    ['messages.stream.refusal.reframed.sse', { finish: 'content-filter', usage: [18, 5, 23] }],
    ['messages.stream.structured-output.padded.raw.sse', { finish: 'stop', usage: [135, 10, 145] }],
    [
      'messages.stream.text-then-tool_use-no-args.reframed.sse',
      { finish: 'tool-calls', usage: [565, 48, 613], tools: 1 },
    ],
    [
      'messages.stream.text.claude-sonnet-4-5.reframed.sse',
      { finish: 'stop', usage: [12, 30, 42], model: 'claude-sonnet-4-5-20250929' },
    ],
    [
      'messages.stream.tool_use.input_json_delta.claude-haiku-4-5.reframed.sse',
      { finish: 'tool-calls', usage: [849, 47, 896], tools: 1 },
    ],
    [
      'messages.stream.tool_use.max_tokens-truncated-json.raw.sse',
      { finish: 'length', usage: [450, 124, 574], tools: 1 },
    ],
    ['messages.stream.tool_use.raw.sse', { finish: 'tool-calls', usage: [377, 65, 442], tools: 1 }],
  ];
  for (const [file, expected] of cases) {
    for (const chunkSize of [undefined, 5]) {
      test(`${use(file)}${chunkSize ? ` in ${chunkSize}-byte chunks` : ''}`, async () => {
        const sse = fixtureText(P, file);
        const { text, events, finish } = await streamWith(
          chunkSize ? { body: sse, chunkSize } : { body: sse },
        );
        const expectedOracle = oracle(sse);
        assert.equal(text, expectedOracle.text);
        assert.equal(finish.finishReason, expected.finish);
        assert.deepEqual(usageOf(finish), expected.usage);
        if (expected.model) assert.equal(finish.model, expected.model);
        const tools = streamedTools(events);
        assert.equal(tools.length, expected.tools ?? 0);
        tools.forEach((tool, i) => {
          const reference = expectedOracle.tools[i]!;
          assert.equal(tool.id, reference.id);
          assert.equal(tool.name, reference.name);
          // A call with no arguments streams none; we close it with `{}`, as the non-streaming result has.
          assert.equal(tool.args, reference.args || '{}');
        });
      });
    }
  }

  test('arguments cut by max_tokens stay as streamed (not valid JSON), with finish reason length', async () => {
    const sse = fixtureText(P, 'messages.stream.tool_use.max_tokens-truncated-json.raw.sse');
    const { events, finish } = await streamWith({ body: sse });
    const [tool] = streamedTools(events);
    assert.equal(finish.rawFinishReason, 'max_tokens');
    assert.throws(() => JSON.parse(tool!.args));
    assert.match(tool!.args, /^\{"filename": "taxes\.txt", "lines_of_text": \[/);
  });

  test('thinking and signature deltas never leak into the text', async () => {
    const { text } = await streamWith({ body: fixtureText(P, 'doc.messages.stream.extended-thinking.sse') });
    assert.equal(text, '27 * 453 = 12,231');
  });

  test('the space-padded data lines are served byte for byte and still parse', async () => {
    const sse = fixtureText(P, 'messages.stream.structured-output.padded.raw.sse');
    assert.match(sse, / {3,}\}\n/, 'the fixture really pads its data lines with spaces');
    const { text } = await streamWith({ body: sse, chunkSize: 3 });
    assert.deepEqual(JSON.parse(text), [12345, 67890]);
  });

  for (const stem of [
    'messages.stream.message_delta-input_tokens.compat-provider',
    'messages.stream.refusal',
    'messages.stream.text-then-tool_use-no-args',
    'messages.stream.text.claude-sonnet-4-5',
    'messages.stream.tool_use.input_json_delta.claude-haiku-4-5',
  ]) {
    test(`${use(`${stem}.chunks.jsonl`)} matches its reframed SSE`, async () => {
      const fromChunks = await streamWith({
        body: framed(fixtureText(P, `${stem}.chunks.jsonl`)),
        chunkSize: 64,
      });
      const fromSse = await streamWith({ body: fixtureText(P, `${stem}.reframed.sse`) });
      assert.equal(fromChunks.text, fromSse.text);
      assert.deepEqual(fromChunks.finish, fromSse.finish);
      assert.deepEqual(streamedTools(fromChunks.events), streamedTools(fromSse.events));
    });
  }

  test(`${use('doc.messages.stream.web-search.sse')}: the docs' '...' elision is a typed error, not a crash`, async () => {
    const sse = fixtureText(P, 'doc.messages.stream.web-search.sse');
    const broken = sse.indexOf('"page_age":null},...]');
    assert.ok(broken > 0, 'the fixture has its invalid line');
    const before = sse.slice(0, sse.lastIndexOf('\n', broken));
    const c = client();
    harness.next = { headers: { 'content-type': 'text/event-stream' }, body: sse, chunkSize: 11 };
    const events: StreamEvent[] = [];
    const error = await (async () => {
      for await (const event of c.stream({ prompt: 'weather?' })) events.push(event);
    })().then(
      () => assert.fail('expected the stream to fail'),
      (caught: unknown) => caught as LLMError,
    );
    await c.close();
    assert.ok(error instanceof LLMInvalidResponseError, `got ${String(error)}`);
    assert.equal(error.attempts, 1, 'output was delivered: never retried');
    const text = events.map((e) => (e.type === 'text-delta' ? e.text : '')).join('');
    assert.equal(text, oracle(before).text);
    assert.equal(streamedTools(events).length, 0, 'server_tool_use is not a tool call for the caller');
  });
});

describe('anthropic stream error events', () => {
  test(`${use('doc.stream.error-event.overloaded_error.sse')} is a retryable LLMServerError`, async () => {
    const error = await streamWith({
      body: fixtureText(P, 'doc.stream.error-event.overloaded_error.sse'),
    }).then(
      () => assert.fail('expected the stream to fail'),
      (caught: unknown) => caught as LLMError,
    );
    assert.ok(error instanceof LLMServerError, `got ${String(error)}`);
    assert.equal(error.retryable, true);
    assert.equal(error.providerCode, 'overloaded_error');
    assert.match(error.message, /anthropic stream error overloaded_error: Overloaded/);
  });

  test(`${use('stream.error-event.overloaded_error.production-shape.sse')} keeps its request id`, async () => {
    const error = await streamWith({
      body: fixtureText(P, 'stream.error-event.overloaded_error.production-shape.sse'),
    }).then(
      () => assert.fail('expected the stream to fail'),
      (caught: unknown) => caught as LLMError,
    );
    assert.ok(error instanceof LLMServerError);
    assert.equal(error.requestId, 'req_011Cbe83nAc6RV1DP1bB5WXb');
    assert.equal(
      error.body,
      fixtureText(P, 'stream.error-event.overloaded_error.production-shape.sse').split('data: ')[1]!.trim(),
    );
  });

  test('an error event before any output is retried, and the retry succeeds', async () => {
    const server = await startReplayServer([
      {
        headers: { 'content-type': 'text/event-stream' },
        body: fixtureText(P, 'doc.stream.error-event.overloaded_error.sse'),
      },
      {
        headers: { 'content-type': 'text/event-stream' },
        body: fixtureText(P, 'messages.stream.basic.raw.sse'),
      },
    ]);
    const c = client(server.url, { maxRetries: 2, retry: { initialDelayMs: 1, maxDelayMs: 2 } });
    let text = '';
    for await (const event of c.stream({ prompt: 'hi' })) if (event.type === 'text-delta') text += event.text;
    await c.close();
    await server.close();
    assert.equal(text, 'Hello there!');
    assert.equal(server.requests.length, 2);
  });
});

describe('anthropic error fixtures', () => {
  const wrapped = (file: string) => {
    const parsed = fixtureJson<{ status: number; headers: Record<string, string>; body: unknown }>(P, file);
    return replyFromRecorded({ status: parsed.status, headers: parsed.headers, body: parsed.body });
  };

  test(use('error.400.invalid_request_error.recorded.json'), async () => {
    const error = await errorFrom(wrapped('error.400.invalid_request_error.recorded.json'));
    assert.equal(error.constructor, LLMBadRequestError);
    assert.equal(error.status, 400);
    assert.equal(error.retryable, false);
    assert.equal(error.shouldRetryHeader, false, 'x-should-retry: false is kept');
    assert.equal(error.providerCode, 'invalid_request_error');
    assert.equal(error.requestId, 'req_011CYHyk9NPsBYeGbC9LuDNK', 'from the body when no header has it');
    assert.match(error.message, /unexpected `tool_use_id` found in `tool_result` blocks/);
  });

  for (const file of [
    'error.400.invalid_request_error.tool_result.json',
    'error.400.invalid_request_error.tool_use-without-result.json',
  ]) {
    test(use(file), async () => {
      const body = fixtureText(P, file);
      const error = await errorFrom({ status: 400, body });
      assert.equal(error.constructor, LLMBadRequestError);
      assert.equal(error.requestId, (JSON.parse(body) as { request_id: string }).request_id);
      assert.equal(error.body, body, 'the raw body is kept byte for byte');
    });
  }

  test(use('error.401.authentication_error.body.issue-reported.json'), async () => {
    const error = await errorFrom({
      status: 401,
      body: fixtureText(P, 'error.401.authentication_error.body.issue-reported.json'),
    });
    assert.ok(error instanceof LLMAuthenticationError);
    assert.equal(error.code, 'authentication');
    assert.equal(error.retryable, false);
    assert.equal(error.providerCode, 'authentication_error');
    assert.match(error.message, /invalid x-api-key/);
    assert.ok(!error.message.includes(KEY) && !error.body?.includes(KEY));
  });

  const limited = fixtureJson<{
    status: number;
    headers: Record<string, string>;
    body_from_other_report_cline_252: unknown;
  }>(P, 'error.429.rate_limit_error.headers.issue-reported.json');
  test(use('error.429.rate_limit_error.headers.issue-reported.json'), async () => {
    const error = await errorFrom(
      replyFromRecorded({
        status: 429,
        headers: limited.headers,
        body: limited.body_from_other_report_cline_252,
      }),
    );
    assert.ok(error instanceof LLMRateLimitError);
    assert.equal(error.retryable, true);
    assert.equal(error.shouldRetryHeader, true);
    assert.equal(error.requestId, 'req_01T5fCVnYdf9X5ZW6KayReBK');
    assert.equal(error.retryAfterMs, undefined, 'its resets (2024) are in the past: no hint');
  });

  test('a 429 without retry-after waits for the earliest anthropic-ratelimit-*-reset still ahead', async () => {
    const at = (ms: number) => new Date(Date.now() + ms).toISOString();
    const headers = {
      ...limited.headers,
      'anthropic-ratelimit-requests-reset': at(30_000),
      'anthropic-ratelimit-tokens-reset': at(5_000),
      'anthropic-ratelimit-input-tokens-reset': at(-5_000),
    };
    const error = await errorFrom(
      replyFromRecorded({ status: 429, headers, body: limited.body_from_other_report_cline_252 }),
    );
    assert.ok(error.retryAfterMs !== undefined && error.retryAfterMs > 3_000 && error.retryAfterMs <= 5_000);
    const hinted = await errorFrom(
      replyFromRecorded({
        status: 429,
        headers: { ...headers, 'retry-after': '7' },
        body: limited.body_from_other_report_cline_252,
      }),
    );
    assert.equal(hinted.retryAfterMs, 7_000, 'retry-after wins over the reset headers');
  });

  test(use('error.429.rate_limit_error.recorded.json'), async () => {
    const error = await errorFrom(wrapped('error.429.rate_limit_error.recorded.json'));
    assert.ok(error instanceof LLMRateLimitError);
    assert.equal(error.retryable, true);
    assert.equal(error.shouldRetryHeader, true);
    assert.equal(error.requestId, 'req_011CYK5n67SytMUxm8WMZUWY');
    assert.equal(error.providerCode, 'rate_limit_error');
  });

  test(use('error.500.api_error.body.issue-reported.json'), async () => {
    const error = await errorFrom({
      status: 500,
      body: fixtureText(P, 'error.500.api_error.body.issue-reported.json'),
    });
    assert.ok(error instanceof LLMServerError);
    assert.equal(error.retryable, true);
    assert.equal(error.providerCode, 'api_error');
    assert.equal(error.requestId, 'req_011CcLLdL8STNSDEk7Wk9Z7L');
  });

  test(use('error.529.overloaded_error.issue-reported.json'), async () => {
    const reply = wrapped('error.529.overloaded_error.issue-reported.json');
    const error = await errorFrom(reply);
    assert.ok(error instanceof LLMServerError);
    assert.equal(error.status, 529);
    assert.equal(error.retryable, true);
    assert.equal(error.shouldRetryHeader, true);
    assert.equal(error.requestId, 'req_01RCc7MbLyQNtGKzBTv8VCep', 'from the request-id header');
    assert.equal(Buffer.byteLength(error.body ?? ''), 75, 'body kept as sent (Content-Length 75)');
  });

  test(use('error.529.overloaded_error.with-request_id.body.issue-reported.json'), async () => {
    const error = await errorFrom({
      status: 529,
      body: fixtureText(P, 'error.529.overloaded_error.with-request_id.body.issue-reported.json'),
    });
    assert.ok(error instanceof LLMServerError);
    assert.equal(error.providerCode, 'overloaded_error');
    assert.equal(error.requestId, 'req_011CZAYwiDg6Eqv7HiBNWoE5');
  });

  test('bodies that are not Anthropic JSON still get the class their status calls for', async () => {
    const html = await errorFrom({
      status: 529,
      headers: { 'content-type': 'text/html' },
      body: '<html>Overloaded</html>',
    });
    assert.ok(html instanceof LLMServerError && html.retryable);
    const empty = await errorFrom({ status: 401, body: '' });
    assert.ok(empty instanceof LLMAuthenticationError);
    const tooLong = await errorFrom({
      status: 400,
      body: '{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 210000 tokens > 200000 maximum"}}',
    });
    assert.equal(tooLong.code, 'context_window_exceeded');
  });
});

/** Our request for a recorded first turn (all-string messages): the SDK's body is what we should send. */
/** Our request for a recorded body: its tools as `tools`, the fields we have no name for as provider options. */
function requestFor(body: Record<string, unknown>): { request: CompletionRequest; stream: boolean } {
  const { model, max_tokens, messages, stream, tools, ...rest } = body;
  const request: CompletionRequest = {
    model: model as string,
    maxTokens: max_tokens as number,
    messages: messages as Array<{ role: 'user'; content: string }>,
    providerOptions: { anthropic: rest },
  };
  if (Array.isArray(tools)) {
    request.tools = tools.map((tool: { name: string; description?: string; input_schema: object }) => ({
      name: tool.name,
      description: tool.description,
      parameters: tool.input_schema as Record<string, unknown>,
    }));
  }
  return { request, stream: stream === true };
}

describe('anthropic recorded exchanges', () => {
  async function replay(exchanges: RecordedExchange[], options: ClientOptions = {}) {
    const server = await startReplayServer(exchanges.map((exchange) => replyFromRecorded(exchange.response)));
    const c = client(server.url, options);
    return { server, c };
  }

  async function streamed(c: LLMClient, request: CompletionRequest): Promise<StreamOutcome> {
    const events: StreamEvent[] = [];
    for await (const event of c.stream(request)) events.push(event);
    const text = events.map((e) => (e.type === 'text-delta' ? e.text : '')).join('');
    const finish = events.at(-1);
    assert.equal(finish?.type, 'finish');
    return { text, events, finish: finish as StreamOutcome['finish'] };
  }

  test(`${use('exchange.429x2-then-200.messages.nonstream.json')}: two 429s, then success, in exactly 3 requests`, async () => {
    const exchanges = fixtureJson<RecordedExchange[]>(P, 'exchange.429x2-then-200.messages.nonstream.json');
    const { server, c } = await replay(exchanges, {
      maxRetries: 2,
      retry: { initialDelayMs: 1, maxDelayMs: 2 },
    });
    const { request } = requestFor(exchanges[0]!.request.body as Record<string, unknown>);
    const result = await c.complete(request);
    await c.close();
    await server.close();
    assert.equal(server.requests.length, 3);
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(
        JSON.parse(server.requests[i]!.body),
        exchanges[i]!.request.body,
        'we send what the SDK sent',
      );
      assert.equal(server.requests[i]!.url, recordedPath(exchanges[i]!.request));
    }
    assert.deepEqual(JSON.parse(result.text), {
      items: [
        { product_name: 'Green Tea', price: 5.5, quantity: 2 },
        { product_name: 'Coffee', price: 3, quantity: 1 },
      ],
      total: 14,
    });
    assert.deepEqual(usageOf(result), [406, 50, 456]);
  });

  test('the same two 429s exhaust one retry: LLMRateLimitError after 2 attempts', async () => {
    const exchanges = fixtureJson<RecordedExchange[]>(P, 'exchange.429x2-then-200.messages.nonstream.json');
    const { server, c } = await replay(exchanges, {
      maxRetries: 1,
      retry: { initialDelayMs: 1, maxDelayMs: 2 },
    });
    const error = await c.complete({ prompt: 'x' }).then(
      () => assert.fail('expected a rate-limit error'),
      (caught: unknown) => caught as LLMError,
    );
    await c.close();
    await server.close();
    assert.ok(error instanceof LLMRateLimitError);
    assert.equal(error.attempts, 2);
    assert.equal(error.requestId, 'req_011CYK5mnscLpxFuMxiDHt26', 'the last attempt’s id');
    assert.equal(server.requests.length, 2);
  });

  test(`${use('exchange.429x2-then-200.messages.stream.json')}: a stream recovers from two 429s in 3 requests`, async () => {
    const exchanges = fixtureJson<RecordedExchange[]>(P, 'exchange.429x2-then-200.messages.stream.json');
    const { server, c } = await replay(exchanges, {
      maxRetries: 2,
      retry: { initialDelayMs: 1, maxDelayMs: 2 },
    });
    const { request, stream } = requestFor(exchanges[0]!.request.body as Record<string, unknown>);
    assert.ok(stream);
    const { text, finish } = await streamed(c, request);
    await c.close();
    await server.close();
    assert.equal(server.requests.length, 3);
    assert.deepEqual(JSON.parse(server.requests[2]!.body), exchanges[2]!.request.body);
    assert.equal(text, oracle(exchanges[2]!.response.body as string).text);
    assert.deepEqual(JSON.parse(text), [12345, 67890]);
    assert.deepEqual(usageOf(finish), [135, 10, 145]);
  });

  test(`${use('exchange.200-then-400.invalid_request_error.json')}: a tool call, then the API's 400`, async () => {
    const exchanges = fixtureJson<RecordedExchange[]>(P, 'exchange.200-then-400.invalid_request_error.json');
    const { server, c } = await replay(exchanges);
    const { request } = requestFor(exchanges[0]!.request.body as Record<string, unknown>);
    const first = await c.complete(request);
    assert.deepEqual(JSON.parse(server.requests[0]!.body), exchanges[0]!.request.body);
    assert.equal(
      server.requests[0]!.headers['anthropic-version'],
      exchanges[0]!.request.headers?.['anthropic-version'],
    );
    assert.equal(server.requests[0]!.headers['x-api-key'], KEY);
    assert.equal(first.finishReason, 'tool-calls');
    assert.deepEqual(first.toolCalls, [
      {
        id: 'toolu_01GHndag5wQmbzNihYmV2UBj',
        name: 'get_weather',
        arguments: '{"location":"San Francisco, CA","units":"c"}',
      },
    ]);
    const error = await c.complete(request).then(
      () => assert.fail('expected the 400'),
      (caught: unknown) => caught as LLMError,
    );
    await c.close();
    await server.close();
    assert.equal(error.constructor, LLMBadRequestError);
    assert.equal(error.shouldRetryHeader, false);
    assert.equal(error.requestId, 'req_011CYHyk9NPsBYeGbC9LuDNK');
  });

  for (const file of [
    'exchange.200.with-anthropic-ratelimit-headers.json',
    'exchange.nonstream.parallel-tool_use.json',
    'exchange.nonstream.structured-output.json',
  ]) {
    test(`${use(file)}: text, tool_use calls (server tools excluded) and usage of every turn`, async () => {
      for (const exchange of fixtureJson<RecordedExchange[]>(P, file)) {
        const body = exchange.response.body as {
          content: Array<{ type: string; text?: string; id?: string; name?: string; input?: unknown }>;
          usage: { input_tokens: number; output_tokens: number };
          stop_reason: string;
        };
        const result = await completeWith(replyFromRecorded(exchange.response));
        assert.equal(
          result.text,
          body.content.map((block) => (block.type === 'text' ? block.text : '')).join(''),
        );
        const toolUses = body.content.filter((block) => block.type === 'tool_use');
        assert.deepEqual(
          result.toolCalls ?? [],
          toolUses.map((block) => ({
            id: block.id,
            name: block.name,
            arguments: JSON.stringify(block.input),
          })),
        );
        assert.equal(result.rawFinishReason, body.stop_reason);
        assert.equal(result.usage.inputTokens, body.usage.input_tokens);
        assert.equal(result.usage.outputTokens, body.usage.output_tokens);
      }
    });
  }

  test('a recorded 200 with anthropic-ratelimit-* headers parses; the server tool is not a tool call', async () => {
    const [exchange] = fixtureJson<RecordedExchange[]>(
      P,
      'exchange.200.with-anthropic-ratelimit-headers.json',
    );
    const result = await completeWith(replyFromRecorded(exchange!.response));
    assert.deepEqual(
      result.toolCalls?.map((call) => call.name),
      ['get_weather'],
    );
    assert.equal(result.text, "I'll check the weather for all three cities in Celsius simultaneously.");
  });

  test(`${use('exchange.stream.tool_use-then-final.json')}: a streamed tool call, then the streamed answer`, async (t) => {
    const exchanges = fixtureJson<RecordedExchange[]>(P, 'exchange.stream.tool_use-then-final.json');
    const { server, c } = await replay(exchanges);
    t.after(async () => {
      await c.close();
      await server.close();
    });
    const { request } = requestFor(exchanges[0]!.request.body as Record<string, unknown>);
    const first = await streamed(c, request);
    assert.deepEqual(JSON.parse(server.requests[0]!.body), exchanges[0]!.request.body);
    const tools = streamedTools(first.events);
    assert.deepEqual(tools, oracle(exchanges[0]!.response.body as string).tools);
    assert.deepEqual(JSON.parse(tools[0]!.args), { location: 'San Francisco, CA', units: 'f' });
    assert.equal(first.finish.finishReason, 'tool-calls');

    // The second turn as the SDK sent it: the question, the assistant's tool call, the tool's result.
    const recorded = exchanges[1]!.request;
    const { messages: recordedMessages, ...recordedRest } = recorded.body as {
      model: string;
      max_tokens: number;
      tools: unknown;
      messages: Array<{ role: string; content: unknown }>;
    };
    const [question, , answer] = recordedMessages;
    const toolResult = (answer!.content as Array<{ tool_use_id: string; content: string }>)[0]!;
    const call = tools[0]!;
    assert.equal(toolResult.tool_use_id, call.id, 'the recorded result answers the call we streamed');
    const userTurn = { role: 'user' as const, content: question!.content as string };
    const toolTurn = { role: 'tool' as const, toolCallId: call.id, content: toolResult.content };
    // The assistant turn is turn 1's message as it came (its tool call with the block's `caller`): the body
    // we send is the one the SDK sent, byte for byte once parsed.
    const second = await streamed(c, {
      ...requestFor(recorded.body as Record<string, unknown>).request,
      messages: [userTurn, first.finish.message, toolTurn],
    });
    const sent = server.requests[1]!;
    assert.deepEqual(JSON.parse(sent.body), { ...recordedRest, messages: recordedMessages });
    assert.equal(new URL(sent.url, server.url).pathname, new URL(recorded.url!).pathname);
    for (const name of ['anthropic-version', 'content-type'])
      assert.equal(sent.headers[name], recorded.headers?.[name], `header ${name}`);
    assert.equal(sent.headers['x-api-key'], KEY);

    assert.equal(second.text, oracle(exchanges[1]!.response.body as string).text);
    assert.match(second.text, /^The weather in San Francisco, CA is currently:/);
    assert.equal(second.finish.finishReason, 'stop');
  });
});

describe('anthropic token counting fixtures', () => {
  test(`${use('constructed.count_tokens.request.json')} is what we send; ${use('constructed.count_tokens.response.json')} is read`, async () => {
    const c = client();
    harness.next = { body: fixtureText(P, 'constructed.count_tokens.response.json') };
    const counted = await c.countRequestTokens({ system: 'You are a scientist', prompt: 'Hello, Claude' });
    await c.close();
    const seen = harness.server.requests.at(-1)!;
    assert.equal(seen.url, '/v1/messages/count_tokens');
    assert.deepEqual(JSON.parse(seen.body), fixtureJson(P, 'constructed.count_tokens.request.json'));
    assert.deepEqual(counted, { inputTokens: 14, exact: true, source: 'endpoint' });
  });
});

test('every anthropic fixture is covered, or knowingly left out', () => {
  const missing = fixtureFiles(P).filter((file) => !covered.has(file));
  assert.deepEqual(missing, []);
});
