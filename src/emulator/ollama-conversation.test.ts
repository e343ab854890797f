/**
 * The emulator's Ollama conversations, through the official `ollama` client unchanged and through ours:
 * tool calls with object arguments that validate, tool results quoted back, `format` answers that validate,
 * thinking, images acknowledged with their byte counts, and the real server's refusals (and its leniency).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Message, Ollama } from 'ollama';
import { z } from 'zod';
import { LLMClientFactory } from '../client/factory.ts';
import { tool } from '../client/tool-loop.ts';
import { validateJsonSchema } from '../schema/validate.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import { fixtureJson } from '../test-support/fixtures.ts';
import { type Emulator, startEmulator } from './index.ts';

let emulator: Emulator;
let sdk: Ollama;
const factory = new LLMClientFactory({ env: {} });
const llm = (model = 'llama3.2') =>
  factory.createClient(`ollama/${model}`, { baseURL: emulator.url, maxRetries: 0 });

before(async () => {
  emulator = await startEmulator();
  sdk = new Ollama({ host: emulator.url });
});
after(async () => {
  await factory.close();
  await emulator.close();
});

const weatherParameters = {
  type: 'object',
  properties: {
    city: { type: 'string', description: 'The city' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
  },
  required: ['city', 'unit'],
};
const tools = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'Weather', parameters: weatherParameters },
  },
  { type: 'function', function: { name: 'get_time', parameters: { type: 'object', properties: {} } } },
];
const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(92)]);
const keys = (value: unknown) => Object.keys(value as object).sort();

/** The status and message of the official client's ResponseError. */
async function refusal(call: Promise<unknown>): Promise<{ status: number; message: string }> {
  const error = (await call.then(
    () => assert.fail('expected the call to fail'),
    (caught: unknown) => caught,
  )) as { status_code?: number; message: string };
  return { status: error.status_code ?? 0, message: error.message };
}

describe('the official ollama client, unchanged', () => {
  test('a full tool loop: object arguments that validate, then text that quotes the results', async () => {
    const messages: Message[] = [{ role: 'user', content: 'What is the get_weather and get_time in Oslo?' }];
    const first = await sdk.chat({ model: 'llama3.2', messages, tools });
    assert.equal(first.done_reason, 'stop', 'Ollama says stop, tool calls or not');
    const calls = first.message.tool_calls ?? [];
    assert.deepEqual(
      calls.map((call) => call.function.name),
      ['get_weather', 'get_time'],
      'both named tools are called',
    );
    assert.equal(typeof calls[0]!.function.arguments, 'object', 'arguments are an object, not JSON text');
    assert.ok(validateJsonSchema(weatherParameters, calls[0]!.function.arguments).ok);
    assert.match((calls[0] as { id?: string }).id ?? '', /^call_[0-9a-z]{8}$/);
    messages.push(first.message);
    messages.push({ role: 'tool', tool_name: 'get_weather', content: '11 degrees' });
    messages.push({ role: 'tool', tool_name: 'get_time', content: '14:05' });
    const second = await sdk.chat({ model: 'llama3.2', messages, tools });
    assert.equal(second.message.tool_calls, undefined);
    assert.match(second.message.content, /get_weather returned "11 degrees"; get_time returned "14:05"/);
  });

  test('a streamed tool call arrives whole on one line, in the documented shape', async () => {
    const lines = [];
    for await (const part of await sdk.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: tools.slice(0, 1),
      stream: true,
    })) {
      lines.push(part);
    }
    const withCalls = lines.filter((line) => (line.message.tool_calls ?? []).length > 0);
    assert.equal(withCalls.length, 1);
    assert.equal(withCalls[0]!.done, false);
    assert.ok(
      validateJsonSchema(weatherParameters, withCalls[0]!.message.tool_calls![0]!.function.arguments).ok,
    );
    assert.equal(lines.at(-1)!.done_reason, 'stop');
    const whole = await sdk.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'weather?' }],
      tools: tools.slice(0, 1),
    });
    const documented = fixtureJson<Record<string, { tool_calls: Array<{ function: object }> }>>(
      'ollama',
      'doc.api-chat.nonstream-tools.json',
    );
    assert.deepEqual(keys(whole), keys(documented));
    for (const key of keys(documented.message!.tool_calls[0]!.function)) {
      assert.ok(key in whole.message.tool_calls![0]!.function, `function.${key}`);
    }
  });

  test('format with a schema: the content is JSON that validates; format json: a JSON object', async () => {
    const schema = {
      type: 'object',
      properties: { age: { type: 'integer', minimum: 0 }, available: { type: 'boolean' } },
      required: ['age', 'available'],
    };
    const response = await sdk.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'Ollama is 22' }],
      format: schema,
    });
    assert.ok(validateJsonSchema(schema, JSON.parse(response.message.content)).ok);
    const json = await sdk.chat({
      model: 'llama3.2',
      messages: [{ role: 'user', content: 'any JSON' }],
      format: 'json',
    });
    assert.equal(typeof JSON.parse(json.message.content), 'object');
  });

  test('think: thinking comes first, whole or streamed; a thinking model thinks unless told not to', async () => {
    const question: Message[] = [{ role: 'user', content: 'Why is the sky blue?' }];
    const thought = await sdk.chat({ model: 'qwen3:8b', messages: question, think: true });
    assert.match(thought.message.thinking ?? '', /The user asks/);
    assert.match(thought.message.content, /^You asked/);
    let thinking = '';
    for await (const part of await sdk.chat({
      model: 'qwen3:8b',
      messages: question,
      think: true,
      stream: true,
    })) {
      thinking += part.message.thinking ?? '';
    }
    assert.equal(thinking, thought.message.thinking);
    assert.ok((await sdk.chat({ model: 'qwen3:8b', messages: question })).message.thinking, 'on by default');
    assert.equal(
      (await sdk.chat({ model: 'qwen3:8b', messages: question, think: false })).message.thinking,
      undefined,
    );
    assert.equal((await sdk.chat({ model: 'llama3.2', messages: question })).message.thinking, undefined);
  });

  test('an image is acknowledged with its type and byte count', async () => {
    const response = await sdk.chat({
      model: 'gemma3:4b',
      messages: [{ role: 'user', content: 'What is this?', images: [new Uint8Array(png)] }],
    });
    assert.match(response.message.content, /^Received one attachment: image\/png \(100 bytes\)\./);
  });

  test("the real server's refusals: think or tools the model lacks, arguments that are not an object, images that are not base64, a format it cannot read", async () => {
    const question: Message[] = [{ role: 'user', content: 'hi' }];
    assert.deepEqual(await refusal(sdk.chat({ model: 'llama3.2', messages: question, think: true })), {
      status: 400,
      message: '"llama3.2" does not support thinking',
    });
    assert.deepEqual(await refusal(sdk.chat({ model: 'gemma3:4b', messages: question, tools })), {
      status: 400,
      message: 'registry.ollama.ai/library/gemma3:4b does not support tools',
    });
    const stringArguments = [
      ...question,
      { role: 'assistant', content: '', tool_calls: [{ function: { name: 'get_time', arguments: '{}' } }] },
      { role: 'tool', content: '14:05', tool_name: 'get_time' },
    ] as unknown as Message[];
    const decoded = await refusal(sdk.chat({ model: 'llama3.2', messages: stringArguments }));
    assert.equal(decoded.status, 400);
    assert.match(decoded.message, /^json: cannot unmarshal string into Go struct field .*arguments/);
    assert.deepEqual(
      await refusal(
        sdk.chat({
          model: 'gemma3:4b',
          messages: [
            { role: 'user', content: 'x', images: [`data:image/png;base64,${png.toString('base64')}`] },
          ],
        }),
      ),
      { status: 400, message: 'illegal base64 data at input byte 4' },
    );
    const format = await refusal(sdk.chat({ model: 'llama3.2', messages: question, format: 'yaml' }));
    assert.equal(format.status, 500);
    assert.match(format.message, /^invalid format: .*yaml.*; expected "json" or a valid JSON Schema object$/);
  });

  test('lenient where Ollama is: a tool result with no call before it is answered, not refused', async () => {
    const response = await sdk.chat({
      model: 'llama3.2',
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'tool', content: 'orphan result', tool_name: 'lookup' },
      ],
    });
    assert.match(response.message.content, /lookup returned "orphan result"/);
  });
});

