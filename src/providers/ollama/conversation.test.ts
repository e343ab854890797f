/**
 * Whole conversations on Ollama's native wire: the recorded tool-call, structured-output and reasoning
 * payloads read into messages, tool calls and typed outcomes (whole and in small chunks), and the request
 * bodies we send obey `/api/chat`'s rules — each rule a test.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import { LLMBadRequestError, LLMUnsupportedError } from '../../spec/errors.ts';
import type { ChatMessage, CompletionRequest, CompletionResult } from '../../spec/types.ts';
import { fixtureJson, fixtureText } from '../../test-support/fixtures.ts';
import { ReplayHarness } from '../../test-support/replay-harness.ts';

const P = 'ollama';
const NDJSON = { 'content-type': 'application/x-ndjson' };
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const client = (model = 'llama3.2'): LLMClient =>
  factory.createClient(`ollama/${model}`, { baseURL: harness.url, maxRetries: 0 });
const sentBody = () => JSON.parse(harness.server.requests.at(-1)!.body) as Record<string, unknown>;
const ok = () => ({ body: fixtureText(P, 'doc.api-chat.nonstream.json') });
const CALL_ID = /^call_[0-9a-f]{24}$/;

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

/** A recorded body with its message replaced. */
function withMessage(file: string, message: Record<string, unknown>): string {
  return JSON.stringify({ ...fixtureJson<Record<string, unknown>>(P, file), message });
}

async function failure(call: Promise<unknown>): Promise<unknown> {
  return call.then(
    () => assert.fail('expected the call to fail'),
    (caught: unknown) => caught,
  );
}

describe('recorded tool calls become tool-call parts', () => {
  for (const [file, name, args] of [
    ['doc.api-chat.nonstream-tools.json', 'get_weather', { city: 'Tokyo' }],
    ['doc.api-chat.with-tools.json', 'get_current_weather', { format: 'celsius', location: 'Paris, FR' }],
  ] as const) {
    for (const chunkSize of [undefined, 5]) {
      test(`${file}${chunkSize ? ' in 5-byte chunks' : ''}: object arguments as JSON text, an id, tool-calls`, async () => {
        const body = fixtureText(P, file);
        const result = await harness.complete(client(), chunkSize ? { body, chunkSize } : { body });
        assert.equal(result.finishReason, 'tool-calls', 'Ollama says `stop`; it called a tool');
        assert.equal(result.rawFinishReason, 'stop');
        assert.equal(result.toolCalls.length, 1);
        const [call] = result.toolCalls;
        assert.match(call!.id, CALL_ID);
        assert.equal(call!.name, name);
        assert.equal(call!.arguments, JSON.stringify(args), 'the object, key order kept');
        assert.deepEqual(result.message, {
          role: 'assistant',
          content: [{ type: 'tool-call', ...call! }],
        });
      });
    }
  }

  for (const chunkSize of [undefined, 1]) {
    test(`doc.api-chat.stream-tools.ndjson${chunkSize ? ' byte by byte' : ''}: one delta and one tool-call, from the one line`, async () => {
      const ndjson = fixtureText(P, 'doc.api-chat.stream-tools.ndjson');
      const { events, finish } = await harness.stream(
        client(),
        chunkSize ? { body: ndjson, headers: NDJSON, chunkSize } : { body: ndjson, headers: NDJSON },
      );
      const calls = events.filter((event) => event.type === 'tool-call-delta' || event.type === 'tool-call');
      assert.deepEqual(
        calls.map((event) => event.type),
        ['tool-call-delta', 'tool-call-delta', 'tool-call'],
        'begun, its whole arguments, ended: Ollama never splits a call',
      );
      const complete = calls.at(-1)!;
      assert.ok(complete.type === 'tool-call');
      assert.equal(complete.arguments, '{"city":"Tokyo"}');
      assert.equal(finish.finishReason, 'tool-calls');
      assert.deepEqual(finish.message.content, [
        { type: 'tool-call', id: complete.id, name: 'get_weather', arguments: '{"city":"Tokyo"}' },
      ]);
    });
  }

  test("a server's id is kept; arguments as a JSON string are taken as they are; none are '{}'", async () => {
    const result = await harness.complete(client(), {
      body: withMessage('doc.api-chat.nonstream-tools.json', {
        role: 'assistant',
        content: '',
        tool_calls: [
          { id: 'call_ab12cd34', function: { index: 0, name: 'get_weather', arguments: { city: 'Oslo' } } },
          { function: { index: 1, name: 'get_weather', arguments: '{"city": "Bergen"}' } },
          { function: { index: 2, name: 'get_time' } },
        ],
      }),
    });
    assert.deepEqual(
      result.toolCalls.map(({ name, arguments: args }) => [name, args]),
      [
        ['get_weather', '{"city":"Oslo"}'],
        ['get_weather', '{"city": "Bergen"}'],
        ['get_time', '{}'],
      ],
    );
    assert.equal(result.toolCalls[0]!.id, 'call_ab12cd34');
    const [, second, third] = result.toolCalls;
    assert.match(second!.id, CALL_ID);
    assert.notEqual(second!.id, third!.id, 'each call an id of its own');
  });

  test('tool-call JSON a model wrote as plain content stays text (only the server parses calls)', async () => {
    const content = '{"name": "get_weather", "arguments": {"city": "Tokyo"}}';
    const result = await harness.complete(client(), {
      body: withMessage('doc.api-chat.nonstream-tools.json', { role: 'assistant', content }),
    });
    assert.equal(result.text, content);
    assert.deepEqual(result.toolCalls, []);
    assert.equal(result.finishReason, 'stop');
  });
});

