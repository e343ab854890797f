/**
 * Every Ollama payload in test/fixtures/ollama goes through the real client, transport, NDJSON
 * decoder and parsers, served by a loopback server, whole and split into small chunks. Native `/api/*`
 * bodies go through the `ollama` provider; the `/v1` (OpenAI-compatible layer) bodies go through
 * `openai-compatible`, which is how this library talks to that layer. Source-derived files are shapes,
 * not captures (see SOURCES.md).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../../client/factory.ts';
import type { ClientOptions } from '../../client/options.ts';
import {
  isLLMError,
  LLMAuthenticationError,
  LLMBadRequestError,
  LLMContextWindowError,
  type LLMError,
  LLMNotFoundError,
  LLMRateLimitError,
  LLMServerError,
} from '../../spec/errors.ts';
import type { CompletionRequest, StreamEvent } from '../../spec/types.ts';
import { oracleStreamText, replyFromRecorded } from '../../test-support/exchanges.ts';
import { fixtureFiles, fixtureJson, fixtureText } from '../../test-support/fixtures.ts';
import { coverage, ReplayHarness } from '../../test-support/replay-harness.ts';
import { type Reply, startReplayServer } from '../../test-support/replay-server.ts';

const P = 'ollama';
const NDJSON = { 'content-type': 'application/x-ndjson' };
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const { use, covered } = coverage();

const client = (options: ClientOptions = {}) =>
  factory.createClient('ollama', { baseURL: harness.url, model: 'llama3.2', maxRetries: 0, ...options });
const completeWith = (reply: Reply, request?: CompletionRequest) =>
  harness.complete(client(), reply, request);
const streamWith = (reply: Reply, request?: CompletionRequest) =>
  harness.stream(client(), { headers: NDJSON, ...reply }, request);
const errorFrom = (reply: Reply) => harness.error(client(), reply);
const lastRequestBody = () => JSON.parse(harness.server.requests.at(-1)!.body) as unknown;

/** An independent reading of an Ollama NDJSON body: the text of every line, chat or generate shape. */
function oracleNdjsonText(ndjson: string): string {
  let text = '';
  for (const line of ndjson.split('\n')) {
    if (!line.trim()) continue;
    const object = JSON.parse(line) as { message?: { content?: string }; response?: string };
    text += object.message?.content ?? object.response ?? '';
  }
  return text;
}

/** The typed error a call fails with (the test fails if it succeeds). */
async function failure(call: Promise<unknown>): Promise<LLMError> {
  const caught = await call.then(
    () => assert.fail('expected the call to fail'),
    (error: unknown) => error,
  );
  assert.ok(isLLMError(caught), `expected an LLMError, got ${String(caught)}`);
  return caught;
}

/** A `{status, headers, body}` capture as a reply. */
function wrapped(file: string): Reply {
  const parsed = fixtureJson<{ status: number; headers?: Record<string, string>; body: unknown }>(P, file);
  return replyFromRecorded({ status: parsed.status, headers: parsed.headers ?? {}, body: parsed.body });
}

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

