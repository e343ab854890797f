/**
 * The emulator's Chat Completions conversations, through our client and through the official `openai`
 * client unchanged: tool calls whose arguments validate, tool results quoted back, structured output that
 * validates, attachments acknowledged, and the real service's refusals of broken tool history.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { z } from 'zod';
import { LLMClientFactory } from '../client/factory.ts';
import { tool } from '../client/tool-loop.ts';
import { validateJsonSchema } from '../schema/validate.ts';
import { type Emulator, startEmulator } from './index.ts';

let emulator: Emulator;
let sdk: OpenAI;
const factory = new LLMClientFactory({ env: {} });
const llm = () =>
  factory.createClient('openai/gpt-4o', { apiKey: 'test-key-not-real', baseURL: `${emulator.url}/v1` });

before(async () => {
  emulator = await startEmulator();
  sdk = new OpenAI({ apiKey: 'test-key-not-real', baseURL: `${emulator.url}/v1`, maxRetries: 0 });
});
after(async () => {
  await factory.close();
  await emulator.close();
});

const weatherParameters = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 5 },
  },
  required: ['city', 'unit'],
  additionalProperties: false,
} as const;

describe('the official openai client, unchanged', () => {
  test('a full tool loop: schema-valid arguments, then text that quotes the result', async () => {
    const tools: OpenAI.ChatCompletionTool[] = [
      { type: 'function', function: { name: 'get_weather', parameters: weatherParameters } },
      { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
    ];
    const messages: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'user', content: 'What is the get_weather and get_time in Oslo?' },
    ];
    const first = await sdk.chat.completions.create({ model: 'gpt-4o', messages, tools });
    const choice = first.choices[0]!;
    assert.equal(choice.finish_reason, 'tool_calls');
    const calls = choice.message.tool_calls!;
    assert.deepEqual(
      calls.map((call) => call.type === 'function' && call.function.name),
      ['get_weather', 'get_time'],
      'both named tools are called, in parallel',
    );
    const weather = calls[0]!;
    assert.ok(weather.type === 'function');
    assert.ok(validateJsonSchema(weatherParameters, JSON.parse(weather.function.arguments)).ok);
    messages.push(choice.message);
    for (const call of calls)
      messages.push({ role: 'tool', tool_call_id: call.id, content: `result of ${call.id}` });
    const second = await sdk.chat.completions.create({ model: 'gpt-4o', messages, tools });
    assert.equal(second.choices[0]!.finish_reason, 'stop');
    assert.match(second.choices[0]!.message.content ?? '', new RegExp(`result of ${calls[1]!.id}`));
  });

  test('a streamed tool call arrives in pieces that join to valid arguments', async () => {
    const stream = await sdk.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'weather please' }],
      tools: [{ type: 'function', function: { name: 'get_weather', parameters: weatherParameters } }],
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      stream: true,
    });
    let args = '';
    let pieces = 0;
    for await (const chunk of stream) {
      const delta = chunk.choices[0]?.delta.tool_calls?.[0]?.function?.arguments;
      if (delta) {
        args += delta;
        pieces++;
      }
    }
    assert.ok(pieces > 2);
    assert.ok(validateJsonSchema(weatherParameters, JSON.parse(args)).ok);
  });

  test('response_format json_schema: the answer validates', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
      required: ['name', 'email'],
      additionalProperties: false,
    };
    const completion = await sdk.chat.completions.create({
      model: 'gpt-4o',
      messages: [{ role: 'user', content: 'A person' }],
      response_format: { type: 'json_schema', json_schema: { name: 'person', schema, strict: true } },
    });
    assert.ok(validateJsonSchema(schema, JSON.parse(completion.choices[0]!.message.content!)).ok);
  });

  test('a tool result without its call, an unanswered call and a non-strict strict schema are 400s', async () => {
    const cases: Array<[OpenAI.ChatCompletionCreateParamsNonStreaming, RegExp]> = [
      [
        { model: 'gpt-4o', messages: [{ role: 'tool', tool_call_id: 'call_1', content: 'x' }] },
        /must be a response to a preceeding message with 'tool_calls'/,
      ],
      [
        {
          model: 'gpt-4o',
          messages: [
            { role: 'user', content: 'x' },
            {
              role: 'assistant',
              content: null,
              tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'f', arguments: '{}' } }],
            },
            { role: 'user', content: 'y' },
          ],
        },
        /did not have response messages: call_1/,
      ],
      [
        {
          model: 'gpt-4o',
          messages: [{ role: 'user', content: 'x' }],
          response_format: {
            type: 'json_schema',
            json_schema: {
              name: 'r',
              strict: true,
              schema: { type: 'object', properties: { a: { type: 'string' } } },
            },
          },
        },
        /'additionalProperties' is required to be supplied and to be false/,
      ],
    ];
    for (const [params, message] of cases) {
      const error = await sdk.chat.completions.create(params).catch((caught: unknown) => caught);
      assert.ok(error instanceof OpenAI.BadRequestError, String(error));
      assert.match(error.message, message);
    }
  });
});

describe('our client against the emulator', () => {
  test('runTools: the model calls the tool, gets the result, answers with it', async () => {
    const seen: unknown[] = [];
    const run = await llm().runTools({
      prompt: 'What is the weather in Oslo?',
      tools: [
        tool({
          name: 'get_weather',
          description: 'Weather for a city',
          parameters: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']).optional() }),
          execute: (args) => {
            seen.push(args);
            return { temperature: 21, city: args.city };
          },
        }),
      ],
    });
    assert.equal(run.steps.length, 2);
    assert.equal(seen.length, 1);
    assert.match(run.text, /temperature\\":21/, 'the tool result is quoted back');
    assert.equal(run.result.finishReason, 'stop');
    assert.equal(run.messages.length, 4, 'user, assistant with the call, tool result, final assistant');
  });

  test('generateObject and streamObject validate against a zod schema, natively', async () => {
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
  });

  test('an image arrives: the reply names its type and size', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(92)]);
    const result = await llm().complete({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', image: png },
          ],
        },
      ],
    });
    assert.match(result.text, /image\/png \(100 bytes\)/);
  });
});
