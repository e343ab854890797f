/**
 * Whole conversations on the OpenAI wire: the recorded tool-call, structured-output and refusal payloads
 * read into messages, tool calls and typed outcomes (whole and in 5-byte chunks), and the request bodies we
 * send obey Chat Completions' rules.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import {
  LLMBadRequestError,
  LLMOutputTruncatedError,
  LLMRefusalError,
  LLMUnsupportedError,
} from '../../spec/errors.ts';
import type { ChatMessage, CompletionRequest } from '../../spec/types.ts';
import { fixtureJson, fixtureText } from '../../test-support/fixtures.ts';
import { ReplayHarness } from '../../test-support/replay-harness.ts';

const P = 'openai';
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const client = (model = 'gpt-4o'): LLMClient =>
  factory.createClient(`openai/${model}`, {
    apiKey: 'sk-fixture-test-key-0000000000',
    baseURL: `${harness.url}/v1`,
    maxRetries: 0,
  });
const sse = (file: string, chunkSize?: number) => ({
  body: fixtureText(P, file),
  headers: { 'content-type': 'text/event-stream' },
  ...(chunkSize ? { chunkSize } : {}),
});
/** The body of the last request the loopback server saw. */
const sentBody = () => JSON.parse(harness.server.requests.at(-1)!.body) as Record<string, unknown>;

before(async () => {
  harness = await ReplayHarness.start();
});
after(() => harness.close());

type Message = { tool_calls: Array<{ id: string; function: { name: string; arguments: string } }> };
const recordedCalls = (file: string) =>
  (fixtureJson<{ choices: Array<{ message: Message }> }>(P, file).choices[0]!.message.tool_calls ?? []).map(
    (call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments }),
  );

describe('recorded tool calls become messages and tool-call parts', () => {
  for (const file of [
    'chat-completion.nonstream.tool_calls.single.gpt-4o.json',
    'chat-completion.nonstream.tool_calls.parallel.gpt-4o.json',
    'chat-completion.nonstream.tool_calls.complex-args.gpt-4o.json',
  ]) {
    test(file, async () => {
      const result = await harness.complete(client(), { body: fixtureText(P, file) });
      const expected = recordedCalls(file);
      assert.deepEqual(result.toolCalls, expected);
      assert.equal(result.finishReason, 'tool-calls');
      assert.deepEqual(
        result.message.content,
        expected.map((call) => ({ type: 'tool-call', ...call })),
        'the message carries every call, in order, and no empty text part',
      );
    });
  }

  for (const [file, calls] of [
    ['chat-completion.stream.tool_calls.single.raw.sse', ['GetWeatherArgs']],
    ['chat-completion.stream.tool_calls.parallel.raw.sse', ['GetWeatherArgs', 'get_stock_price']],
    ['chat-completion.stream.tool_calls.strict.raw.sse', ['get_weather']],
    ['chat-completion.stream.tool_calls.non-strict.raw.sse', ['get_weather']],
  ] as const) {
    for (const chunkSize of [undefined, 5]) {
      test(`${file}${chunkSize ? ' in 5-byte chunks' : ''}: one tool-call event per call, at the end`, async () => {
        const { events, finish } = await harness.stream(client(), sse(file, chunkSize));
        const complete = events.filter((event) => event.type === 'tool-call');
        assert.deepEqual(
          complete.map((event) => event.name),
          calls,
        );
        const deltas = events.filter((event) => event.type === 'tool-call-delta');
        for (const call of complete) {
          const joined = deltas
            .filter((delta) => delta.index === call.index)
            .map((delta) => delta.argumentsDelta)
            .join('');
          assert.equal(call.arguments, joined, 'the complete call is its deltas joined');
          JSON.parse(call.arguments);
          // Emitted only when the provider ended the calls (the finish chunk), after every delta.
          const at = events.indexOf(call);
          assert.ok(events.slice(at).every((event) => event.type !== 'tool-call-delta'));
        }
        assert.equal(finish.finishReason, 'tool-calls');
        assert.deepEqual(
          finish.message.content.map((part) => (part.type === 'tool-call' ? part.name : part.type)),
          calls,
        );
      });
    }
  }

  test('the streamed parallel calls equal the recorded non-streamed ones in shape', async () => {
    const { events } = await harness.stream(
      client(),
      sse('chat-completion.stream.tool_calls.parallel.raw.sse'),
    );
    const calls = events.filter((event) => event.type === 'tool-call');
    assert.deepEqual(
      calls.map((call) => Object.keys(JSON.parse(call.arguments)).sort()),
      recordedCalls('chat-completion.nonstream.tool_calls.parallel.gpt-4o.json').map((call) =>
        Object.keys(JSON.parse(call.arguments)).sort(),
      ),
    );
  });
});

