/**
 * Whole conversations on the Anthropic wire, from the recorded payloads: the recorded tool exchange rebuilt
 * from `result.message` plus a tool message sends exactly the body the Python SDK sent; the broken history
 * of the recorded 400 is refused before sending; tool, thinking, refusal and structured-output payloads are
 * read into messages, parts and typed outcomes, whole and in 5-byte chunks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import { LLMBadRequestError, LLMOutputTruncatedError, LLMRefusalError } from '../../spec/errors.ts';
import type { ChatMessage, CompletionRequest, StreamEvent } from '../../spec/types.ts';
import { type RecordedExchange, replyFromRecorded } from '../../test-support/exchanges.ts';
import { fixtureJson, fixtureText } from '../../test-support/fixtures.ts';
import { ReplayHarness, type StreamOutcome } from '../../test-support/replay-harness.ts';
import { startReplayServer } from '../../test-support/replay-server.ts';

const P = 'anthropic';
const KEY = 'test-anthropic-conversation-key';
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const client = (baseURL = harness.url, model = 'claude-sonnet-4-5'): LLMClient =>
  factory.createClient(`anthropic/${model}`, { apiKey: KEY, baseURL, maxRetries: 0 });
const sse = (file: string, chunkSize?: number) => ({
  body: fixtureText(P, file),
  headers: { 'content-type': 'text/event-stream' },
  ...(chunkSize ? { chunkSize } : {}),
});
const sentBody = () => JSON.parse(harness.server.requests.at(-1)!.body) as Record<string, unknown>;

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

type WireTool = { name: string; description?: string; input_schema: Record<string, unknown> };
/** The recorded tools as our request's `tools`. */
const toolsOf = (body: { tools?: WireTool[] }) =>
  (body.tools ?? []).map((tool) => ({
    name: tool.name,
    description: tool.description,
    parameters: tool.input_schema,
  }));

async function streamed(c: LLMClient, request: CompletionRequest): Promise<StreamOutcome> {
  const events: StreamEvent[] = [];
  for await (const event of c.stream(request)) events.push(event);
  const finish = events.at(-1);
  assert.equal(finish?.type, 'finish');
  const text = events.map((event) => (event.type === 'text-delta' ? event.text : '')).join('');
  return { text, events, finish: finish as StreamOutcome['finish'] };
}

