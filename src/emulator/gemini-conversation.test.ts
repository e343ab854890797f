/**
 * The emulator's Gemini conversations through our client: tool loops (Gemini 2.5 with made-up ids, Gemini 3
 * with real ids and signed calls), structured output in both schema dialects, thinking with signatures
 * that must come back intact, attachments acknowledged, and the real service's refusals as typed errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { LLMClientFactory } from '../client/factory.ts';
import { tool } from '../client/tool-loop.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import type { ChatMessage, ResultMessage, StreamEvent } from '../spec/types.ts';
import { type Emulator, startEmulator } from './index.ts';

let emulator: Emulator;
const factory = new LLMClientFactory({ env: {} });
const llm = (model = 'gemini-2.5-flash') =>
  factory.createClient(`gemini/${model}`, {
    apiKey: 'test-key-not-real',
    baseURL: emulator.url,
    maxRetries: 0,
  });

before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await factory.close();
  await emulator.close();
});

const weatherTool = tool({
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: z.object({ city: z.string(), unit: z.enum(['celsius', 'fahrenheit']).optional() }),
  execute: (args) => ({ temperature: 21, city: args.city }),
});
const timeTool = tool({
  name: 'get_time',
  description: 'The time in a city',
  parameters: z.object({ city: z.string() }),
  execute: () => '12:00',
});

/** The body of the last request the emulator received. */
const lastBody = () =>
  emulator.requests.at(-1)!.body as {
    contents: Array<{ role: string; parts: Array<Record<string, unknown>> }>;
  };

describe('tool loops', () => {
  for (const model of ['gemini-2.5-flash', 'gemini-3-flash-preview', 'gemini-2.0-flash']) {
    test(`${model}: runTools calls the tools in parallel, sends the results, answers with them`, async () => {
      const run = await llm(model).runTools({
        prompt: 'What is the get_weather and get_time in Oslo?',
        tools: [weatherTool, timeTool],
      });
      assert.equal(run.steps.length, 2);
      assert.deepEqual(
        run.steps[0]!.result.toolCalls.map((call) => call.name),
        ['get_weather', 'get_time'],
      );
      assert.equal(run.steps[0]!.result.finishReason, 'tool-calls');
      assert.match(run.text, /get_weather returned "\{\\"temperature\\":21,\\"city\\":\\"/);
      assert.match(run.text, /get_time returned "12:00"/);
      assert.equal(run.result.finishReason, 'stop');
      // The second request replayed the calls and answered both in one user turn.
      const [, modelTurn, results] = lastBody().contents;
      assert.equal(modelTurn!.role, 'model');
      assert.equal(results!.parts.length, 2);
      const gemini3 = model.startsWith('gemini-3');
      const call = modelTurn!.parts[0]!.functionCall as { id?: string };
      assert.equal(call.id !== undefined, gemini3, 'ids only when Gemini gave them');
      assert.equal(
        typeof modelTurn!.parts[0]!.thoughtSignature === 'string',
        gemini3,
        'Gemini 3 signs its calls',
      );
    });
  }

  test('streamed: each call arrives whole, one tool-call event each, at distinct indexes', async () => {
    const events: StreamEvent[] = [];
    for await (const event of llm().stream({
      prompt: 'get_weather and get_time please',
      tools: [weatherTool, timeTool],
    }))
      events.push(event);
    const calls = events.filter((event) => event.type === 'tool-call');
    assert.deepEqual(
      calls.map((call) => [call.index, call.name]),
      [
        [0, 'get_weather'],
        [1, 'get_time'],
      ],
    );
    for (const call of calls) JSON.parse(call.arguments);
    const finish = events.at(-1)!;
    assert.equal(finish.type === 'finish' && finish.finishReason, 'tool-calls');
  });
});

describe('structured output', () => {
  const Person = z.object({
    name: z.string(),
    age: z.number().int().min(0).max(150),
    tags: z.array(z.string()),
    manager: z.object({ name: z.string() }).nullable(),
  });

  for (const model of ['gemini-2.5-flash', 'gemini-2.0-flash']) {
    test(`${model}: generateObject and streamObject validate, natively (${model === 'gemini-2.0-flash' ? 'responseSchema' : 'responseJsonSchema'})`, async () => {
      const { object, result } = await llm(model).generateObject({
        schema: Person,
        prompt: 'Invent a person',
      });
      assert.equal(Person.safeParse(object).success, true);
      const config = (emulator.requests.at(-1)!.body as { generationConfig: Record<string, unknown> })
        .generationConfig;
      assert.ok(model === 'gemini-2.0-flash' ? config.responseSchema : config.responseJsonSchema);
      if (model === 'gemini-2.0-flash')
        assert.ok(result.warnings?.length, 'what the OpenAPI subset dropped is said');
      const events = [];
      for await (const event of llm(model).streamObject({ schema: Person, prompt: 'Invent a person' }))
        events.push(event);
      const final = events.at(-1)!;
      assert.equal(final.type, 'object');
      assert.ok(events.filter((event) => event.type === 'partial').length > 3);
      assert.deepEqual(final.object, object, 'the same conversation gets the same answer, streamed or not');
    });
  }
});