describe('structured output and refusals from the recorded payloads', () => {
  const Weather = z.object({ city: z.string(), temperature: z.number(), units: z.enum(['c', 'f']) });

  test('a recorded json_schema answer validates into a typed object', async () => {
    const llm = client();
    harness.next = { body: fixtureText(P, 'chat-completion.nonstream.json-schema.gpt-4o.json') };
    const { object, result } = await llm.generateObject({ schema: Weather, prompt: 'weather in SF' });
    await llm.close();
    assert.deepEqual(object, { city: 'San Francisco', temperature: 65, units: 'f' });
    assert.equal(result.finishReason, 'stop');
    const format = sentBody().response_format as {
      type: string;
      json_schema: { strict: boolean; schema: unknown };
    };
    assert.equal(format.type, 'json_schema');
    assert.equal(format.json_schema.strict, true);
  });

  test('the recorded json_schema stream gives growing partial objects, then the validated one', async () => {
    const llm = client();
    harness.next = sse('chat-completion.stream.json-schema.raw.sse', 5);
    const events = [];
    for await (const event of llm.streamObject({ schema: z.record(z.string(), z.unknown()), prompt: 'x' })) {
      events.push(event);
    }
    await llm.close();
    const last = events.at(-1)!;
    assert.equal(last.type, 'object');
    const partials = events.filter((event) => event.type === 'partial');
    assert.ok(partials.length > 3, `partials: ${partials.length}`);
    assert.deepEqual(partials.at(-1)!.object, last.object);
  });

  for (const file of [
    'chat-completion.nonstream.refusal.gpt-4o.json',
    'chat-completion.stream.refusal.raw.sse',
  ]) {
    test(`${file}: the refusal is a typed outcome, and generateObject throws LLMRefusalError`, async () => {
      const streamed = file.endsWith('.sse');
      const reply = streamed ? sse(file) : { body: fixtureText(P, file) };
      const refusal = streamed
        ? (await harness.stream(client(), reply)).finish.refusal
        : (await harness.complete(client(), reply)).refusal;
      assert.match(refusal ?? '', /sorry/i);
      const llm = client();
      harness.next = reply;
      const error = await (streamed
        ? (async () => {
            for await (const _ of llm.streamObject({ schema: Weather, prompt: 'x' })) {
              /* drain */
            }
          })()
        : llm.generateObject({ schema: Weather, prompt: 'x' })
      ).then(
        () => assert.fail('expected a refusal'),
        (caught: unknown) => caught,
      );
      await llm.close();
      assert.ok(error instanceof LLMRefusalError, String(error));
      assert.match(error.refusal, /sorry/i);
    });
  }

  test('an answer cut by the token limit is a truncation, not a parse error', async () => {
    const llm = client();
    harness.next = { body: fixtureText(P, 'chat-completion.nonstream.finish-length.gpt-4o.json') };
    const error = await llm
      .generateObject({ schema: Weather, prompt: 'x' })
      .catch((caught: unknown) => caught);
    await llm.close();
    assert.ok(error instanceof LLMOutputTruncatedError, String(error));
  });
});