describe('ollama non-streaming fixtures', () => {
  const cases: Array<
    [
      string,
      {
        finish: string;
        raw?: string;
        text: string | RegExp;
        usage: [number, number, number];
        model: string;
        tools?: Array<{ name: string; arguments: unknown }>;
      },
    ]
  > = [
    [
      'api-chat.nonstream.captured.deepseek-r1.json',
      {
        finish: 'stop',
        raw: 'stop',
        // Go escaped the tags as \u003c…\u003e; the text has them back, emoji intact, thoughts not stripped.
        text: '<think>\n\n</think>\n\nHello! How can I assist you today? 😊',
        usage: [4, 16, 20],
        model: 'deepseek-r1:32b',
      },
    ],
    [
      'api-chat.nonstream.captured.qwen2.5vl.json',
      { finish: 'stop', raw: 'stop', text: 'Understood.', usage: [44, 4, 48], model: 'qwen2.5vl:3b' },
    ],
    [
      'doc.api-chat.load-model.json',
      { finish: 'other', raw: 'load', text: '', usage: [0, 0, 0], model: 'llama3.2' },
    ],
    [
      'doc.api-chat.nonstream-tools.json',
      {
        finish: 'tool-calls',
        raw: 'stop',
        text: '',
        usage: [169, 18, 187],
        model: 'llama3.2',
        tools: [{ name: 'get_weather', arguments: { city: 'Tokyo' } }],
      },
    ],
    [
      'doc.api-chat.nonstream.json',
      // No done_reason (servers before it existed): done: true alone means the model stopped.
      { finish: 'stop', text: 'Hello! How are you today?', usage: [26, 298, 324], model: 'llama3.2' },
    ],
    [
      'doc.api-chat.structured.json',
      {
        finish: 'stop',
        raw: 'stop',
        text: '{"age": 22, "available": false}',
        usage: [34, 12, 46],
        model: 'llama3.1',
      },
    ],
    [
      'doc.api-chat.with-tools.json',
      {
        finish: 'tool-calls',
        raw: 'stop',
        text: '',
        usage: [122, 33, 155],
        model: 'llama3.2',
        tools: [
          {
            name: 'get_current_weather',
            arguments: { format: 'celsius', location: 'Paris, FR' },
          },
        ],
      },
    ],
    // The /api/generate shape (text in `response`) is read by the same parser.
    [
      'doc.api-generate.nonstream.json',
      {
        finish: 'stop',
        text: 'The sky is blue because it is the color of the sky.',
        usage: [26, 290, 316],
        model: 'llama3.2',
      },
    ],
    [
      'doc.api-generate.json-mode.json',
      {
        finish: 'stop',
        text: /^\{\n"morning": \{\n"color": "blue"/,
        usage: [36, 180, 216],
        model: 'llama3.2',
      },
    ],
    ['doc.api-generate.load-model.json', { finish: 'stop', text: '', usage: [0, 0, 0], model: 'llama3.2' }],
    [
      'doc.api-generate.unload-model.json',
      { finish: 'other', raw: 'unload', text: '', usage: [0, 0, 0], model: 'llama3.2' },
    ],
  ];
  for (const [file, expected] of cases) {
    for (const chunkSize of [undefined, 5]) {
      test(`${use(file)}${chunkSize ? ` in ${chunkSize}-byte chunks` : ''}`, async () => {
        const body = fixtureText(P, file);
        const result = await completeWith(chunkSize ? { body, chunkSize } : { body });
        if (typeof expected.text === 'string') assert.equal(result.text, expected.text);
        else assert.match(result.text, expected.text);
        assert.equal(result.finishReason, expected.finish);
        assert.equal(result.rawFinishReason, expected.raw);
        assert.deepEqual(
          [result.usage.inputTokens, result.usage.outputTokens, result.usage.totalTokens],
          expected.usage,
        );
        assert.equal(result.model, expected.model);
        assert.equal(result.provider, 'ollama');
        assert.deepEqual(
          result.toolCalls.map((call) => ({
            name: call.name,
            arguments: JSON.parse(call.arguments) as unknown,
          })),
          expected.tools ?? [],
        );
        // The documented calls have no id: each gets one of its own, unique across the conversation.
        for (const call of result.toolCalls) assert.match(call.id, /^call_[0-9a-f]{24}$/);
        assert.deepEqual(result.raw, JSON.parse(body), 'raw keeps the whole body');
      });
    }
  }

  test('done_reason length (num_predict reached) is a length finish', async () => {
    const captured = fixtureJson<Record<string, unknown>>(P, 'api-chat.nonstream.captured.qwen2.5vl.json');
    const result = await completeWith({ body: JSON.stringify({ ...captured, done_reason: 'length' }) });
    assert.equal(result.finishReason, 'length');
    assert.equal(result.text, 'Understood.');
  });

  test('thinking is the reasoning, kept out of the text, first in the message', async () => {
    const body = JSON.stringify({
      ...fixtureJson<Record<string, unknown>>(P, use('api-chat.nonstream.captured.qwen2.5vl.json')),
      message: { role: 'assistant', content: 'Understood.', thinking: 'The user wants an acknowledgement.' },
    });
    const result = await completeWith({ body });
    assert.equal(result.text, 'Understood.');
    assert.equal(result.reasoning, 'The user wants an acknowledgement.');
    assert.deepEqual(result.message.content, [
      { type: 'reasoning', text: 'The user wants an acknowledgement.' },
      { type: 'text', text: 'Understood.' },
    ]);
  });
});

describe('ollama streaming fixtures', () => {
  const cases: Array<
    [string, { finish: string; raw?: string; usage: [number, number, number]; model: string; tools?: number }]
  > = [
    [
      'api-chat.stream.captured.llama3.ndjson',
      { finish: 'stop', raw: 'stop', usage: [18, 7, 25], model: 'llama3' },
    ],
    ['doc.api-chat.stream.ndjson', { finish: 'stop', usage: [26, 282, 308], model: 'llama3.2' }],
    [
      'doc.api-chat.stream-tools.ndjson',
      { finish: 'tool-calls', raw: 'stop', usage: [169, 15, 184], model: 'llama3.2', tools: 1 },
    ],
    ['doc.api-generate.stream.ndjson', { finish: 'stop', usage: [26, 259, 285], model: 'llama3.2' }],
  ];
  for (const [file, expected] of cases) {
    for (const chunkSize of [undefined, 7, 1]) {
      test(`${use(file)}${chunkSize ? ` in ${chunkSize}-byte chunks` : ''}`, async () => {
        const ndjson = fixtureText(P, file);
        const { text, events, finish } = await streamWith(
          chunkSize ? { body: ndjson, chunkSize } : { body: ndjson },
        );
        assert.equal(text, oracleNdjsonText(ndjson));
        assert.equal(finish.finishReason, expected.finish);
        assert.equal(finish.rawFinishReason, expected.raw);
        assert.deepEqual(
          [finish.usage.inputTokens, finish.usage.outputTokens, finish.usage.totalTokens],
          expected.usage,
        );
        assert.equal(finish.model, expected.model);
        const calls = events.filter((event) => event.type === 'tool-call');
        assert.equal(calls.length, expected.tools ?? 0);
        for (const call of calls) {
          assert.match(call.id, /^call_[0-9a-f]{24}$/, 'an id of its own: the documented call has none');
          assert.equal(call.name, 'get_weather');
          assert.deepEqual(JSON.parse(call.arguments), { city: 'Tokyo' });
        }
        assert.deepEqual(
          finish.message.content.map((part) => part.type),
          expected.tools ? ['tool-call'] : ['text'],
        );
      });
    }
  }

  test('the captured llama3 stream yields one text-delta per content line', async () => {
    const { events } = await streamWith({ body: fixtureText(P, 'api-chat.stream.captured.llama3.ndjson') });
    assert.deepEqual(
      events.flatMap((event) => (event.type === 'text-delta' ? [event.text] : [])),
      ['The', ' answer', ' is', ':', ' ', '2'],
    );
  });

  test('thinking lines (a reasoning model) are reasoning, not text; done_reason length is a length finish', async () => {
    const lines = fixtureText(P, 'api-chat.stream.captured.llama3.ndjson').trim().split('\n');
    const thinking = lines.slice(0, 2).map((line) => {
      const object = JSON.parse(line) as { message: Record<string, string> };
      return JSON.stringify({
        ...object,
        message: { role: 'assistant', content: '', thinking: 'Hmm, 1+1.' },
      });
    });
    const last = JSON.parse(lines.at(-1)!) as Record<string, unknown>;
    const body = `${[...thinking, ...lines.slice(0, -1), JSON.stringify({ ...last, done_reason: 'length' })].join('\n')}\n`;
    const { text, events, finish } = await streamWith({ body, chunkSize: 11 });
    assert.equal(text, 'The answer is: 2');
    assert.deepEqual(
      events.flatMap((event) => (event.type === 'reasoning-delta' ? [event.text] : [])),
      ['Hmm, 1+1.', 'Hmm, 1+1.'],
    );
    assert.deepEqual(finish.message.content, [
      { type: 'reasoning', text: 'Hmm, 1+1.Hmm, 1+1.' },
      { type: 'text', text: 'The answer is: 2' },
    ]);
    assert.equal(finish.finishReason, 'length');
    assert.equal(finish.rawFinishReason, 'length');
  });

  test('a final line that carries text (the non-streaming object) split byte by byte keeps its emoji', async () => {
    const body = `${fixtureText(P, 'api-chat.nonstream.captured.deepseek-r1.json').trim()}\n`;
    const { text, finish } = await streamWith({ body, chunkSize: 1 });
    assert.equal(text, '<think>\n\n</think>\n\nHello! How can I assist you today? 😊');
    assert.equal(finish.usage.totalTokens, 20);
  });

  test('a stream cut before its done line ends in an invalid-response error, after the text it had', async () => {
    const lines = fixtureText(P, 'api-chat.stream.captured.llama3.ndjson').trim().split('\n');
    harness.next = { headers: NDJSON, body: `${lines.slice(0, 3).join('\n')}\n` };
    const c = client();
    const events: StreamEvent[] = [];
    const error = await failure(
      (async () => {
        for await (const event of c.stream({ prompt: 'cut' })) events.push(event);
      })(),
    );
    await c.close();
    assert.equal(error.code, 'invalid_response');
    assert.match(error.message, /done: true/);
    assert.equal(
      events.map((event) => (event.type === 'text-delta' ? event.text : '')).join(''),
      'The answer is',
    );
  });

  for (const chunkSize of [undefined, 7]) {
    test(`${use('doc.error.midstream.generate.ndjson')}: text, then a typed server error${chunkSize ? ` (${chunkSize}-byte chunks)` : ''}`, async () => {
      const ndjson = fixtureText(P, 'doc.error.midstream.generate.ndjson');
      harness.next = chunkSize
        ? { headers: NDJSON, body: ndjson, chunkSize }
        : { headers: NDJSON, body: ndjson };
      const c = client({ maxRetries: 2 });
      let text = '';
      const error = await failure(
        (async () => {
          for await (const event of c.stream({ prompt: 'fail midway' }))
            if (event.type === 'text-delta') text += event.text;
        })(),
      );
      await c.close();
      assert.ok(error instanceof LLMServerError, `got ${error.name}`);
      assert.equal(text, ' Yes.Ican', 'everything before the error line was delivered');
      assert.equal(error.attempts, 1, 'never retried after output');
      assert.match(error.message, /ollama stream error: an error was encountered while running the model/);
    });
  }
});

describe('ollama requests', () => {
  const fixtureRequest = (file: string) => fixtureJson<Record<string, unknown>>(P, file);
  const question = { model: 'llama3.2', prompt: 'why is the sky blue?' };
  const tools = (file: string) => fixtureRequest(file).tools;

  test(`${use('doc.api-chat.nonstream.request.json')} is what complete() sends`, async () => {
    await completeWith({ body: fixtureText(P, 'doc.api-chat.nonstream.json') }, question);
    assert.equal(harness.server.requests.at(-1)!.url, '/api/chat');
    assert.deepEqual(lastRequestBody(), fixtureRequest('doc.api-chat.nonstream.request.json'));
  });

  test(`${use('doc.api-chat.stream.request.json')} is what stream() sends, with stream: true written out`, async () => {
    await streamWith({ body: fixtureText(P, 'doc.api-chat.stream.ndjson') }, question);
    const seen = harness.server.requests.at(-1)!;
    assert.equal(seen.headers.accept, 'application/x-ndjson');
    assert.deepEqual(lastRequestBody(), {
      ...fixtureRequest('doc.api-chat.stream.request.json'),
      stream: true,
    });
  });

  test(`${use('doc.api-chat.nonstream-tools.request.json')} and ${use('doc.api-chat.stream-tools.request.json')} from the request's tools`, async () => {
    const ask = { model: 'llama3.2', prompt: 'what is the weather in tokyo?' };
    const toolsOf = (file: string) =>
      (
        tools(file) as Array<{
          function: { name: string; description: string; parameters: Record<string, unknown> };
        }>
      ).map(({ function: fn }) => ({
        name: fn.name,
        description: fn.description,
        parameters: fn.parameters,
      }));
    const whole = await completeWith(
      { body: fixtureText(P, 'doc.api-chat.nonstream-tools.json') },
      { ...ask, tools: toolsOf('doc.api-chat.nonstream-tools.request.json') },
    );
    assert.deepEqual(lastRequestBody(), fixtureRequest('doc.api-chat.nonstream-tools.request.json'));
    assert.equal(whole.warnings, undefined, 'a schema Ollama keeps whole needs no warning');
    await streamWith(
      { body: fixtureText(P, 'doc.api-chat.stream-tools.ndjson') },
      { ...ask, tools: toolsOf('doc.api-chat.stream-tools.request.json') },
    );
    assert.deepEqual(lastRequestBody(), fixtureRequest('doc.api-chat.stream-tools.request.json'));
  });

  test('sampling settings go in options under Ollama names; providerOptions.ollama merge last', async () => {
    await completeWith(
      { body: fixtureText(P, 'doc.api-chat.nonstream.json') },
      {
        system: 'Be brief.',
        prompt: 'hi',
        temperature: 0.2,
        maxTokens: 64,
        topP: 0.9,
        stop: '\n\n',
        seed: 7,
        providerOptions: {
          ollama: { keep_alive: '5m', truncate: false, options: { num_ctx: 8192 } },
          openai: { user: 'not for ollama' },
        },
      },
    );
    assert.deepEqual(lastRequestBody(), {
      model: 'llama3.2',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'hi' },
      ],
      stream: false,
      options: { temperature: 0.2, num_predict: 64, top_p: 0.9, stop: ['\n\n'], seed: 7, num_ctx: 8192 },
      keep_alive: '5m',
      truncate: false,
    });
  });

  test('OLLAMA_HOST without a scheme, a path prefix, and a key sent as a bearer token', async () => {
    const host = new URL(harness.url).host; // 127.0.0.1:port
    const env = new LLMClientFactory({
      env: { OLLAMA_HOST: `${host}/behind-proxy`, OLLAMA_API_KEY: 'ollama-key-123' },
    });
    const c = env.createClient('ollama', { maxRetries: 0 });
    const result = await harness.complete(c, { body: fixtureText(P, 'doc.api-chat.nonstream.json') });
    await env.close();
    assert.equal(result.text, 'Hello! How are you today?');
    const seen = harness.server.requests.at(-1)!;
    assert.equal(seen.url, '/behind-proxy/api/chat');
    assert.equal(seen.headers.authorization, 'Bearer ollama-key-123');
    assert.equal((JSON.parse(seen.body) as { model: string }).model, 'llama3.2', 'the default model');
  });
});

