/**
 * The official `@google/genai` client, unchanged, against the emulator's Gemini conversations: a full
 * function-calling loop that replays the model's content as the SDK keeps it (ids and thought signatures
 * included), structured output with `responseJsonSchema` and `responseSchema`, and the real service's
 * refusals of broken history and unknown schema keys as 400 `ApiError`s.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ApiError, type Content, type GenerateContentParameters, GoogleGenAI } from '@google/genai';
import { validateJsonSchema } from '../schema/validate.ts';
import { type Emulator, startEmulator } from './index.ts';

let emulator: Emulator;
let ai: GoogleGenAI;
before(async () => {
  emulator = await startEmulator();
  ai = new GoogleGenAI({ apiKey: 'test-key-not-real', httpOptions: { baseUrl: emulator.url } });
});
after(async () => {
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

describe('the official @google/genai client, unchanged', () => {
  for (const model of ['gemini-3-pro-preview', 'gemini-2.5-flash']) {
    test(`${model}: a full function-calling loop, the model's content replayed as the SDK keeps it`, async () => {
      const tools = [
        {
          functionDeclarations: [
            { name: 'get_weather', parametersJsonSchema: weatherParameters },
            { name: 'get_time', description: 'The time now' },
          ],
        },
      ];
      const contents: Content[] = [
        { role: 'user', parts: [{ text: 'What is the get_weather and get_time in Oslo?' }] },
      ];
      const first = await ai.models.generateContent({ model, contents, config: { tools } });
      const calls = first.functionCalls ?? [];
      assert.deepEqual(
        calls.map((call) => call.name),
        ['get_weather', 'get_time'],
      );
      assert.ok(validateJsonSchema(weatherParameters, calls[0]!.args).ok);
      assert.equal(first.candidates?.[0]?.finishReason, 'STOP');
      const gemini3 = model.startsWith('gemini-3');
      assert.equal(calls[0]!.id !== undefined, gemini3, 'Gemini 3 gives ids');
      assert.equal(typeof first.candidates?.[0]?.content?.parts?.[0]?.thoughtSignature === 'string', gemini3);
      contents.push(first.candidates![0]!.content!);
      contents.push({
        role: 'user',
        parts: calls.map((call) => ({
          functionResponse: { id: call.id, name: call.name, response: { output: `result of ${call.name}` } },
        })),
      });
      const second = await ai.models.generateContent({ model, contents, config: { tools } });
      assert.equal(second.candidates?.[0]?.finishReason, 'STOP');
      assert.match(second.text ?? '', /get_time returned "result of get_time"/);
    });
  }

  test('responseJsonSchema and responseSchema: the answer is JSON that validates', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
      required: ['name', 'email'],
    };
    const modern = await ai.models.generateContent({
      model: 'gemini-2.5-flash',
      contents: 'A person',
      config: { responseMimeType: 'application/json', responseJsonSchema: schema },
    });
    assert.ok(validateJsonSchema(schema, JSON.parse(modern.text ?? '')).ok);
    const older = await ai.models.generateContent({
      model: 'gemini-2.0-flash',
      contents: 'A person',
      config: {
        responseMimeType: 'application/json',
        responseSchema: {
          type: 'OBJECT',
          properties: { n: { type: 'INTEGER', enum: ['1', '2'], format: 'enum' } },
        },
      },
    });
    assert.ok([1, 2].includes((JSON.parse(older.text ?? '') as { n: number }).n));
  });

  test('broken history and schemas the service refuses are 400 ApiErrors with its messages', async () => {
    const call = { functionCall: { name: 'f', args: {} } };
    const cases: Array<[GenerateContentParameters, RegExp]> = [
      [
        {
          model: 'gemini-2.5-flash',
          contents: [
            { role: 'user', parts: [{ text: 'hi' }] },
            { role: 'user', parts: [{ functionResponse: { name: 'f', response: {} } }] },
          ],
        },
        /Please ensure that function response turn comes immediately after a function call turn\./,
      ],
      [
        {
          model: 'gemini-2.5-flash',
          contents: [
            { role: 'user', parts: [{ text: 'hi' }] },
            { role: 'model', parts: [call, call] },
            { role: 'user', parts: [{ functionResponse: { name: 'f', response: {} } }] },
          ],
        },
        /the number of function response parts is equal to the number of function call parts/,
      ],
      [
        {
          model: 'gemini-3-pro-preview',
          contents: [
            { role: 'user', parts: [{ text: 'hi' }] },
            { role: 'model', parts: [{ ...call, thoughtSignature: 'bm90IGEgc2lnbmF0dXJl' }] },
            { role: 'user', parts: [{ functionResponse: { name: 'f', response: {} } }] },
          ],
        },
        /Corrupted thought signature\./,
      ],
      [
        {
          model: 'gemini-2.0-flash',
          contents: 'x',
          config: {
            tools: [
              {
                functionDeclarations: [
                  {
                    name: 'f',
                    // The SDK strips `additionalProperties` itself; `const` it sends as it is.
                    parameters: {
                      type: 'OBJECT',
                      properties: { a: { type: 'STRING', const: 'q' } },
                    } as never,
                  },
                ],
              },
            ],
          },
        },
        /Invalid JSON payload received\. Unknown name \\?"const\\?" at 'tools\[0\]\.function_declarations\[0\]\.parameters\.properties\[0\]\.value': Cannot find field\./,
      ],
      [
        {
          model: 'gemini-2.5-flash',
          contents: 'x',
          config: {
            tools: [
              {
                functionDeclarations: [
                  {
                    name: 'f',
                    parameters: { type: 'OBJECT', properties: {} } as never,
                    parametersJsonSchema: { type: 'object' },
                  },
                ],
              },
            ],
          },
        },
        /parameters_json_schema is mutually exclusive with parameters/,
      ],
      [
        {
          model: 'gemini-2.5-flash',
          contents: 'x',
          config: {
            tools: [{ functionDeclarations: [{ name: 'f' }] }],
            responseMimeType: 'application/json',
          },
        },
        /Function calling with a response mime type: 'application\/json' is unsupported/,
      ],
    ];
    for (const [params, message] of cases) {
      const error = await ai.models.generateContent(params).catch((caught: unknown) => caught);
      assert.ok(error instanceof ApiError, `${message}: ${JSON.stringify(error).slice(0, 200)}`);
      assert.equal(error.status, 400);
      assert.match(error.message, message);
    }
  });
});
