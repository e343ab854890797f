/**
 * Every recorded Bedrock payload in test/fixtures/bedrock goes through the real client, SigV4 signing,
 * transport, eventstream decoder and parsers, served by a loopback server, whole and in small chunks.
 * Expectations come from an independent reading of each fixture (its `.events.jsonl`, its wrapper).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import type { ClientOptions } from '../../client/options.ts';
import { normalizeRequest } from '../../client/request.ts';
import { EventStreamMessageReader } from '../../http/eventstream.ts';
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
import { fixtureBytes, fixtureFiles, fixtureJson, fixtureText } from '../../test-support/fixtures.ts';
import { coverage, ReplayHarness } from '../../test-support/replay-harness.ts';
import { type Reply, startReplayServer } from '../../test-support/replay-server.ts';
import { converseBody } from './request.ts';

const P = 'bedrock';
const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const EVENTSTREAM = { 'content-type': 'application/vnd.amazon.eventstream' };
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const { use, covered } = coverage();

function client(options: ClientOptions = {}): LLMClient {
  return factory.createClient(`bedrock/${MODEL}`, {
    region: 'us-east-1',
    baseURL: harness.url,
    credentials: { accessKeyId: 'TESTFIXTUREKEYID0000', secretAccessKey: 'fixture-secret-key-000000' },
    maxRetries: 0,
    ...options,
  });
}
const completeWith = (reply: Reply) => harness.complete(client(), reply);
const errorFrom = (reply: Reply) => harness.error(client(), reply);
const streamWith = (reply: Reply) => harness.stream(client(), { headers: EVENTSTREAM, ...reply });

/** Runs a stream that must fail: the events it delivered first, and the error. */
async function failingStream(reply: Reply): Promise<{ events: StreamEvent[]; error: LLMError }> {
  harness.next = { headers: EVENTSTREAM, ...reply };
  const c = client();
  const events: StreamEvent[] = [];
  try {
    for await (const event of c.stream({ prompt: 'fixture' })) events.push(event);
  } catch (error) {
    assert.ok(isLLMError(error), `a typed error, not ${String(error)}`);
    return { events, error };
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

describe('bedrock Converse fixtures', () => {
  const cases: Array<
    [string, { finish: string; raw: string; usage: [number, number, number]; cached?: number }]
  > = [
    ['converse.nonstream.text.json', { finish: 'stop', raw: 'end_turn', usage: [22, 57, 79], cached: 0 }],
    ['converse.nonstream.max_tokens.json', { finish: 'length', raw: 'max_tokens', usage: [2, 10, 12] }],
    [
      'converse.nonstream.reasoning.json',
      { finish: 'stop', raw: 'end_turn', usage: [51, 78, 129], cached: 0 },
    ],
    [
      'converse.nonstream.guardrail_intervened.json',
      { finish: 'content-filter', raw: 'guardrail_intervened', usage: [18, 12, 30], cached: 0 },
    ],
    [
      'converse.nonstream.tool-no-args.json',
      { finish: 'tool-calls', raw: 'tool_use', usage: [100, 25, 125] },
    ],
  ];
  for (const [file, expected] of cases) {
    test(use(file), async () => {
      const body = fixtureJson<{ output: { message: { content: Array<Record<string, unknown>> } } }>(P, file);
      const result = await completeWith({
        body: fixtureText(P, file),
        headers: { 'x-amzn-requestid': 'req-1' },
      });
      // The oracle: the text blocks of the body, joined (reasoning blocks are not text).
      const text = body.output.message.content
        .map((block) => (typeof block.text === 'string' ? block.text : ''))
        .join('');
      assert.equal(result.text, text);
      assert.equal(result.finishReason, expected.finish);
      assert.equal(result.rawFinishReason, expected.raw);
      assert.deepEqual(
        [result.usage.inputTokens, result.usage.outputTokens, result.usage.totalTokens],
        expected.usage,
      );
      assert.equal(result.usage.cachedInputTokens, expected.cached);
      assert.equal(result.provider, 'bedrock');
      assert.equal(result.model, MODEL);
      assert.equal(result.requestId, 'req-1');
      assert.deepEqual(result.raw, body, 'raw keeps the whole body');
      const sent = harness.server.requests.at(-1)!;
      assert.equal(sent.url, `/model/${encodeURIComponent(MODEL)}/converse`);
      assert.match(
        String(sent.headers.authorization),
        /^AWS4-HMAC-SHA256 Credential=TESTFIXTUREKEYID0000\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=[^,]*host;[^,]*x-amz-content-sha256;x-amz-date, Signature=[0-9a-f]{64}$/,
      );
    });
  }

  test('reasoning is its own part with its signature, not text; tool input becomes JSON arguments', async () => {
    const reasoning = await completeWith({ body: fixtureText(P, 'converse.nonstream.reasoning.json') });
    const [thought, answer] = fixtureJson<{
      output: {
        message: {
          content: [
            { reasoningContent: { reasoningText: { text: string; signature: string } } },
            { text: string },
          ];
        };
      };
    }>(P, 'converse.nonstream.reasoning.json').output.message.content;
    assert.deepEqual(reasoning.message.content, [
      {
        type: 'reasoning',
        text: thought.reasoningContent.reasoningText.text,
        providerMetadata: { bedrock: { signature: thought.reasoningContent.reasoningText.signature } },
      },
      { type: 'text', text: answer.text },
    ]);
    assert.equal(reasoning.reasoning, thought.reasoningContent.reasoningText.text);
    assert.doesNotMatch(reasoning.text, /Let me count/);
    const tools = await completeWith({ body: fixtureText(P, 'converse.nonstream.tool-no-args.json') });
    assert.deepEqual(tools.toolCalls, [{ id: 'tool-use-id', name: 'updateIssueList', arguments: '{}' }]);
  });

  test(`our Converse body is ${use('constructed.converse.request.json')}`, () => {
    const expected = fixtureJson(P, 'constructed.converse.request.json');
    const { body, warnings } = converseBody(
      normalizeRequest(
        {
          system: 'You are terse.',
          prompt: 'Reply with exactly OK.',
          maxTokens: 512,
          temperature: 0.5,
          topP: 0.9,
          stop: [],
          tools: [
            {
              name: 'get_weather',
              description: 'Get weather for a city',
              parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
            },
          ],
          toolChoice: 'auto',
        },
        MODEL,
      ),
    );
    assert.deepEqual(JSON.parse(body), expected);
    assert.deepEqual(warnings, []);
  });
});

interface StreamOracle {
  text: string;
  stopReason: string;
  usage: [number, number, number];
  tools: Array<{ id: string; name: string; arguments: string }>;
}

/** The fields of a `.events.jsonl` line's payload that the oracle reads. */
interface JsonlPayload {
  contentBlockIndex: number;
  start?: { toolUse?: { toolUseId: string; name: string } };
  delta?: { text?: string; toolUse?: { input: string } };
  stopReason: string;
  usage: { inputTokens: number; outputTokens: number; totalTokens: number };
}

/** An independent reading of a `.events.jsonl`: text, tool calls, stop reason and usage. */
function oracle(file: string): StreamOracle {
  const events = fixtureText(P, file)
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, JsonlPayload>);
  const result: StreamOracle = { text: '', stopReason: '', usage: [0, 0, 0], tools: [] };
  const byBlock = new Map<number, { id: string; name: string; arguments: string }>();
  for (const event of events) {
    const [[type, payload]] = Object.entries(event) as [[string, JsonlPayload]];
    if (type === 'contentBlockStart' && payload.start?.toolUse) {
      const call = { id: payload.start.toolUse.toolUseId, name: payload.start.toolUse.name, arguments: '' };
      byBlock.set(payload.contentBlockIndex, call);
      result.tools.push(call);
    }
    if (type === 'contentBlockDelta' && typeof payload.delta?.text === 'string')
      result.text += payload.delta.text;
    if (type === 'contentBlockDelta' && payload.delta?.toolUse)
      byBlock.get(payload.contentBlockIndex)!.arguments += payload.delta.toolUse.input;
    if (type === 'messageStop') result.stopReason = payload.stopReason;
    if (type === 'metadata')
      result.usage = [payload.usage.inputTokens, payload.usage.outputTokens, payload.usage.totalTokens];
  }
  return result;
}

const FINISH: Record<string, string> = { end_turn: 'stop', tool_use: 'tool-calls' };

describe('bedrock ConverseStream fixtures (binary eventstream)', () => {
  const cases: Array<[string, string]> = [
    ['converse-stream.text.reframed.eventstream.bin', 'converse-stream.text.events.jsonl'],
    ['converse-stream.reasoning.reframed.eventstream.bin', 'converse-stream.reasoning.events.jsonl'],
    ['converse-stream.tool-call.reframed.eventstream.bin', 'converse-stream.tool-call.events.jsonl'],
    ['converse-stream.tool-no-args.reframed.eventstream.bin', 'converse-stream.tool-no-args.events.jsonl'],
  ];
  for (const [bin, jsonl] of cases) {
    for (const chunkSize of [undefined, 1, 7, 13]) {
      test(`${use(bin)} matches ${use(jsonl)}${chunkSize ? ` in ${chunkSize}-byte chunks` : ''}`, async () => {
        const expected = oracle(jsonl);
        const body = fixtureBytes(P, bin);
        const { text, events, finish } = await streamWith(chunkSize ? { body, chunkSize } : { body });
        assert.equal(text, expected.text);
        assert.equal(finish.rawFinishReason, expected.stopReason);
        assert.equal(finish.finishReason, FINISH[expected.stopReason]);
        assert.deepEqual(
          [finish.usage.inputTokens, finish.usage.outputTokens, finish.usage.totalTokens],
          expected.usage,
        );
        const deltas = events.filter((event) => event.type === 'tool-call-delta');
        const calls = events.filter((event) => event.type === 'tool-call');
        // A call whose input never arrived gets `{}`, as the non-streaming result has.
        assert.deepEqual(
          calls.map(({ id, name, arguments: args }) => ({ id, name, arguments: args })),
          expected.tools.map((tool) => ({ ...tool, arguments: tool.arguments || '{}' })),
        );
        for (const call of calls) {
          const joined = deltas
            .filter((delta) => delta.index === call.index)
            .map((delta) => delta.argumentsDelta)
            .join('');
          assert.equal(joined || '{}', call.arguments, 'the complete call is its deltas joined');
        }
        assert.equal(new Set(deltas.map((delta) => delta.index)).size, expected.tools.length);
        assert.equal(
          harness.server.requests.at(-1)!.url,
          `/model/${encodeURIComponent(MODEL)}/converse-stream`,
        );
      });
    }
  }

  test(`${use('converse-stream.live-capture.claude-sonnet-4-6.eventstream.bin')} gives what ${use('converse-stream.live-capture.claude-sonnet-4-6.wrapper.json')} observed`, async () => {
    const wrapper = fixtureJson<{
      response: { bodyBase64: string; contentType: string };
      observed: { text: string; finishReason: string; inputTokens: number; outputTokens: number };
    }>(P, 'converse-stream.live-capture.claude-sonnet-4-6.wrapper.json');
    const body = fixtureBytes(P, 'converse-stream.live-capture.claude-sonnet-4-6.eventstream.bin');
    assert.deepEqual(
      Buffer.from(wrapper.response.bodyBase64, 'base64'),
      body,
      'the .bin is the wrapper body',
    );
    for (const chunkSize of [undefined, 1, 5]) {
      const { text, finish } = await streamWith({
        body,
        headers: { 'content-type': wrapper.response.contentType, 'x-amzn-requestid': 'live-1' },
        ...(chunkSize ? { chunkSize } : {}),
      });
      assert.equal(text, wrapper.observed.text);
      assert.equal(finish.finishReason, wrapper.observed.finishReason);
      assert.equal(finish.usage.inputTokens, wrapper.observed.inputTokens);
      assert.equal(finish.usage.outputTokens, wrapper.observed.outputTokens);
      assert.equal(finish.requestId, 'live-1');
    }
  });

  test(`${use('converse-stream.exception.modelStreamErrorException.eventstream.bin')} is a retryable LLMServerError`, async () => {
    const { events, error } = await failingStream({
      body: fixtureBytes(P, 'converse-stream.exception.modelStreamErrorException.eventstream.bin'),
    });
    assert.deepEqual(events, []);
    assert.ok(error instanceof LLMServerError, `${error.name}: ${error.message}`);
    assert.equal(error.retryable, true);
    assert.equal(error.providerCode, 'modelStreamErrorException');
    assert.match(
      error.message,
      /^bedrock stream error modelStreamErrorException: Model Stream Error \(original 500: The model stream failed\.\)/,
    );
  });

  test(`${use('converse-stream.exception.modelStreamErrorException.eventstream.base64.txt')} is the .bin`, () => {
    const decoded = Buffer.from(
      fixtureText(P, 'converse-stream.exception.modelStreamErrorException.eventstream.base64.txt').trim(),
      'base64',
    );
    assert.deepEqual(
      decoded,
      fixtureBytes(P, 'converse-stream.exception.modelStreamErrorException.eventstream.bin'),
    );
  });

  test('an exception after text: the text is delivered, then the typed error, not retried', async () => {
    const text = fixtureBytes(P, 'converse-stream.text.reframed.eventstream.bin');
    const exception = fixtureBytes(P, 'converse-stream.exception.modelStreamErrorException.eventstream.bin');
    // The first four messages (messageStart and three deltas), cut by their preludes' lengths.
    const view = new DataView(text.buffer, text.byteOffset);
    let cut = 0;
    for (let i = 0; i < 4; i++) cut += view.getUint32(cut);
    const lines = fixtureText(P, 'converse-stream.text.events.jsonl').trim().split('\n').slice(1, 4);
    const delivered = lines.map((line) => JSON.parse(line).contentBlockDelta.delta.text as string).join('');
    const { events, error } = await failingStream({
      body: Buffer.concat([text.subarray(0, cut), exception]),
      chunkSize: 64,
    });
    assert.equal(events.map((event) => (event.type === 'text-delta' ? event.text : '')).join(''), delivered);
    assert.ok(error instanceof LLMServerError);
    assert.equal(error.attempts, 1, 'output was delivered: never retried');
  });

  test('a corrupted CRC and a cut body are retryable LLMInvalidResponseErrors', async () => {
    const body = Buffer.from(
      fixtureBytes(P, 'converse-stream.live-capture.claude-sonnet-4-6.eventstream.bin'),
    );
    body[body.length - 1]! ^= 0xff;
    const corrupted = await failingStream({ body });
    assert.ok(corrupted.error instanceof LLMInvalidResponseError);
    assert.equal(corrupted.error.retryable, true);
    const cut = await failingStream({ body: body.subarray(0, 300) });
    assert.ok(cut.error instanceof LLMInvalidResponseError);
    assert.match(cut.error.message, /ended inside a message/);
  });
});

test('a corrupted message in the first chunk: nothing of it delivered, the attempt retried cleanly', async () => {
  const good = fixtureBytes(P, 'converse-stream.live-capture.claude-sonnet-4-6.eventstream.bin');
  const bad = Buffer.from(good);
  bad[bad.length - 1]! ^= 0xff;
  const server = await startReplayServer([
    { headers: EVENTSTREAM, body: bad },
    { headers: EVENTSTREAM, body: good },
  ]);
  const retrying = factory.createClient(`bedrock/${MODEL}`, {
    region: 'us-east-1',
    baseURL: server.url,
    credentials: { accessKeyId: 'TESTFIXTUREKEYID0000', secretAccessKey: 'fixture-secret-key-000000' },
    maxRetries: 1,
    retry: { initialDelayMs: 1, maxDelayMs: 2 },
  });
  try {
    const texts: string[] = [];
    for await (const event of retrying.stream({ prompt: 'fixture' }))
      if (event.type === 'text-delta') texts.push(event.text);
    assert.deepEqual(texts, ['OK', '.'], 'the good events of the corrupt chunk are not delivered twice');
    assert.equal(server.requests.length, 2);
  } finally {
    await retrying.close();
    await server.close();
  }
});

describe('bedrock error fixtures', () => {
  type Wrapped = { status: number; headers: Record<string, string>; body: unknown };
  const reply = (wrapped: Wrapped): Reply => ({
    status: wrapped.status,
    headers: wrapped.headers,
    body: JSON.stringify(wrapped.body),
  });

  const bodyOnly: Array<[string, RegExp]> = [
    ['error.400.ValidationException.duplicate-tooluse-ids.body.json', /contain duplicate Ids/],
    [
      'error.400.ValidationException.model-returned-errors.body.json',
      /^bedrock 400 ValidationException: The model returned/,
    ],
    ['error.400.ValidationException.reasoning-in-user.body.json', /cannot contain reasoning content/],
    ['error.400.ValidationException.tool-name-pattern.body.json', /1 validation error detected/],
  ];
  for (const [file, message] of bodyOnly) {
    test(`${use(file)}, with and without x-amzn-errortype`, async () => {
      const body = fixtureText(P, file);
      const bare = await errorFrom({ status: 400, body });
      assert.equal(bare.constructor, LLMBadRequestError);
      assert.equal(bare.providerCode, undefined, 'nothing names the exception');
      assert.equal(bare.body, body, 'the body is kept as sent');
      const typed = await errorFrom({
        status: 400,
        headers: {
          'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/',
        },
        body,
      });
      assert.equal(typed.constructor, LLMBadRequestError);
      assert.equal(typed.providerCode, 'ValidationException');
      assert.match(typed.message, message);
      assert.equal(typed.retryable, false);
    });
  }

  test(use('error.400.ValidationException.empty-content.with-headers.json'), async () => {
    const error = await errorFrom(
      reply(fixtureJson<Wrapped>(P, 'error.400.ValidationException.empty-content.with-headers.json')),
    );
    assert.equal(error.constructor, LLMBadRequestError);
    assert.equal(error.providerCode, 'ValidationException');
    assert.match(error.message, /The content field in the Message object at messages\.1 is empty/);
  });

  test(`${use('error.403.AccessDeniedException.bedrock-api-key.reported.json')}: capitalised Message, '#' suffix`, async () => {
    const replies = fixtureJson<Wrapped[]>(
      P,
      'error.403.AccessDeniedException.bedrock-api-key.reported.json',
    );
    const messages = [
      /Invalid API Key format/,
      /Authentication failed: Please make sure your API Key is valid/,
    ];
    for (const [index, wrapped] of replies.entries()) {
      const error = await errorFrom(reply(wrapped));
      assert.ok(error instanceof LLMAuthenticationError);
      assert.equal(error.providerCode, 'AccessDeniedException');
      assert.match(error.message, messages[index]!);
    }
  });

  test(use('error.403.AccessDeniedException.iam.reported.json'), async () => {
    const wrapped = fixtureJson<Wrapped>(P, 'error.403.AccessDeniedException.iam.reported.json');
    for (const headers of [wrapped.headers, {}]) {
      const error = await errorFrom({ ...reply(wrapped), headers });
      assert.ok(error instanceof LLMAuthenticationError);
      assert.match(error.message, /is not authorized to perform: bedrock:InvokeModelWithResponseStream/);
    }
  });

  test(use('error.429.ThrottlingException.captured.json'), async () => {
    const wrapped = fixtureJson<Wrapped>(P, 'error.429.ThrottlingException.captured.json');
    const { 'content-length': _, ...headers } = wrapped.headers;
    const error = await errorFrom({ ...reply(wrapped), headers });
    assert.ok(error instanceof LLMRateLimitError);
    assert.equal(error.retryable, true);
    assert.equal(error.providerCode, 'ThrottlingException');
    assert.equal(error.requestId, 'a08a73eb-05c5-416f-b6f4-51f9cab3f35f');
    assert.equal(Buffer.byteLength(error.body ?? ''), Number(wrapped.headers['content-length']));
  });

  test(`${use('error.UnknownOperationException.coral.json')}: the name from the body's nested __type`, async () => {
    const error = await errorFrom({
      status: 404,
      body: fixtureText(P, 'error.UnknownOperationException.coral.json'),
    });
    assert.ok(error instanceof LLMNotFoundError);
    assert.equal(error.providerCode, 'UnknownOperationException');
    assert.match(error.message, /bedrock-runtime endpoint/);
  });

  test('bodies of other shapes still get their class: names win over statuses', async () => {
    const html = await errorFrom({ status: 503, body: '<html><body>Service Unavailable</body></html>' });
    assert.ok(html instanceof LLMServerError && html.retryable);
    const empty = await errorFrom({ status: 403, body: '' });
    assert.ok(empty instanceof LLMAuthenticationError);
    const tooLong = await errorFrom({
      status: 400,
      headers: {
        'x-amzn-errortype': 'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/',
      },
      body: '{"message":"Input is too long for requested model."}',
    });
    assert.ok(tooLong instanceof LLMContextWindowError);
    const quota = await errorFrom({
      status: 400,
      body: '{"__type":"ServiceQuotaExceededException","message":"quota"}',
    });
    assert.ok(quota instanceof LLMRateLimitError && !quota.retryable);
    const notReady = await errorFrom({
      status: 429,
      body: '{"__type":"ModelNotReadyException","message":"warming"}',
    });
    assert.ok(notReady instanceof LLMServerError && notReady.retryable);
  });
});

describe('bedrock InvokeModel embedding fixtures', () => {
  test(`${use('constructed.invoke.titan-embed-text-v2.response.json')} for ${use('constructed.invoke.titan-embed-text-v2.request.json')}`, async () => {
    const request = fixtureJson<{ inputText: string; dimensions: number; normalize: boolean }>(
      P,
      'constructed.invoke.titan-embed-text-v2.request.json',
    );
    const response = fixtureJson<{ embedding: number[] }>(
      P,
      'constructed.invoke.titan-embed-text-v2.response.json',
    );
    const c = client({ embeddingModel: 'amazon.titan-embed-text-v2:0' });
    harness.next = { body: fixtureText(P, 'constructed.invoke.titan-embed-text-v2.response.json') };
    const before = harness.server.requests.length;
    const { embeddings: vectors, usage } = await c.embed([request.inputText, 'Second text'], {
      dimensions: request.dimensions,
    });
    await c.close();
    assert.deepEqual(vectors, [response.embedding, response.embedding]);
    const count = fixtureJson<{ inputTextTokenCount: number }>(
      P,
      'constructed.invoke.titan-embed-text-v2.response.json',
    ).inputTextTokenCount;
    assert.equal(usage?.inputTokens, 2 * count, 'inputTextTokenCount of both calls, added up');
    const sent = harness.server.requests.slice(before);
    assert.equal(sent.length, 2, 'Titan takes one text per call');
    const first = sent.find((seen) => JSON.parse(seen.body).inputText === request.inputText)!;
    assert.equal(first.url, `/model/${encodeURIComponent('amazon.titan-embed-text-v2:0')}/invoke`);
    assert.deepEqual(JSON.parse(first.body), {
      inputText: request.inputText,
      dimensions: request.dimensions,
      normalize: request.normalize,
    });
  });

  test(`${use('constructed.invoke.cohere-embed-english-v3.response.json')} for ${use('constructed.invoke.cohere-embed-english-v3.request.json')}`, async () => {
    const request = fixtureJson<{ texts: string[]; input_type: string }>(
      P,
      'constructed.invoke.cohere-embed-english-v3.request.json',
    );
    const response = fixtureJson<{ embeddings: number[][] }>(
      P,
      'constructed.invoke.cohere-embed-english-v3.response.json',
    );
    const c = client({ embeddingModel: 'cohere.embed-english-v3' });
    harness.next = { body: fixtureText(P, 'constructed.invoke.cohere-embed-english-v3.response.json') };
    assert.deepEqual(await c.generateEmbeddings(request.texts), response.embeddings);
    await c.close();
    assert.deepEqual(JSON.parse(harness.server.requests.at(-1)!.body), {
      texts: request.texts,
      input_type: request.input_type,
    });
  });

  test(use('constructed.invoke.cohere-embed-english-v3.embedding_types.response.json'), async () => {
    const response = fixtureJson<{ embeddings: { float: number[][] } }>(
      P,
      'constructed.invoke.cohere-embed-english-v3.embedding_types.response.json',
    );
    const c = client({ embeddingModel: 'cohere.embed-v4:0' });
    harness.next = {
      body: fixtureText(P, 'constructed.invoke.cohere-embed-english-v3.embedding_types.response.json'),
    };
    assert.deepEqual(await c.generateEmbeddings(['hello world']), response.embeddings.float);
    await c.close();
    assert.deepEqual(JSON.parse(harness.server.requests.at(-1)!.body).embedding_types, ['float']);
  });
});

describe('AWS eventstream conformance vectors', () => {
  const DIR = 'eventstream-test-vectors';
  const TYPES = [
    'boolean',
    'boolean',
    'byte',
    'short',
    'integer',
    'long',
    'binary',
    'string',
    'timestamp',
    'uuid',
  ];
  interface Vector {
    total_length: number;
    headers_length: number;
    prelude_crc: number;
    message_crc: number;
    headers: Array<{ name: string; type: number; value: unknown }>;
    payload: string;
  }
  const uuidOf = (base64: string) =>
    Buffer.from(base64, 'base64')
      .toString('hex')
      .replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

  for (const name of fixtureFiles(`${P}/${DIR}/encoded/positive`)) {
    const vector = name.replace(/\.bin$/, '');
    test(`${use(`${DIR}/encoded/positive/${name}`)} decodes as ${use(`${DIR}/decoded/positive/${vector}.json`)} says`, () => {
      const bytes = fixtureBytes(P, `${DIR}/encoded/positive/${name}`);
      const expected = fixtureJson<Vector>(P, `${DIR}/decoded/positive/${vector}.json`);
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      assert.equal(bytes.length, expected.total_length);
      assert.equal(view.getUint32(4), expected.headers_length);
      assert.equal(view.getInt32(8), expected.prelude_crc);
      assert.equal(view.getInt32(bytes.length - 4), expected.message_crc);
      const messages: Array<import('@smithy/eventstream-codec').Message> = [];
      const reader = new EventStreamMessageReader();
      for (let offset = 0; offset < bytes.length; offset += 3)
        reader.push(bytes.subarray(offset, offset + 3), (m) => messages.push(m));
      reader.end();
      assert.equal(messages.length, 1);
      const [message] = messages;
      assert.equal(Buffer.from(message!.body).toString('base64'), expected.payload);
      assert.deepEqual(
        Object.keys(message!.headers),
        expected.headers.map((header) => header.name),
      );
      for (const header of expected.headers) {
        const got = message!.headers[header.name]!;
        assert.equal(got.type, TYPES[header.type], header.name);
        let value: unknown = got.value;
        if (got.type === 'long') value = got.value.valueOf();
        if (got.type === 'timestamp') value = got.value.getTime();
        if (got.type === 'binary') value = Buffer.from(got.value).toString('base64');
        if (got.type === 'string') value = Buffer.from(got.value).toString('base64');
        const want = header.type === 9 ? uuidOf(header.value as string) : header.value;
        assert.deepEqual(value, want, header.name);
      }
    });
  }
});

test('every bedrock fixture is covered, or knowledgeably left out', () => {
  const all = fixtureFiles(P).flatMap((file) =>
    file === 'eventstream-test-vectors'
      ? ['decoded/positive', 'encoded/positive'].flatMap((dir) =>
          fixtureFiles(`${P}/${file}/${dir}`).map((name) => `${file}/${dir}/${name}`),
        )
      : [file],
  );
  assert.ok(all.length > 40, 'the fixture tree was read');
  assert.deepEqual(
    all.filter((file) => !covered.has(file)),
    [],
  );
});