describe('structured output, JSON mode and reasoning from the recorded payloads', () => {
  const Availability = z.object({ age: z.number(), available: z.boolean() });

  test('doc.api-chat.structured.json: generateObject sends the schema as format and validates the answer', async () => {
    const llm = client('llama3.1');
    harness.next = { body: fixtureText(P, 'doc.api-chat.structured.json') };
    const { object, result } = await llm.generateObject({ schema: Availability, prompt: 'Ollama is 22…' });
    await llm.close();
    assert.deepEqual(object, { age: 22, available: false });
    assert.equal(result.finishReason, 'stop');
    const body = sentBody();
    const { $schema: _dialect, ...schema } = z.toJSONSchema(Availability, { io: 'input' }) as Record<
      string,
      unknown
    >;
    assert.deepEqual(body.format, schema, 'native: the schema itself, without $schema');
    assert.equal(body.tools, undefined, 'no forced tool: Ollama has no tool_choice');
  });

  test('the structured answer streamed in pieces gives growing partial objects, then the validated one', async () => {
    const recorded = fixtureJson<Record<string, unknown>>(P, 'doc.api-chat.structured.json');
    const content = (recorded.message as { content: string }).content;
    const lines = [];
    for (let i = 0; i < content.length; i += 4) {
      lines.push({
        model: 'llama3.1',
        message: { role: 'assistant', content: content.slice(i, i + 4) },
        done: false,
      });
    }
    lines.push({ ...recorded, message: { role: 'assistant', content: '' } });
    const llm = client('llama3.1');
    harness.next = {
      headers: NDJSON,
      body: `${lines.map((line) => JSON.stringify(line)).join('\n')}\n`,
      chunkSize: 9,
    };
    const events = [];
    for await (const event of llm.streamObject({ schema: Availability, prompt: 'x' })) events.push(event);
    await llm.close();
    const partials = events.filter((event) => event.type === 'partial');
    assert.ok(partials.length >= 3, `partials: ${partials.length}`);
    assert.deepEqual(events.at(-1), {
      ...events.at(-1),
      type: 'object',
      object: { age: 22, available: false },
    });
  });

  test("doc.api-generate.json-mode.json: responseFormat json is format 'json'", async () => {
    const result = await harness.complete(
      client(),
      { body: fixtureText(P, 'doc.api-generate.json-mode.json') },
      { prompt: 'colours of the sky as JSON', responseFormat: { type: 'json' } },
    );
    assert.equal(sentBody().format, 'json');
    assert.deepEqual(Object.keys(JSON.parse(result.text)), ['morning', 'noon', 'afternoon', 'evening']);
  });

  test('api-chat.nonstream.captured.deepseek-r1.json: inline <think> stays in the text, not reasoning', async () => {
    const result = await harness.complete(client('deepseek-r1:32b'), {
      body: fixtureText(P, 'api-chat.nonstream.captured.deepseek-r1.json'),
    });
    assert.match(result.text, /^<think>\n\n<\/think>\n\nHello!/);
    assert.equal(result.reasoning, undefined);
    assert.deepEqual(
      result.message.content.map((part) => part.type),
      ['text'],
    );
  });

  test('thinking, text and a tool call in one body come out in that order', async () => {
    const result = await harness.complete(client('qwen3:8b'), {
      body: withMessage('doc.api-chat.nonstream-tools.json', {
        role: 'assistant',
        content: 'Let me check.',
        thinking: 'The user wants the weather.',
        tool_calls: [{ function: { name: 'get_weather', arguments: { city: 'Tokyo' } } }],
      }),
    });
    assert.deepEqual(
      result.message.content.map((part) => part.type),
      ['reasoning', 'text', 'tool-call'],
    );
    assert.equal(result.reasoning, 'The user wants the weather.');
    assert.equal(result.finishReason, 'tool-calls');
  });
});