describe('ollama embeddings fixtures', () => {
  const vectorsOf = (file: string) => fixtureJson<{ embeddings: number[][] }>(P, file).embeddings;

  test(`${use('doc.api-embed.json')} for ${use('doc.api-embed.request.json')}`, async () => {
    const request = fixtureJson<{ model: string; input: string }>(P, 'doc.api-embed.request.json');
    const c = client({ embeddingModel: request.model });
    harness.next = { body: fixtureText(P, 'doc.api-embed.json') };
    const { embeddings: vectors, usage } = await c.embed([request.input]);
    await c.close();
    assert.deepEqual(vectors, vectorsOf('doc.api-embed.json'));
    const count = fixtureJson<{ prompt_eval_count: number }>(P, 'doc.api-embed.json').prompt_eval_count;
    assert.deepEqual(
      usage,
      { inputTokens: count, outputTokens: 0, totalTokens: count, costUsd: 0 },
      'local: free',
    );
    const seen = harness.server.requests.at(-1)!;
    assert.equal(seen.url, '/api/embed');
    assert.deepEqual(JSON.parse(seen.body), { ...request, input: [request.input] }, 'always a list');
  });

  test(`${use('doc.api-embed.multiple.json')} for ${use('doc.api-embed.multiple.request.json')}, in 9-byte chunks`, async () => {
    const request = fixtureJson<{ model: string; input: string[] }>(P, 'doc.api-embed.multiple.request.json');
    const c = client();
    harness.next = { body: fixtureText(P, 'doc.api-embed.multiple.json'), chunkSize: 9 };
    const vectors = await c.generateEmbeddings(request.input, { model: request.model });
    await c.close();
    assert.deepEqual(vectors, vectorsOf('doc.api-embed.multiple.json'));
    assert.deepEqual(JSON.parse(harness.server.requests.at(-1)!.body), request);
  });

  test(`${use('doc.api-embeddings.legacy.json')}: the legacy single-vector shape is read for one input`, async () => {
    const c = client();
    harness.next = { body: fixtureText(P, 'doc.api-embeddings.legacy.json') };
    const [vector] = await c.generateEmbeddings(['one']);
    harness.next = { body: fixtureText(P, 'doc.api-embeddings.legacy.json') };
    const error = await failure(c.generateEmbeddings(['one', 'two']));
    await c.close();
    assert.deepEqual(
      vector,
      fixtureJson<{ embedding: number[] }>(P, 'doc.api-embeddings.legacy.json').embedding,
    );
    assert.equal(error.code, 'invalid_response', 'not stretched to two inputs');
  });

  test('batches of at most 512 inputs, answered in input order', async () => {
    // A server that answers each input with a vector encoding it, so misordering would show.
    const server = await startReplayServer((seen) => {
      const { input } = JSON.parse(seen.body) as { input: string[] };
      return { body: JSON.stringify({ embeddings: input.map((text) => [Number(text.slice(5))]) }) };
    });
    const texts = Array.from({ length: 1030 }, (_, i) => `text ${i}`);
    const c = factory.createClient('ollama', { baseURL: server.url, maxRetries: 0 });
    const vectors = await c.generateEmbeddings(texts, { concurrency: 2 });
    await c.close();
    await server.close();
    const sizes = server.requests.map((seen) => (JSON.parse(seen.body) as { input: string[] }).input.length);
    assert.deepEqual(
      sizes.sort((a, b) => b - a),
      [512, 512, 6],
    );
    assert.deepEqual(
      vectors.map((vector) => vector[0]),
      texts.map((_, i) => i),
    );
  });
});