describe('our client against the emulator', () => {
  test('runTools: the model calls the tool, gets the result, answers with it; streamed calls end in a tool-call event', async () => {
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
    assert.equal(run.messages.length, 4, 'user, assistant with the call, tool result, final assistant');
    const sent = emulator.requests.at(-1)!.body as { messages: Array<Record<string, unknown>> };
    assert.equal(sent.messages[2]!.tool_name, 'get_weather');
    assert.equal(
      sent.messages[2]!.tool_call_id,
      (sent.messages[1]!.tool_calls as Array<{ id: string }>)[0]!.id,
    );

    const events = [];
    for await (const event of llm().stream({
      prompt: 'weather',
      tools: [{ name: 'get_weather', parameters: weatherParameters }],
    })) {
      events.push(event);
    }
    const call = events.find((event) => event.type === 'tool-call');
    assert.ok(call && validateJsonSchema(weatherParameters, JSON.parse(call.arguments)).ok);
    const finish = events.at(-1);
    assert.equal(finish?.type === 'finish' ? finish.finishReason : finish?.type, 'tool-calls');
  });

  test('generateObject and streamObject validate against a zod schema, natively through format', async () => {
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
    const result = await llm('gemma3:4b').complete({
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

  test('reasoning: thinking as a reasoning part and reasoning-delta events, sent back as thinking', async () => {
    const ask = { prompt: 'Why is the sky blue?', reasoning: { effort: 'medium' as const } };
    const result = await llm('qwen3:8b').complete(ask);
    assert.match(result.reasoning ?? '', /The user asks/);
    assert.deepEqual(
      result.message.content.map((part) => part.type),
      ['reasoning', 'text'],
    );
    let reasoning = '';
    for await (const event of llm('qwen3:8b').stream(ask))
      if (event.type === 'reasoning-delta') reasoning += event.text;
    assert.equal(reasoning, result.reasoning);
    await llm('qwen3:8b').complete({
      messages: [{ role: 'user', content: 'Why?' }, result.message, { role: 'user', content: 'More?' }],
    });
    const sent = emulator.requests.at(-1)!.body as { messages: Array<{ thinking?: string }> };
    assert.equal(sent.messages[1]!.thinking, result.reasoning);
  });

  test("the server's refusals reach our client as typed errors", async () => {
    const thinking = await llm()
      .complete({ prompt: 'x', reasoning: { effort: 'high' } })
      .catch((error: unknown) => error);
    assert.ok(thinking instanceof LLMBadRequestError, String(thinking));
    assert.equal(thinking.status, 400);
    assert.match(thinking.message, /^ollama 400: "llama3\.2" does not support thinking/);
    const toolless = await llm('gemma3:4b')
      .complete({ prompt: 'x', tools: [{ name: 'get_weather', parameters: weatherParameters }] })
      .catch((error: unknown) => error);
    assert.ok(toolless instanceof LLMBadRequestError, String(toolless));
    assert.match(toolless.message, /gemma3:4b does not support tools/);
  });
});