describe('the recorded tool exchange, rebuilt from result.message', () => {
  for (const chunkSize of [undefined, 5]) {
    test(`exchange.stream.tool_use-then-final.json: turn 2 sends the recorded body${chunkSize ? ' (5-byte chunks)' : ''}`, async () => {
      const exchanges = fixtureJson<RecordedExchange[]>(P, 'exchange.stream.tool_use-then-final.json');
      const server = await startReplayServer(
        exchanges.map((exchange) => ({
          ...replyFromRecorded(exchange.response),
          ...(chunkSize ? { chunkSize } : {}),
        })),
      );
      const c = client(server.url, 'claude-haiku-4-5');
      const [first, second] = exchanges.map((exchange) => exchange.request.body as Record<string, unknown>);
      const tools = toolsOf(first as { tools: WireTool[] });
      const question = (first!.messages as ChatMessage[])[0]!;
      const turn1 = await streamed(c, { messages: [question], tools, maxTokens: 1024 });
      assert.deepEqual(JSON.parse(server.requests[0]!.body), first, 'turn 1 is what the SDK sent');
      assert.equal(turn1.finish.finishReason, 'tool-calls');
      const call = turn1.events.find((event) => event.type === 'tool-call');
      assert.deepEqual(call, {
        type: 'tool-call',
        index: 0,
        id: 'toolu_018acGYLtfR52q9yDbWaEdQZ',
        name: 'get_weather',
        arguments: '{"location": "San Francisco, CA", "units": "f"}',
      });

      const recordedResult = (second!.messages as Array<{ content: Array<{ content: string }> }>)[2]!
        .content[0]!;
      const turn2 = await streamed(c, {
        messages: [
          question,
          turn1.finish.message,
          { role: 'tool', toolCallId: call!.id, content: recordedResult.content },
        ],
        tools,
        maxTokens: 1024,
      });
      await c.close();
      await server.close();
      // The whole body, `caller` included, equals the recorded one. What differs is outside it: the SDK's
      // own headers (x-stainless-*, its user-agent) and its `?beta=true` query, which we do not send; and
      // key order inside objects (the SDK sorts a replayed block's keys), which JSON does not give meaning.
      assert.deepEqual(JSON.parse(server.requests[1]!.body), second);
      assert.equal(server.requests[1]!.url, '/v1/messages');
      assert.equal(
        server.requests[1]!.headers['anthropic-version'],
        exchanges[1]!.request.headers!['anthropic-version'],
      );
      assert.match(turn2.text, /^The weather in San Francisco, CA is currently:/);
      assert.equal(turn2.finish.finishReason, 'stop');
    });
  }

  test('exchange.200-then-400.invalid_request_error.json: the broken history is refused before sending; the fixed one is sent', async () => {
    const exchanges = fixtureJson<RecordedExchange[]>(P, 'exchange.200-then-400.invalid_request_error.json');
    const [first, broken] = exchanges.map((exchange) => exchange.request.body as Record<string, unknown>);
    const tools = toolsOf(first as { tools: WireTool[] });
    const question = (first!.messages as ChatMessage[])[0]!;
    const turn1 = await harness.complete(client(), replyFromRecorded(exchanges[0]!.response), {
      messages: [question],
      tools,
      maxTokens: 1024,
    });
    assert.deepEqual(turn1.message.content, [
      {
        type: 'tool-call',
        id: 'toolu_01GHndag5wQmbzNihYmV2UBj',
        name: 'get_weather',
        arguments: '{"location":"San Francisco, CA","units":"c"}',
        providerMetadata: { anthropic: { caller: { type: 'direct' } } },
      },
    ]);
    // The recorded second request: the tool result without the assistant turn that made the call.
    const result = (
      broken!.messages as Array<{ content: Array<{ tool_use_id: string; content: string }> }>
    )[1]!.content[0]!;
    const before = harness.server.requests.length;
    const error = await client()
      .complete({
        messages: [question, { role: 'tool', toolCallId: result.tool_use_id, content: result.content }],
        tools,
      })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof LLMBadRequestError, String(error));
    assert.match(error.message, /`messages\[1\]` answers tool call "toolu_01GHndag5wQmbzNihYmV2UBj"/);
    assert.equal(harness.server.requests.length, before, 'nothing was sent');

    await harness.complete(
      client(),
      { body: fixtureText(P, 'messages.nonstream.text.claude-sonnet-4-5.json') },
      {
        messages: [
          question,
          turn1.message,
          { role: 'tool', toolCallId: result.tool_use_id, content: result.content },
        ],
        tools,
        maxTokens: 1024,
      },
    );
    assert.deepEqual(sentBody().messages, [
      broken!.messages && (broken!.messages as unknown[])[0],
      {
        role: 'assistant',
        content: [
          {
            type: 'tool_use',
            id: 'toolu_01GHndag5wQmbzNihYmV2UBj',
            name: 'get_weather',
            input: { location: 'San Francisco, CA', units: 'c' },
            caller: { type: 'direct' },
          },
        ],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: result.tool_use_id, content: result.content }],
      },
    ]);
  });
});