describe('the request body obeys Chat Completions', () => {
  const ok = () => ({ body: fixtureText(P, 'chat-completion.nonstream.text.gpt-4o.json') });
  async function send(request: CompletionRequest, model = 'gpt-4o'): Promise<Record<string, unknown>> {
    await harness.complete(client(model), ok(), request);
    return sentBody();
  }

  test('a second turn replays the assistant tool calls and answers each by id', async () => {
    const first = await harness.complete(client(), {
      body: fixtureText(P, 'chat-completion.nonstream.tool_calls.parallel.gpt-4o.json'),
    });
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Weather in Edinburgh and the AAPL price?' },
      first.message,
      ...first.toolCalls.map(
        (call, i): ChatMessage => ({ role: 'tool', toolCallId: call.id, content: `result ${i}` }),
      ),
    ];
    const body = await send({ messages, tools: [weatherTool, stockTool] });
    const wire = body.messages as Array<Record<string, unknown>>;
    assert.deepEqual(wire[1], {
      role: 'assistant',
      content: null,
      tool_calls: recordedCalls('chat-completion.nonstream.tool_calls.parallel.gpt-4o.json').map((call) => ({
        id: call.id,
        type: 'function',
        function: { name: call.name, arguments: call.arguments },
      })),
    });
    assert.deepEqual(wire.slice(2), [
      { role: 'tool', tool_call_id: first.toolCalls[0]!.id, content: 'result 0' },
      { role: 'tool', tool_call_id: first.toolCalls[1]!.id, content: 'result 1' },
    ]);
  });

  test('a tool result with no call before it is refused before sending', async () => {
    const before = harness.server.requests.length;
    const error = await client()
      .complete({ messages: [{ role: 'tool', toolCallId: 'call_x', content: 'r' }] })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof LLMBadRequestError);
    assert.match(error.message, /messages\[0\].*call_x/);
    assert.equal(harness.server.requests.length, before, 'nothing was sent');
  });

  test('tools, tool choice, parallel calls; strict tools are closed, all-required, optional → nullable', async () => {
    const body = await send({
      prompt: 'x',
      tools: [weatherTool, { ...stockTool, strict: true }],
      toolChoice: { type: 'tool', name: 'get_stock_price' },
      parallelToolCalls: false,
    });
    assert.deepEqual(body.tool_choice, { type: 'function', function: { name: 'get_stock_price' } });
    assert.equal(body.parallel_tool_calls, false);
    const [weather, stock] = body.tools as Array<{ function: Record<string, unknown> }>;
    assert.deepEqual(weather!.function, {
      name: 'GetWeatherArgs',
      description: 'Weather for a city',
      parameters: weatherTool.parameters,
    });
    assert.deepEqual(stock!.function, {
      name: 'get_stock_price',
      parameters: {
        type: 'object',
        properties: { ticker: { type: 'string' }, exchange: { type: ['string', 'null'] } },
        required: ['ticker', 'exchange'],
        additionalProperties: false,
      },
      strict: true,
    });
    for (const choice of ['auto', 'none', 'required'] as const) {
      assert.equal(
        (await send({ prompt: 'x', tools: [weatherTool], toolChoice: choice })).tool_choice,
        choice,
      );
    }
  });

  test('a zod schema is sent as JSON Schema; what strict mode drops is a warning on the result', async () => {
    const result = await harness.complete(client(), ok(), {
      prompt: 'x',
      responseFormat: {
        type: 'json-schema',
        name: 'person',
        schema: z.object({ name: z.string().min(2), age: z.number().int().optional() }),
      },
    });
    const format = sentBody().response_format as {
      json_schema: { name: string; schema: Record<string, unknown> };
    };
    assert.equal(format.json_schema.name, 'person');
    assert.deepEqual(format.json_schema.schema.required, ['name', 'age']);
    assert.equal(format.json_schema.schema.$schema, undefined);
    assert.ok(
      result.warnings?.some((warning) => /minLength/.test(warning.message)),
      JSON.stringify(result.warnings),
    );
    assert.deepEqual((await send({ prompt: 'x', responseFormat: { type: 'json' } })).response_format, {
      type: 'json_object',
    });
  });

  test('a schema strict mode cannot express goes out non-strict, with a warning', async () => {
    const result = await harness.complete(client(), ok(), {
      prompt: 'x',
      responseFormat: {
        type: 'json-schema',
        schema: {
          type: 'object',
          properties: { tags: { type: 'object', additionalProperties: { type: 'number' } } },
        },
      },
    });
    const format = sentBody().response_format as { json_schema: { strict: boolean } };
    assert.equal(format.json_schema.strict, false);
    assert.ok(result.warnings?.some((warning) => warning.code === 'strict-off'));
  });

  test('images: URLs as they are, bytes as data URLs; PDFs as file_data', async () => {
    const png = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
    const body = await send({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Describe these' },
            { type: 'image', image: new URL('https://example.com/cat.png') },
            { type: 'image', image: png },
            {
              type: 'file',
              data: Buffer.from('%PDF-1.4 tiny'),
              mediaType: 'application/pdf',
              filename: 'a.pdf',
            },
          ],
        },
      ],
    });
    const [message] = body.messages as Array<{ content: unknown[] }>;
    assert.deepEqual(message!.content, [
      { type: 'text', text: 'Describe these' },
      { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
      { type: 'image_url', image_url: { url: `data:image/png;base64,${png.toString('base64')}` } },
      {
        type: 'file',
        file: {
          file_data: `data:application/pdf;base64,${Buffer.from('%PDF-1.4 tiny').toString('base64')}`,
          filename: 'a.pdf',
        },
      },
    ]);
  });

  test('a PDF by URL is downloaded (OpenAI takes PDFs inline only), within a size limit', async () => {
    const pdf = Buffer.from('%PDF-1.7 downloaded');
    const server = createServer((req, res) => {
      if (req.url === '/big.pdf') {
        res.writeHead(200, { 'content-type': 'application/pdf', 'content-length': String(50 * 1024 * 1024) });
        res.end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/pdf' });
      res.end(pdf);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const body = await send({
        messages: [
          {
            role: 'user',
            content: [{ type: 'file', data: `${origin}/doc.pdf`, mediaType: 'application/pdf' }],
          },
        ],
      });
      const [message] = body.messages as Array<{ content: Array<{ file: { file_data: string } }> }>;
      assert.equal(
        message!.content[0]!.file.file_data,
        `data:application/pdf;base64,${pdf.toString('base64')}`,
      );
      const error = await client()
        .complete({
          messages: [
            {
              role: 'user',
              content: [{ type: 'file', data: `${origin}/big.pdf`, mediaType: 'application/pdf' }],
            },
          ],
        })
        .catch((caught: unknown) => caught);
      assert.ok(error instanceof LLMBadRequestError);
      assert.match(error.message, /limit/);
    } finally {
      server.close();
    }
  });

  test('what Chat Completions cannot take fails before sending, naming provider, model and feature', async () => {
    const before = harness.server.requests.length;
    const error = await client()
      .complete({
        messages: [
          { role: 'user', content: [{ type: 'file', data: Buffer.from('hi'), mediaType: 'text/csv' }] },
        ],
      })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof LLMUnsupportedError);
    assert.match(error.message, /openai model gpt-4o does not support text\/csv/);
    assert.equal(harness.server.requests.length, before);
  });

  test('reasoning effort; provider options keyed by provider, never overwriting the request', async () => {
    const body = await send({
      prompt: 'x',
      reasoning: { effort: 'high' },
      providerOptions: { openai: { user: 'u-1', service_tier: 'flex' }, anthropic: { top_k: 3 } },
    });
    assert.equal(body.reasoning_effort, 'high');
    assert.equal(body.user, 'u-1');
    assert.equal(body.top_k, undefined, "another provider's options are not sent");
    const conflicts: CompletionRequest[] = [
      { prompt: 'x', providerOptions: { openai: { messages: [] } } },
      { prompt: 'x', tools: [weatherTool], providerOptions: { openai: { tool_choice: 'none' } } },
      { prompt: 'x', temperature: 0.2, providerOptions: { openai: { temperature: 1 } } },
      { prompt: 'x', providerOptions: { response_format: { type: 'json_object' } } as never },
    ];
    for (const request of conflicts) {
      const error = await client()
        .complete(request)
        .catch((caught: unknown) => caught);
      assert.ok(error instanceof LLMBadRequestError, JSON.stringify(request.providerOptions));
      assert.match(error.message, /providerOptions/);
    }
  });
});

const weatherTool = {
  name: 'GetWeatherArgs',
  description: 'Weather for a city',
  parameters: {
    type: 'object',
    properties: {
      city: { type: 'string' },
      country: { type: 'string' },
      units: { type: 'string', enum: ['c', 'f'] },
    },
    required: ['city'],
  },
};
const stockTool = {
  name: 'get_stock_price',
  parameters: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: { ticker: { type: 'string' }, exchange: { type: 'string' } },
    required: ['ticker'],
  },
};