describe('ollama error fixtures', () => {
  test(use('error.404.model-not-found.native.captured.json'), async () => {
    const reply = wrapped('error.404.model-not-found.native.captured.json');
    const error = await errorFrom(reply);
    assert.ok(error instanceof LLMNotFoundError);
    assert.equal(error.status, 404);
    assert.equal(error.retryable, false);
    assert.match(error.message, /model "llama3" not found, try pulling it first — run `ollama pull llama3`/);
    assert.equal(error.body, reply.body, 'the body is kept as sent');
  });

  test(`${use('error.404.model-not-found.native.current-source.json')} (current wording) gets the same hint`, async () => {
    const error = await errorFrom(wrapped('error.404.model-not-found.native.current-source.json'));
    assert.ok(error instanceof LLMNotFoundError);
    assert.match(error.message, /run `ollama pull llama3`/);
  });

  test('a model missing for embeddings is the same not-found error with the pull hint', async () => {
    const c = client({ embeddingModel: 'llama3' });
    harness.next = wrapped('error.404.model-not-found.native.captured.json');
    const error = await failure(c.generateEmbeddings(['x']));
    await c.close();
    assert.ok(error instanceof LLMNotFoundError);
    assert.match(error.message, /run `ollama pull llama3`/);
  });

  const documented: Array<[number, abstract new (...args: never[]) => LLMError, boolean]> = [
    [400, LLMBadRequestError, false],
    [404, LLMNotFoundError, false],
    [429, LLMRateLimitError, true],
    [500, LLMServerError, true],
    [502, LLMServerError, true],
  ];
  for (const [status, type, retryable] of documented) {
    test(`${use('doc.error.body.json')} with ${status} → ${type.name}`, async () => {
      const body = fixtureText(P, 'doc.error.body.json');
      const error = await errorFrom({ status, headers: { 'content-type': 'application/json' }, body });
      assert.ok(error instanceof type, `got ${error.name}`);
      assert.equal(error.constructor, type, 'exactly this class');
      assert.equal(error.retryable, retryable);
      assert.match(error.message, new RegExp(`^ollama ${status}: the model failed to generate a response`));
      assert.doesNotMatch(error.message, /ollama pull/);
    });
  }

  test('bodies of other shapes still get the class their status and wording call for', async () => {
    const cases: Array<[Reply, abstract new (...args: never[]) => LLMError, RegExp]> = [
      [
        { status: 404, headers: { 'content-type': 'text/plain' }, body: '404 page not found' },
        LLMNotFoundError,
        /without \/api or \/v1/,
      ],
      [
        { status: 400, body: '{"error":"the input length exceeds the context length"}' },
        LLMContextWindowError,
        /context length/,
      ],
      [
        { status: 500, body: '{"error":"the input length exceeds the context length"}' },
        LLMContextWindowError,
        /context length/,
      ],
      [
        {
          status: 503,
          body: '{"error":"server busy, please try again.  maximum pending requests exceeded"}',
        },
        LLMServerError,
        /server busy/,
      ],
      [
        {
          status: 502,
          headers: { 'content-type': 'text/html' },
          body: '<html><h1>502 Bad Gateway</h1></html>',
        },
        LLMServerError,
        /502 Bad Gateway/,
      ],
      [{ status: 401, body: '{"error":"unauthorized"}' }, LLMAuthenticationError, /unauthorized/],
      [{ status: 429, body: '' }, LLMRateLimitError, /no body/],
    ];
    for (const [reply, type, message] of cases) {
      const error = await errorFrom(reply);
      assert.ok(error instanceof type, `${reply.status} ${String(reply.body)} → ${error.name}`);
      assert.match(error.message, message);
    }
    const quota = await errorFrom({
      status: 429,
      body: '{"error":"you have reached your weekly usage limit, upgrade to continue"}',
    });
    assert.ok(quota instanceof LLMRateLimitError);
    assert.equal(quota.retryable, false, 'a plan limit does not come back in seconds');
    const inBody = await errorFrom({
      status: 200,
      body: '{"error":"model \\"phi3\\" not found, try pulling it first"}',
    });
    assert.ok(inBody instanceof LLMNotFoundError, 'an error object in a 200 is still typed');
    assert.match(inBody.message, /ollama pull phi3/);
  });
});