describe('thinking and thought signatures', () => {
  test('reasoning comes back as thought summaries; the signed answer replays; an altered signature is refused', async () => {
    const first = await llm().complete({ prompt: 'Why is the sky blue?', reasoning: { effort: 'low' } });
    assert.match(first.reasoning ?? '', /The user asks: “Why is the sky blue\?”/);
    assert.deepEqual(
      first.message.content.map((part) => part.type),
      ['reasoning', 'text'],
    );
    const signature = first.message.content[1]!.providerMetadata?.gemini?.thoughtSignature;
    assert.equal(typeof signature, 'string');
    assert.ok(first.usage.reasoningTokens && first.usage.reasoningTokens > 0);
    const next = (message: ResultMessage): ChatMessage[] => [
      { role: 'user', content: 'Why is the sky blue?' },
      message,
      { role: 'user', content: 'And sunsets?' },
    ];
    assert.ok((await llm().complete({ messages: next(first.message), reasoning: { effort: 'low' } })).text);
    const altered: ResultMessage = {
      ...first.message,
      content: first.message.content.map((part) =>
        part.type === 'text'
          ? { ...part, providerMetadata: { gemini: { thoughtSignature: `${signature}x` } } }
          : part,
      ),
    };
    await assert.rejects(
      llm().complete({ messages: next(altered) }),
      (error: unknown) =>
        error instanceof LLMBadRequestError && /Corrupted thought signature\./.test(error.message),
    );
  });

  test('streamed: reasoning deltas first, the signature from the trailing part lands on the text', async () => {
    const events: StreamEvent[] = [];
    for await (const event of llm('gemini-3-pro-preview').stream({
      prompt: 'Hello',
      reasoning: { effort: 'high' },
    }))
      events.push(event);
    const firstText = events.findIndex((event) => event.type === 'text-delta');
    assert.ok(events.findIndex((event) => event.type === 'reasoning-delta') < firstText);
    const finish = events.at(-1)!;
    assert.equal(finish.type, 'finish');
    if (finish.type !== 'finish') return;
    const text = finish.message.content.find((part) => part.type === 'text')!;
    assert.equal(typeof text.providerMetadata?.gemini?.thoughtSignature, 'string');
    assert.ok(
      !finish.message.content.some((part) => part.type === 'text' && part.text === ''),
      'no empty part',
    );
  });

  test('Gemini 3: a call from elsewhere goes with the skip signature and passes; without it, the real 400', async () => {
    const foreign: ChatMessage[] = [
      { role: 'user', content: 'Weather in Oslo?' },
      {
        role: 'assistant',
        content: [{ type: 'tool-call', id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
      },
      { role: 'tool', toolCallId: 'toolu_1', content: 'sunny' },
    ];
    const result = await llm('gemini-3-flash-preview').complete({ messages: foreign, tools: [weatherTool] });
    assert.match(result.text, /get_weather returned "sunny"/);
    assert.ok(result.warnings?.some((warning) => warning.code === 'thought-signature-skipped'));
    const body = structuredClone(emulator.requests.at(-1)!.body) as ReturnType<typeof lastBody>;
    delete body.contents[1]!.parts[0]!.thoughtSignature;
    const response = await fetch(`${emulator.url}/v1beta/models/gemini-3-flash-preview:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'test-key-not-real' },
      body: JSON.stringify(body),
    });
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: { message: string; status: string } };
    assert.equal(error.status, 'INVALID_ARGUMENT');
    assert.match(
      error.message,
      /^Function call is missing a thought_signature in functionCall parts\. .*`default_api:get_weather` , position 2\./,
    );
  });
});

describe('attachments and refusals', () => {
  test('an image and a PDF arrive: the reply names their types and sizes', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(92)]);
    const result = await llm().complete({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What is this?' },
            { type: 'image', image: png },
            { type: 'file', data: Buffer.from('%PDF-1.4 twenty bytes'), mediaType: 'application/pdf' },
          ],
        },
      ],
    });
    assert.match(result.text, /image\/png \(100 bytes\), application\/pdf \(21 bytes\)/);
  });

  test('unknown keys in an OpenAPI-style schema are the real 400, each one listed', async () => {
    const response = await fetch(`${emulator.url}/v1beta/models/gemini-2.0-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'test-key-not-real' },
      body: JSON.stringify({
        contents: [{ role: 'user', parts: [{ text: 'hi' }] }],
        tools: [
          {
            functionDeclarations: [
              {
                name: 'f',
                parameters: {
                  type: 'object',
                  properties: {
                    tags: { type: 'array', items: { type: 'object', additionalProperties: false } },
                  },
                  additionalProperties: false,
                },
              },
            ],
          },
        ],
      }),
    });
    assert.equal(response.status, 400);
    const { error } = (await response.json()) as { error: { message: string; details: unknown[] } };
    assert.equal(
      error.message,
      [
        `Invalid JSON payload received. Unknown name "additionalProperties" at 'tools[0].function_declarations[0].parameters.properties[0].value.items': Cannot find field.`,
        `Invalid JSON payload received. Unknown name "additionalProperties" at 'tools[0].function_declarations[0].parameters': Cannot find field.`,
      ].join('\n'),
    );
    assert.equal(error.details.length, 1, 'a BadRequest with the field violations');
  });

  test('a tool result whose call is not in the turn before is the real 400', async () => {
    const response = await fetch(`${emulator.url}/v1beta/models/gemini-2.5-flash:generateContent`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-goog-api-key': 'test-key-not-real' },
      body: JSON.stringify({
        contents: [
          { role: 'user', parts: [{ text: 'hi' }] },
          {
            role: 'user',
            parts: [{ functionResponse: { name: 'get_weather', response: { output: 'sunny' } } }],
          },
        ],
      }),
    });
    assert.equal(response.status, 400);
    assert.match(
      ((await response.json()) as { error: { message: string } }).error.message,
      /^Please ensure that function response turn comes immediately after a function call turn\.$/,
    );
  });
});