describe('recorded tool calls in the new shapes, whole and streamed', () => {
  const json = <T>(file: string) => fixtureJson<T>(P, file);
  type Content = Array<{ type: string; id?: string; name?: string; input?: unknown; text?: string }>;

  for (const [whole, stream] of [
    [
      'messages.nonstream.tool_use.claude-haiku-4-5.json',
      'messages.stream.tool_use.input_json_delta.claude-haiku-4-5.reframed.sse',
    ],
    [
      'messages.nonstream.text-then-tool_use-no-args.json',
      'messages.stream.text-then-tool_use-no-args.reframed.sse',
    ],
  ] as const) {
    test(`${whole}: every block a part, in order; the call's arguments are its input as JSON`, async () => {
      const content = json<{ content: Content }>(whole).content;
      const result = await harness.complete(client(), { body: fixtureText(P, whole) });
      assert.deepEqual(
        result.message.content,
        content.map((block) =>
          block.type === 'text'
            ? { type: 'text', text: block.text }
            : { type: 'tool-call', id: block.id, name: block.name, arguments: JSON.stringify(block.input) },
        ),
      );
      assert.equal(result.finishReason, 'tool-calls');
    });

    for (const chunkSize of [undefined, 5]) {
      test(`${stream}${chunkSize ? ' in 5-byte chunks' : ''}: one tool-call at the block's stop, its deltas joined`, async () => {
        const { events, finish } = await harness.stream(client(), sse(stream, chunkSize));
        const calls = events.filter((event) => event.type === 'tool-call');
        assert.equal(calls.length, 1);
        const call = calls[0]!;
        const deltas = events.filter(
          (event) => event.type === 'tool-call-delta' && event.index === call.index,
        );
        assert.equal(
          deltas.map((delta) => (delta.type === 'tool-call-delta' ? delta.argumentsDelta : '')).join(''),
          call.arguments,
        );
        assert.ok(events.indexOf(call) > events.indexOf(deltas.at(-1)!), 'after every delta of the call');
        assert.equal(call.index, 0, 'calls are numbered 0, 1, … whatever their block index');
        const [wholeCall] = json<{ content: Content }>(whole).content.filter(
          (block) => block.type === 'tool_use',
        );
        // The streamed and whole recordings are separate calls of the same tool: the same shape.
        assert.deepEqual(Object.keys(JSON.parse(call.arguments)), Object.keys(wholeCall!.input ?? {}));
        if (stream.includes('no-args')) assert.equal(call.arguments, '{}');
        assert.equal(finish.finishReason, 'tool-calls');
        assert.deepEqual(finish.message.content.at(-1), {
          type: 'tool-call',
          id: call.id,
          name: call.name,
          arguments: call.arguments,
        });
      });
    }
  }

  test('messages.stream.tool_use.raw.sse: `caller` rides on the call and goes back with it', async () => {
    const { finish } = await harness.stream(client(), sse('messages.stream.tool_use.raw.sse', 5));
    const call = finish.message.content.find((part) => part.type === 'tool-call')!;
    assert.deepEqual(call.providerMetadata, { anthropic: { caller: { type: 'direct' } } });
    assert.equal(finish.message.content[0]!.type, 'text');
  });

  test('messages.stream.tool_use.max_tokens-truncated-json.raw.sse: the cut call is kept, with finish length and a warning', async () => {
    const { events, finish } = await harness.stream(
      client(),
      sse('messages.stream.tool_use.max_tokens-truncated-json.raw.sse'),
    );
    const call = events.find((event) => event.type === 'tool-call');
    assert.ok(call, 'the call is still reported once the message stopped');
    assert.throws(() => JSON.parse(call.arguments));
    assert.equal(finish.finishReason, 'length');
    assert.deepEqual(
      finish.warnings?.map((warning) => warning.code),
      ['tool-arguments-incomplete'],
    );
    const llm = client();
    harness.next = sse('messages.stream.tool_use.max_tokens-truncated-json.raw.sse');
    const error = await (async () => {
      for await (const _ of llm.streamObject({
        schema: z.object({ filename: z.string() }),
        name: 'make_file',
        mode: 'tool',
        prompt: 'x',
      })) {
        /* drain */
      }
    })().catch((caught: unknown) => caught);
    await llm.close();
    assert.ok(error instanceof LLMOutputTruncatedError, String(error));
  });

  test('exchange.nonstream.parallel-tool_use.json: a long text then a call; the follow-up turns are read too', async () => {
    const exchanges = fixtureJson<RecordedExchange[]>(P, 'exchange.nonstream.parallel-tool_use.json');
    const first = await harness.complete(client(), replyFromRecorded(exchanges[0]!.response));
    assert.deepEqual(
      first.message.content.map((part) => part.type),
      ['text', 'tool-call'],
    );
    assert.match(first.text, /^# The Wonderful World of Companion Animals/);
    assert.equal(first.toolCalls[0]!.name, 'submit_analysis');
    assert.equal(first.finishReason, 'tool-calls');
    const second = await harness.complete(client(), replyFromRecorded(exchanges[1]!.response));
    assert.match(second.text, /^<summary>/);
    assert.deepEqual(second.toolCalls, []);
  });
});

describe('recorded thinking, refusals and structured output', () => {
  for (const chunkSize of [undefined, 5]) {
    test(`doc.messages.stream.extended-thinking.sse${chunkSize ? ' in 5-byte chunks' : ''}: reasoning with its signature, replayed unchanged`, async () => {
      const { events, finish, text } = await harness.stream(
        client(),
        sse('doc.messages.stream.extended-thinking.sse', chunkSize),
      );
      const thinking = events.map((event) => (event.type === 'reasoning-delta' ? event.text : '')).join('');
      assert.match(thinking, /^Let me solve this step by step:\n\n1\. First break down 27 \* 453/);
      assert.equal(text, '27 * 453 = 12,231');
      // The signature as its own event where the stream sent it: before the text block began.
      const signed = events.findIndex((event) => event.type === 'reasoning-delta' && event.signature);
      assert.deepEqual(events[signed], {
        type: 'reasoning-delta',
        text: '',
        signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...',
      });
      assert.ok(signed < events.findIndex((event) => event.type === 'text-delta'));
      assert.deepEqual(finish.message.content, [
        {
          type: 'reasoning',
          text: thinking,
          providerMetadata: {
            anthropic: { signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...' },
          },
        },
        { type: 'text', text },
      ]);
      await harness.complete(
        client(),
        { body: fixtureText(P, 'messages.nonstream.text.claude-sonnet-4-5.json') },
        {
          messages: [
            { role: 'user', content: 'What is 27 * 453?' },
            finish.message,
            { role: 'user', content: 'Thanks' },
          ],
          reasoning: { budgetTokens: 2000 },
        },
      );
      assert.deepEqual((sentBody().messages as unknown[])[1], {
        role: 'assistant',
        content: [
          {
            type: 'thinking',
            thinking,
            signature: 'EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds...',
          },
          { type: 'text', text },
        ],
      });
    });
  }

  for (const [file, streamedFile] of [
    ['messages.nonstream.refusal.json', 'messages.stream.refusal.reframed.sse'],
  ] as const) {
    test(`${file} and ${streamedFile}: the API's explanation is the refusal; generateObject throws LLMRefusalError`, async () => {
      const explanation =
        "This request triggered restrictions on violative cyber content and was blocked under Anthropic's Usage Policy.";
      const whole = await harness.complete(client(), { body: fixtureText(P, file) });
      assert.equal(whole.refusal, explanation);
      assert.equal(whole.finishReason, 'content-filter');
      assert.deepEqual(whole.message.content, []);
      const { finish } = await harness.stream(client(), sse(streamedFile, 5));
      assert.equal(finish.refusal, explanation);
      assert.equal(finish.finishReason, 'content-filter');
      const llm = client();
      harness.next = { body: fixtureText(P, file) };
      const error = await llm
        .generateObject({ schema: z.object({ a: z.string() }), prompt: 'x' })
        .catch((caught: unknown) => caught);
      await llm.close();
      assert.ok(error instanceof LLMRefusalError, String(error));
      assert.equal(error.refusal, explanation);
    });
  }

  test('exchange.nonstream.structured-output.json: generateObject sends the recorded body and validates the answer', async () => {
    const [exchange] = fixtureJson<RecordedExchange[]>(P, 'exchange.nonstream.structured-output.json');
    const recorded = exchange!.request.body as {
      messages: Array<{ content: string }>;
      max_tokens: number;
      output_config: { format: { schema: Record<string, unknown> } };
    };
    const llm = client();
    harness.next = replyFromRecorded(exchange!.response);
    const { object, result } = await llm.generateObject({
      schema: recorded.output_config.format.schema,
      prompt: recorded.messages[0]!.content,
      maxTokens: recorded.max_tokens,
    });
    await llm.close();
    assert.deepEqual(sentBody(), recorded, 'native output_config.format, no beta header needed');
    assert.equal(harness.server.requests.at(-1)!.headers['anthropic-beta'], undefined);
    assert.deepEqual(object, { product_name: 'Green Tea', price: 5.5, quantity: 2 });
    assert.equal(result.finishReason, 'stop');
  });

  test('messages.stream.structured-output.padded.raw.sse: an array schema streamed as text, as the SDK asked for it', async () => {
    const [, , exchange] = fixtureJson<RecordedExchange[]>(P, 'exchange.429x2-then-200.messages.stream.json');
    const recorded = exchange!.request.body as {
      messages: Array<{ content: string }>;
      output_config: { format: { schema: Record<string, unknown> } };
    };
    const { text } = await harness.stream(
      client(),
      sse('messages.stream.structured-output.padded.raw.sse', 5),
      {
        prompt: recorded.messages[0]!.content,
        maxTokens: 1024,
        responseFormat: { type: 'json-schema', schema: recorded.output_config.format.schema },
      },
    );
    assert.deepEqual(sentBody(), recorded);
    assert.deepEqual(JSON.parse(text), [12345, 67890]);
  });
});
