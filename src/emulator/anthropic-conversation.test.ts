/**
 * The emulator's Messages API conversations, through the official `@anthropic-ai/sdk` unchanged and through
 * our client: tool_use whose input validates, tool results quoted back, `output_config` answers that
 * validate, signed thinking replayed (and an altered one refused), attachments acknowledged, and the real
 * service's 400s — with its recorded texts — for broken tool history and thinking settings.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { jsonSchemaOutputFormat } from '@anthropic-ai/sdk/helpers/json-schema';
import { z } from 'zod';
import { LLMClientFactory } from '../client/factory.ts';
import { tool } from '../client/tool-loop.ts';
import { validateJsonSchema } from '../schema/validate.ts';
import type { RecordedExchange } from '../test-support/exchanges.ts';
import { fixtureJson } from '../test-support/fixtures.ts';
import { type Emulator, startEmulator } from './index.ts';

const KEY = 'test-anthropic-conversation-key';
const MODEL = 'claude-haiku-4-5';
let emulator: Emulator;
let sdk: Anthropic;
const factory = new LLMClientFactory({ env: {} });
const llm = (model = MODEL) =>
  factory.createClient(`anthropic/${model}`, { apiKey: KEY, baseURL: emulator.url });

before(async () => {
  emulator = await startEmulator();
  sdk = new Anthropic({ apiKey: KEY, baseURL: emulator.url, maxRetries: 0 });
});
after(async () => {
  await factory.close();
  await emulator.close();
});

const weatherSchema: Anthropic.Tool.InputSchema = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 5 },
  },
  required: ['city', 'unit'],
};
const tools: Anthropic.Tool[] = [
  { name: 'get_weather', description: 'Weather for a city', input_schema: weatherSchema },
  { name: 'get_time', input_schema: { type: 'object', properties: {} } },
];

describe('the official @anthropic-ai/sdk, unchanged', () => {
  test('a full tool loop: parallel tool_use with valid input, then text that quotes each result', async () => {
    const messages: Anthropic.MessageParam[] = [
      { role: 'user', content: 'What are get_weather and get_time in Oslo?' },
    ];
    const first = await sdk.messages.create({ model: MODEL, max_tokens: 1024, messages, tools });
    assert.equal(first.stop_reason, 'tool_use');
    const uses = first.content.filter((block) => block.type === 'tool_use');
    assert.deepEqual(
      uses.map((block) => block.name),
      ['get_weather', 'get_time'],
    );
    assert.ok(validateJsonSchema(weatherSchema, uses[0]!.input).ok);
    assert.deepEqual(uses[0]!.caller, { type: 'direct' });
    messages.push({ role: 'assistant', content: first.content });
    messages.push({
      role: 'user',
      content: uses.map((block) => ({
        type: 'tool_result' as const,
        tool_use_id: block.id,
        content: `result of ${block.id}`,
      })),
    });
    const second = await sdk.messages.create({ model: MODEL, max_tokens: 1024, messages, tools });
    assert.equal(second.stop_reason, 'end_turn');
    const [text] = second.content;
    assert.ok(text?.type === 'text');
    for (const block of uses)
      assert.match(text.text, new RegExp(`${block.name} returned "result of ${block.id}"`));
  });

  test('a streamed tool call: the SDK assembles input_json_delta into the input', async () => {
    const stream = sdk.messages.stream({
      model: MODEL,
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'weather please' }],
      tools,
      tool_choice: { type: 'tool', name: 'get_weather' },
    });
    const events: string[] = [];
    stream.on('streamEvent', (event) => {
      if (event.type === 'content_block_delta') events.push(event.delta.type);
    });
    const message = await stream.finalMessage();
    const [use] = message.content;
    assert.ok(use?.type === 'tool_use');
    assert.ok(validateJsonSchema(weatherSchema, use.input).ok, JSON.stringify(use.input));
    assert.ok(events.filter((type) => type === 'input_json_delta').length > 2);
  });

  test('structured output through output_config: messages.parse gives the parsed object', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
      required: ['name', 'email'],
      additionalProperties: false,
    } as const;
    const message = await sdk.messages.parse({
      model: MODEL,
      max_tokens: 1024,
      messages: [{ role: 'user', content: 'A person' }],
      output_config: { format: jsonSchemaOutputFormat(schema) },
    });
    assert.ok(validateJsonSchema(schema, message.parsed_output).ok, JSON.stringify(message.parsed_output));
  });

  test('thinking: a signed block comes first; replayed unchanged it is accepted, altered or dropped it is a 400', async () => {
    const request = {
      model: MODEL,
      max_tokens: 4096,
      thinking: { type: 'enabled' as const, budget_tokens: 2048 },
      tools,
    };
    const question: Anthropic.MessageParam = { role: 'user', content: 'Call get_time' };
    const first = await sdk.messages.create({ ...request, messages: [question] });
    const [thinking, use] = first.content;
    assert.ok(thinking?.type === 'thinking' && thinking.signature.length > 0);
    assert.ok(use?.type === 'tool_use');
    const followUp = (content: Anthropic.ContentBlockParam[]): Anthropic.MessageParam[] => [
      question,
      { role: 'assistant', content },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'noon' }] },
    ];
    const accepted = await sdk.messages.create({ ...request, messages: followUp(first.content) });
    assert.equal(accepted.stop_reason, 'end_turn');
    const altered = { ...thinking, thinking: `${thinking.thinking} (edited)` };
    await assert.rejects(
      sdk.messages.create({ ...request, messages: followUp([altered, use]) }),
      (error: unknown) =>
        error instanceof Anthropic.BadRequestError &&
        error.message.includes('messages.1.content.0: Invalid `signature` in `thinking` block'),
    );
    await assert.rejects(
      sdk.messages.create({ ...request, messages: followUp([use]) }),
      (error: unknown) =>
        error instanceof Anthropic.BadRequestError &&
        error.message.includes(
          'messages.1.content.0.type: Expected `thinking` or `redacted_thinking`, but found `tool_use`. When `thinking` is enabled, a final `assistant` message must start with a thinking block',
        ),
    );
  });

  test('the recorded broken history gets the recorded 400, word for word', async () => {
    const [, exchange] = fixtureJson<RecordedExchange[]>(
      'anthropic',
      'exchange.200-then-400.invalid_request_error.json',
    );
    const recorded = exchange!.response.body as { error: { message: string } };
    await assert.rejects(
      sdk.messages.create(exchange!.request.body as Anthropic.MessageCreateParamsNonStreaming),
      (error: unknown) =>
        error instanceof Anthropic.BadRequestError &&
        error.status === 400 &&
        error.message.includes(recorded.error.message),
    );
  });

  test("the service's other rules, as 400 invalid_request_errors with its texts", async () => {
    const call: Anthropic.MessageParam = {
      role: 'assistant',
      content: [{ type: 'tool_use', id: 'toolu_1', name: 'get_time', input: {} }],
    };
    const ask: Anthropic.MessageParam = { role: 'user', content: 'x' };
    const cases: Array<[Partial<Anthropic.MessageCreateParamsNonStreaming>, string]> = [
      [
        { messages: [ask, call, { role: 'user', content: 'never mind' }], tools },
        'messages.1: `tool_use` ids were found without `tool_result` blocks immediately after: toolu_1. Each `tool_use` block must have a corresponding `tool_result` block in the next message.',
      ],
      [
        {
          messages: [
            ask,
            call,
            { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'noon' }] },
          ],
        },
        'Requests which include `tool_use` or `tool_result` blocks must define tools.',
      ],
      [
        {
          messages: [ask],
          tools,
          tool_choice: { type: 'any' },
          thinking: { type: 'enabled', budget_tokens: 2048 },
        },
        'Thinking may not be enabled when tool_choice forces tool use.',
      ],
      [
        // SDK 1.14 no longer types `temperature` (Claude 5.5 refuses sampling fields); the API still takes it.
        { messages: [ask], thinking: { type: 'adaptive' }, ...({ temperature: 0.5 } as object) },
        '`temperature` may only be set to 1 when thinking is enabled or in adaptive mode.',
      ],
      [
        { messages: [ask], thinking: { type: 'enabled', budget_tokens: 512 } },
        'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024',
      ],
      [
        { messages: [ask], max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 2048 } },
        '`max_tokens` must be greater than `thinking.budget_tokens`.',
      ],
      [
        { model: 'claude-opus-4-7', messages: [ask], thinking: { type: 'enabled', budget_tokens: 2048 } },
        '"thinking.type.enabled" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.',
      ],
    ];
    for (const [params, message] of cases) {
      const error = await sdk.messages
        .create({ model: MODEL, max_tokens: 4096, messages: [], ...params })
        .catch((caught: unknown) => caught);
      assert.ok(error instanceof Anthropic.BadRequestError, `${message}: ${String(error)}`);
      assert.equal((error.error as { error: { type: string; message: string } }).error.message, message);
      assert.equal((error.error as { error: { type: string } }).error.type, 'invalid_request_error');
    }
  });
});

describe('our client against the emulator', () => {
  const getWeather = tool({
    name: 'get_weather',
    description: 'Weather for a city',
    parameters: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']).optional() }),
    execute: (args) => ({ temperature: 21, city: args.city }),
  });

  test('runTools: the call, its result sent back, the answer quoting it', async () => {
    const run = await llm().runTools({ prompt: 'What is the weather in Oslo?', tools: [getWeather] });
    assert.equal(run.steps.length, 2);
    assert.match(run.text, /get_weather returned .*temperature\\":21/);
    assert.equal(run.result.finishReason, 'stop');
  });

  test('runTools with thinking: the signed thinking rides back on result.message, and the emulator accepts it', async () => {
    const run = await llm().runTools({
      prompt: 'What is the weather in Oslo?',
      tools: [getWeather],
      reasoning: { budgetTokens: 2048 },
    });
    assert.equal(run.steps.length, 2);
    const first = run.steps[0]!.result;
    assert.equal(first.message.content[0]!.type, 'reasoning');
    assert.ok(first.message.content[0]!.providerMetadata?.anthropic?.signature, 'the signature is kept');
    assert.match(first.reasoning ?? '', /The user asks/);
    assert.match(run.text, /temperature\\":21/);
  });

  test('generateObject and streamObject natively; a model without output_config through a forced tool', async () => {
    const Person = z.object({
      name: z.string(),
      age: z.number().int().min(0).max(150),
      tags: z.array(z.string()),
    });
    const { object } = await llm().generateObject({ schema: Person, prompt: 'Invent a person' });
    assert.equal(Person.safeParse(object).success, true);
    const events = [];
    for await (const event of llm().streamObject({ schema: Person, prompt: 'Invent a person' }))
      events.push(event);
    const final = events.at(-1)!;
    assert.equal(final.type, 'object');
    assert.ok(events.filter((event) => event.type === 'partial').length > 3);
    assert.deepEqual(final.object, object, 'the same conversation gets the same answer, streamed or not');
    const viaTool = await llm('claude-3-5-haiku-latest').generateObject({
      schema: Person,
      prompt: 'Invent a person',
    });
    assert.equal(Person.safeParse(viaTool.object).success, true);
    assert.deepEqual((emulator.requests.at(-1)!.body as { tool_choice: unknown }).tool_choice, {
      type: 'tool',
      name: 'json',
      disable_parallel_tool_use: true,
    });
  });

  test('an image and a PDF arrive: the reply names their types and sizes, whole and streamed', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(92)]);
    const pdf = Buffer.from('%PDF-1.4 twenty bytes');
    const request = {
      messages: [
        {
          role: 'user' as const,
          content: [
            { type: 'text' as const, text: 'What are these?' },
            { type: 'image' as const, image: png },
            { type: 'file' as const, data: pdf, mediaType: 'application/pdf' },
          ],
        },
      ],
    };
    const result = await llm().complete(request);
    assert.match(result.text, /image\/png \(100 bytes\), application\/pdf \(21 bytes\)/);
    let streamed = '';
    for await (const event of llm().stream(request)) if (event.type === 'text-delta') streamed += event.text;
    assert.equal(streamed, result.text);
  });
});