describe('ollama /v1 fixtures, through the openai-compatible provider', () => {
  const compatible = () =>
    factory.createClient('openai-compatible', {
      baseURL: `${harness.url}/v1`,
      model: 'qwen2.5:0.5b',
      maxRetries: 0,
    });

  test(use('v1.chat.completions.nonstream.captured.json'), async () => {
    const result = await harness.complete(compatible(), {
      body: fixtureText(P, 'v1.chat.completions.nonstream.captured.json'),
    });
    assert.equal(result.text, "Hello John! It's nice to meet you. How can I assist you today?");
    assert.deepEqual(
      [result.usage.inputTokens, result.usage.outputTokens, result.usage.totalTokens],
      [32, 18, 50],
    );
    assert.equal(result.usage.cachedInputTokens, 0);
    assert.equal(harness.server.requests.at(-1)!.url, '/v1/chat/completions');
  });

  test(use('v1.chat.completions.nonstream.finish-length.ollama-cloud.captured.json'), async () => {
    const result = await harness.complete(compatible(), {
      body: fixtureText(P, 'v1.chat.completions.nonstream.finish-length.ollama-cloud.captured.json'),
    });
    assert.equal(result.finishReason, 'length');
    assert.equal(result.text, 'gemma4-3');
  });

  test(use('v1.chat.completions.nonstream.tool_calls.reasoning.captured.json'), async () => {
    const result = await harness.complete(
      compatible(),
      wrapped('v1.chat.completions.nonstream.tool_calls.reasoning.captured.json'),
    );
    assert.equal(result.finishReason, 'tool-calls');
    assert.equal(result.text, '', 'reasoning is not the answer');
    assert.match(result.reasoning ?? '', /\S/, "/v1's `reasoning` field is the reasoning");
    assert.deepEqual(
      result.message.content.map((part) => part.type),
      ['reasoning', 'tool-call'],
    );
    assert.deepEqual(result.toolCalls, [
      { id: 'call_dl697xwg', name: 'GetWeatherInfo', arguments: '{"city":"Dalian"}' },
    ]);
  });

  for (const chunkSize of [undefined, 7]) {
    test(`${use('v1.chat.completions.stream.tool_calls.live-0.31.2.sse')}${chunkSize ? ` in ${chunkSize}-byte chunks` : ''}`, async () => {
      const sse = fixtureText(P, 'v1.chat.completions.stream.tool_calls.live-0.31.2.sse');
      const { text, events, finish } = await harness.stream(
        compatible(),
        chunkSize ? { body: sse, chunkSize } : { body: sse },
      );
      assert.equal(text, oracleStreamText(sse));
      assert.equal(finish.finishReason, 'tool-calls');
      assert.deepEqual([finish.usage.inputTokens, finish.usage.outputTokens], [161, 24]);
      const deltas = events.filter((event) => event.type === 'tool-call-delta');
      assert.deepEqual(
        deltas.map((delta) => delta.argumentsDelta),
        ['', '{"city":"Copenhagen"}'],
        'the call begins, then its whole arguments in one delta',
      );
      const calls = events.filter((event) => event.type === 'tool-call');
      assert.deepEqual(
        calls.map(({ id, name, arguments: args }) => ({ id, name, args: JSON.parse(args) as unknown })),
        [{ id: 'call_rjzv4ky2', name: 'get_weather', args: { city: 'Copenhagen' } }],
      );
      assert.deepEqual(finish.message.content, [
        { type: 'tool-call', id: 'call_rjzv4ky2', name: 'get_weather', arguments: '{"city":"Copenhagen"}' },
      ]);
    });
  }

  test(use('v1.embeddings.source-derived.json'), async () => {
    const c = compatible();
    harness.next = { body: fixtureText(P, 'v1.embeddings.source-derived.json') };
    const [vector] = await c.generateEmbeddings(['Why is the sky blue?'], { model: 'all-minilm' });
    await c.close();
    const recorded = fixtureJson<{ data: Array<{ embedding: number[] }> }>(
      P,
      'v1.embeddings.source-derived.json',
    );
    assert.deepEqual(vector, recorded.data[0]!.embedding);
  });

  test(use('v1.error.404.model-not-found.captured.json'), async () => {
    const error = await harness.error(compatible(), wrapped('v1.error.404.model-not-found.captured.json'));
    assert.ok(error instanceof LLMNotFoundError);
    assert.match(error.message, /gemma3:12b/);
  });
});

test('every ollama fixture is covered, or knowingly left out', () => {
  // Listings and the version (`/api/tags`, `/api/ps`, `/api/version`, `/v1/models`) are not responses this
  // client reads; the emulator's `/api/tags` and `/api/version` are checked against them in
  // src/emulator/ollama-sdk.test.ts. `/api/generate` requests: this client sends `/api/chat`.
  const leftOut = /^doc\.api-(?:tags|ps|version)\.json$|^v1\.models\.|^doc\.api-generate\..*\.request\.json$/;
  const missing = fixtureFiles(P).filter((file) => !covered.has(file) && !leftOut.test(file));
  assert.deepEqual(missing, []);
});