const weather = {
  name: 'get_weather',
  description: 'Get the weather in a given city',
  parameters: {
    type: 'object',
    properties: { city: { type: 'string', description: 'The city to get the weather for' } },
    required: ['city'],
  },
};

describe('the request body obeys /api/chat', () => {
  async function send(request: CompletionRequest, model = 'llama3.2'): Promise<CompletionResult> {
    return harness.complete(client(model), ok(), request);
  }

  test('a second turn sends the calls back with object arguments and ids, each result with tool_name and tool_call_id', async () => {
    const first = await harness.complete(client(), {
      body: fixtureText(P, 'doc.api-chat.nonstream-tools.json'),
    });
    const call = first.toolCalls[0]!;
    const messages: ChatMessage[] = [
      { role: 'user', content: 'what is the weather in tokyo?' },
      first.message,
      { role: 'tool', toolCallId: call.id, content: '11 degrees celsius' },
    ];
    await send({ messages, tools: [weather] });
    const wire = sentBody().messages as unknown[];
    assert.deepEqual(wire.slice(1), [
      {
        role: 'assistant',
        content: '',
        tool_calls: [{ id: call.id, function: { name: 'get_weather', arguments: { city: 'Tokyo' } } }],
      },
      { role: 'tool', content: '11 degrees celsius', tool_name: 'get_weather', tool_call_id: call.id },
    ]);
  });

  test('our own thinking goes back as `thinking`; another provider’s reasoning is not sent, and that is said', async () => {
    const result = await send({
      messages: [
        { role: 'user', content: 'hi' },
        {
          role: 'assistant',
          content: [
            { type: 'reasoning', text: 'Greet back.' },
            {
              type: 'reasoning',
              text: 'Claude thought this.',
              providerMetadata: { anthropic: { signature: 'sig' } },
            },
            { type: 'text', text: 'Hello!', providerMetadata: { gemini: { thoughtSignature: 'abc' } } },
          ],
        },
        { role: 'user', content: 'and now?' },
      ],
    });
    assert.deepEqual((sentBody().messages as unknown[])[1], {
      role: 'assistant',
      content: 'Hello!',
      thinking: 'Greet back.',
    });
    assert.deepEqual(
      result.warnings?.map((warning) => warning.code),
      ['metadata-dropped'],
    );
  });

  test('tool-call arguments that are not a JSON object fail before sending (Ollama takes an object)', async () => {
    const before = harness.server.requests.length;
    const error = await failure(
      client().complete({
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: [{ type: 'tool-call', id: 'call_1', name: 'f', arguments: '{"cut' }],
          },
          { role: 'tool', toolCallId: 'call_1', content: 'r' },
        ],
      }),
    );
    assert.ok(error instanceof LLMBadRequestError, String(error));
    assert.match(error.message, /messages\[1\]\.content\[0\]\.arguments.*call_1.*JSON object/);
    assert.equal(harness.server.requests.length, before, 'nothing was sent');
  });

  test('images go as raw base64 in `images`, text parts one per line; a URL is downloaded first', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(24)]);
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(png);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cat.png`;
    try {
      await send({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Describe' },
              { type: 'image', image: png },
              { type: 'text', text: 'and this one' },
              { type: 'image', image: url },
            ],
          },
        ],
      });
    } finally {
      server.close();
    }
    assert.deepEqual((sentBody().messages as unknown[])[0], {
      role: 'user',
      content: 'Describe\nand this one',
      images: [png.toString('base64'), png.toString('base64')],
    });
  });

  test('files fail before sending, naming provider, model and feature', async () => {
    const before = harness.server.requests.length;
    const error = await failure(
      client().complete({
        messages: [
          {
            role: 'user',
            content: [{ type: 'file', data: Buffer.from('%PDF-1.4'), mediaType: 'application/pdf' }],
          },
        ],
      }),
    );
    assert.ok(error instanceof LLMUnsupportedError, String(error));
    assert.match(error.message, /^ollama model llama3\.2 does not support application\/pdf files/);
    assert.equal(harness.server.requests.length, before);
  });

  test("toolChoice 'required' and a named tool fail before sending; Ollama has no tool_choice", async () => {
    const before = harness.server.requests.length;
    for (const toolChoice of ['required', { type: 'tool', name: 'get_weather' }] as const) {
      const error = await failure(client().complete({ prompt: 'x', tools: [weather], toolChoice }));
      assert.ok(error instanceof LLMUnsupportedError, String(error));
      assert.match(error.message, /^ollama model llama3\.2 does not support .*tool_choice/);
    }
    assert.equal(harness.server.requests.length, before);
  });

  test("toolChoice 'auto' sends the tools; 'none' leaves them out, said when the history has calls; parallelToolCalls false is said", async () => {
    await send({ prompt: 'x', tools: [weather], toolChoice: 'auto' });
    assert.equal((sentBody().tools as unknown[]).length, 1);
    const plain = await send({ prompt: 'x', tools: [weather], toolChoice: 'none' });
    assert.equal(sentBody().tools, undefined);
    assert.equal(plain.warnings, undefined);
    const history = await send({
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: [{ type: 'tool-call', id: 'c1', name: 'get_weather', arguments: '{}' }],
        },
        { role: 'tool', toolCallId: 'c1', content: 'sunny' },
      ],
      tools: [weather],
      toolChoice: 'none',
      parallelToolCalls: false,
    });
    assert.equal(sentBody().tools, undefined);
    assert.deepEqual(
      history.warnings?.map((warning) => warning.code),
      ['setting-ignored', 'setting-changed'],
    );
  });

  test('a zod tool schema: what Ollama would drop is said on the result; constraints reach the description', async () => {
    const result = await send({
      prompt: 'x',
      tools: [
        {
          name: 'forecast',
          parameters: z.object({ city: z.string(), days: z.number().int().min(1).max(5) }),
        },
      ],
    });
    const [tool] = sentBody().tools as Array<{
      function: { parameters: { properties: Record<string, unknown> } };
    }>;
    assert.match(
      (tool!.function.parameters.properties.days as { description: string }).description,
      /minimum 1, maximum 5/,
    );
    assert.deepEqual(
      result.warnings?.map((warning) => warning.message),
      [
        "tool forecast: `minimum` at $.properties.days written into the description (Ollama's tool schema has no `minimum`; the arguments are still validated against it)",
        "tool forecast: `maximum` at $.properties.days written into the description (Ollama's tool schema has no `maximum`; the arguments are still validated against it)",
      ],
    );
  });

  test('reasoning: think false for none, true elsewhere (a level said), levels for gpt-oss; no budget', async () => {
    const cases: Array<[string, CompletionRequest['reasoning'], unknown, string[]]> = [
      ['qwen3:8b', { effort: 'none' }, false, []],
      ['qwen3:8b', { effort: 'medium' }, true, []],
      ['qwen3:8b', { effort: 'high' }, true, ['setting-changed']],
      ['qwen3:8b', {}, true, []],
      ['qwen3:8b', { budgetTokens: 1024 }, true, ['setting-ignored']],
      ['gpt-oss:20b', { effort: 'high' }, 'high', []],
      ['gpt-oss:20b', { effort: 'minimal' }, 'low', ['setting-changed']],
      ['gpt-oss:20b', { effort: 'none' }, 'low', ['setting-changed']],
    ];
    for (const [model, reasoning, think, codes] of cases) {
      const result = await send({ prompt: 'x', reasoning }, model);
      assert.deepEqual(sentBody().think, think, `${model} ${JSON.stringify(reasoning)}`);
      assert.deepEqual(result.warnings?.map((warning) => warning.code) ?? [], codes);
    }
    await send({ prompt: 'x' });
    assert.equal(sentBody().think, undefined, "no reasoning asked: the server's default");
  });

  test('provider options are keyed by provider and never overwrite what the request defines', async () => {
    await send({ prompt: 'x', providerOptions: { ollama: { keep_alive: -1 }, anthropic: { top_k: 3 } } });
    assert.equal(sentBody().keep_alive, -1);
    assert.equal(sentBody().top_k, undefined, "another provider's options are not sent");
    const conflicts: Array<[CompletionRequest, RegExp]> = [
      [{ prompt: 'x', providerOptions: { ollama: { format: 'json' } } }, /responseFormat/],
      [{ prompt: 'x', providerOptions: { ollama: { think: true } } }, /reasoning/],
      [{ prompt: 'x', providerOptions: { ollama: { tools: [] } } }, /`tools`/],
      [{ prompt: 'x', providerOptions: { ollama: { messages: [] } } }, /`messages`/],
      [
        { prompt: 'x', temperature: 0.2, providerOptions: { ollama: { options: { temperature: 1 } } } },
        /temperature/,
      ],
    ];
    for (const [request, message] of conflicts) {
      const error = await failure(client().complete(request));
      assert.ok(error instanceof LLMBadRequestError, JSON.stringify(request.providerOptions));
      assert.match(error.message, message);
    }
  });

  test('a user name cannot be sent, and that is said', async () => {
    const result = await send({ messages: [{ role: 'user', content: 'hi', name: 'ada' }] });
    assert.deepEqual((sentBody().messages as unknown[])[0], { role: 'user', content: 'hi' });
    assert.deepEqual(
      result.warnings?.map((warning) => warning.code),
      ['setting-ignored'],
    );
  });
});

describe('capabilities and counts', () => {
  test('native structured output on local models, none on cloud ones; no forced tool; no URLs', () => {
    const llm = client();
    assert.deepEqual(llm.capabilities('llama3.2'), {
      structuredOutput: true,
      forcedToolChoice: false,
      forcedToolChoiceWithReasoning: false,
      imageUrls: false,
      fileUrls: false,
    });
    assert.equal(llm.capabilities('gpt-oss:120b-cloud').structuredOutput, false);
  });

  test('generateObject in tool mode fails clearly: Ollama cannot force a tool', async () => {
    const error = await failure(
      client().generateObject({ schema: z.object({ a: z.string() }), prompt: 'x', mode: 'tool' }),
    );
    assert.ok(error instanceof LLMUnsupportedError, String(error));
    assert.match(error.message, /ollama model llama3\.2 cannot do a forced tool call/);
  });

  test('a request with tools and an image is counted as more than its text, and as an estimate', async () => {
    const llm = client();
    const text = await llm.countRequestTokens({ prompt: 'what is the weather in tokyo?' });
    const more = await llm.countRequestTokens({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is the weather in tokyo?' },
            { type: 'image', image: Buffer.from('89504e470d0a1a0a', 'hex') },
          ],
        },
      ],
      tools: [weather],
    });
    await llm.close();
    assert.deepEqual([text.exact, more.exact, more.source], [false, false, 'estimate']);
    assert.ok(more.inputTokens > text.inputTokens + 576, `${more.inputTokens} vs ${text.inputTokens}`);
  });
});
