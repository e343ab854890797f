/**
 * The request bodies we send obey Gemini's rules, checked on the wire through the real client: tools and
 * their schema dialect per model, tool choice, JSON output, thinking, images and files, provider options —
 * and what a model cannot do fails before anything is sent, naming provider, model and feature.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import { LLMBadRequestError, LLMUnsupportedError } from '../../spec/errors.ts';
import type { Json } from '../../spec/json.ts';
import type { CompletionRequest, CompletionResult, ToolDefinition } from '../../spec/types.ts';
import { fixtureText } from '../../test-support/fixtures.ts';
import { ReplayHarness } from '../../test-support/replay-harness.ts';

let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const client = (model = 'gemini-2.5-flash'): LLMClient =>
  factory.createClient(`gemini/${model}`, {
    apiKey: 'gemini-test-key-not-real',
    baseURL: harness.url,
    maxRetries: 0,
  });
const ok = () => ({ body: fixtureText('gemini', 'fbtd.googleai.unary-success-basic-reply-short.json') });

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

async function send(
  request: CompletionRequest,
  model?: string,
): Promise<{ body: Json; result: CompletionResult }> {
  const result = await harness.complete(client(model), ok(), request);
  return { body: JSON.parse(harness.server.requests.at(-1)!.body) as Json, result };
}

/** The request fails before sending, with `type`, and a message matching `message`. */
async function refused(
  request: CompletionRequest,
  model: string,
  type: typeof LLMBadRequestError,
  message: RegExp,
) {
  const before = harness.server.requests.length;
  const llm = client(model);
  const error = await llm.complete(request).catch((caught: unknown) => caught);
  await llm.close();
  assert.ok(error instanceof type, String(error));
  assert.match((error as Error).message, message);
  assert.equal(harness.server.requests.length, before, 'nothing was sent');
}

const weather: ToolDefinition = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    type: 'object',
    properties: { city: { type: 'string' }, unit: { type: ['string', 'null'], enum: ['c', 'f', null] } },
    required: ['city'],
    additionalProperties: false,
  },
};
const now: ToolDefinition = { name: 'now', parameters: { type: 'object', properties: {} } };

describe('tools', () => {
  test('Gemini 2.5 and later: parametersJsonSchema, the schema as given (less $schema)', async () => {
    const { body, result } = await send({ prompt: 'x', tools: [weather, now] });
    const { $schema: _meta, ...schema } = weather.parameters as Json;
    assert.deepEqual(body.tools, [
      {
        functionDeclarations: [
          { name: 'get_weather', description: 'Weather for a city', parametersJsonSchema: schema },
          { name: 'now', parametersJsonSchema: { type: 'object', properties: {} } },
        ],
      },
    ]);
    assert.equal(result.warnings, undefined, 'nothing changed');
    assert.equal(body.toolConfig, undefined, 'auto is the default');
  });

  test('older models: parameters in the OpenAPI subset, what changed said; no parameters for no arguments', async () => {
    const { body, result } = await send({ prompt: 'x', tools: [weather, now] }, 'gemini-2.0-flash');
    assert.deepEqual(body.tools, [
      {
        functionDeclarations: [
          {
            name: 'get_weather',
            description: 'Weather for a city',
            parameters: {
              type: 'object',
              properties: {
                city: { type: 'string' },
                unit: { type: 'string', enum: ['c', 'f'], nullable: true },
              },
              required: ['city'],
            },
          },
          { name: 'now' },
        ],
      },
    ]);
    const said = result.warnings?.map((warning) => warning.message).join('\n') ?? '';
    assert.match(
      said,
      /tools\[0\] get_weather \(gemini OpenAPI schema\): dropped `additionalProperties` at \$/,
    );
  });

  test('a recursive schema cannot go to an older model: unsupported, before sending', async () => {
    const tree: ToolDefinition = {
      name: 'tree',
      parameters: {
        type: 'object',
        properties: { root: { $ref: '#/$defs/Node' } },
        $defs: {
          Node: {
            type: 'object',
            properties: { children: { type: 'array', items: { $ref: '#/$defs/Node' } } },
          },
        },
      },
    };
    await refused(
      { prompt: 'x', tools: [tree] },
      'gemini-2.0-flash',
      LLMUnsupportedError,
      /gemini model gemini-2\.0-flash does not support this schema \(tools\[0\] tree: .*recursive/,
    );
    await send({ prompt: 'x', tools: [tree] }, 'gemini-2.5-flash');
  });

  test('tool choice → functionCallingConfig; parallelToolCalls: false is a warning', async () => {
    const cases: Array<[CompletionRequest['toolChoice'], Json]> = [
      ['auto', { mode: 'AUTO' }],
      ['none', { mode: 'NONE' }],
      ['required', { mode: 'ANY' }],
      [
        { type: 'tool', name: 'now' },
        { mode: 'ANY', allowedFunctionNames: ['now'] },
      ],
    ];
    for (const [toolChoice, expected] of cases) {
      const { body } = await send({ prompt: 'x', tools: [weather, now], toolChoice });
      assert.deepEqual(body.toolConfig, { functionCallingConfig: expected });
    }
    const { result } = await send({ prompt: 'x', tools: [weather], parallelToolCalls: false });
    assert.deepEqual(
      result.warnings?.map((warning) => warning.code),
      ['setting-ignored'],
    );
  });

  test('hosted Gemma has no function calling: unsupported', async () => {
    await refused(
      { prompt: 'x', tools: [now] },
      'gemma-3-27b-it',
      LLMUnsupportedError,
      /gemma-3-27b-it does not support tools/,
    );
    assert.deepEqual(client('gemma-3-27b-it').capabilities(), {
      structuredOutput: false,
      forcedToolChoice: false,
      forcedToolChoiceWithReasoning: false,
      imageUrls: false,
      fileUrls: false,
    });
  });
});

describe('JSON output', () => {
  const Person = z.object({ name: z.string(), age: z.number().int().optional() });

  test('json → responseMimeType alone; json-schema → responseJsonSchema (2.5) or responseSchema (older)', async () => {
    assert.deepEqual((await send({ prompt: 'x', responseFormat: { type: 'json' } })).body.generationConfig, {
      responseMimeType: 'application/json',
    });
    const modern = await send({
      prompt: 'x',
      responseFormat: { type: 'json-schema', schema: Person, description: 'A person' },
    });
    const config = modern.body.generationConfig as Json;
    assert.equal(config.responseMimeType, 'application/json');
    assert.deepEqual(config.responseJsonSchema, {
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 },
      },
      required: ['name'],
      description: 'A person',
    });
    const older = await send(
      { prompt: 'x', responseFormat: { type: 'json-schema', schema: Person } },
      'gemini-2.0-flash',
    );
    assert.deepEqual((older.body.generationConfig as Json).responseSchema, {
      type: 'object',
      properties: {
        name: { type: 'string' },
        age: { type: 'integer', minimum: -9007199254740991, maximum: 9007199254740991 },
      },
      required: ['name'],
      propertyOrdering: ['name', 'age'],
    });
  });

  test('generateObject goes native and validates what comes back', async () => {
    const llm = client();
    const answer = {
      candidates: [
        { content: { role: 'model', parts: [{ text: '{"name":"Ada","age":36}' }] }, finishReason: 'STOP' },
      ],
    };
    harness.next = { body: JSON.stringify(answer) };
    const { object } = await llm.generateObject({ schema: Person, prompt: 'a person' });
    await llm.close();
    assert.deepEqual(object, { name: 'Ada', age: 36 });
    assert.ok((JSON.parse(harness.server.requests.at(-1)!.body).generationConfig as Json).responseJsonSchema);
  });

  test('tools with a JSON answer: Gemini 3 only (before it, unsupported unless toolChoice is none)', async () => {
    const request: CompletionRequest = { prompt: 'x', tools: [now], responseFormat: { type: 'json' } };
    await refused(request, 'gemini-2.5-flash', LLMUnsupportedError, /a JSON answer together with tools/);
    await send({ ...request, toolChoice: 'none' }, 'gemini-2.5-flash');
    await send(request, 'gemini-3-flash-preview');
  });

  test('models without JSON output refuse it', async () => {
    await refused(
      { prompt: 'x', responseFormat: { type: 'json' } },
      'gemini-pro',
      LLMUnsupportedError,
      /gemini-pro does not support JSON output/,
    );
  });
});

describe('images and files', () => {
  const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(24)]);
  const pdf = Buffer.from('%PDF-1.4 tiny');

  test('inline as inlineData, in order with the text; an image URL is downloaded first', async () => {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(png);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/cat.png`;
    try {
      const { body } = await send({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'Describe these' },
              { type: 'image', image: png },
              { type: 'image', image: url },
              { type: 'file', data: pdf, mediaType: 'application/pdf', filename: 'a.pdf' },
              { type: 'text', text: '' },
            ],
          },
        ],
      });
      const inline = (mimeType: string, bytes: Buffer) => ({
        inlineData: { mimeType, data: bytes.toString('base64') },
      });
      assert.deepEqual(body.contents, [
        {
          role: 'user',
          parts: [
            { text: 'Describe these' },
            inline('image/png', png),
            inline('image/png', png),
            inline('application/pdf', pdf),
          ],
        },
      ]);
    } finally {
      server.close();
    }
  });

  test('media types Gemini does not read are refused before sending', async () => {
    const gif = Buffer.from('GIF89a tiny');
    await refused(
      { messages: [{ role: 'user', content: [{ type: 'image', image: gif }] }] },
      'gemini-2.5-flash',
      LLMUnsupportedError,
      /image\/gif images/,
    );
    await refused(
      {
        messages: [
          {
            role: 'user',
            content: [{ type: 'file', data: Buffer.from('PK'), mediaType: 'application/zip' }],
          },
        ],
      },
      'gemini-2.5-flash',
      LLMUnsupportedError,
      /application\/zip files/,
    );
  });

  test('an image in a tool result: functionResponse.parts on Gemini 3, unsupported before', async () => {
    const messages = [
      { role: 'user' as const, content: 'Show me' },
      {
        role: 'assistant' as const,
        content: [{ type: 'tool-call' as const, id: 'c1', name: 'snap', arguments: '{}' }],
      },
      {
        role: 'tool' as const,
        toolCallId: 'c1',
        content: [
          { type: 'text' as const, text: 'a photo' },
          { type: 'image' as const, image: png },
        ],
      },
    ];
    await refused({ messages }, 'gemini-2.5-flash', LLMUnsupportedError, /images or files in tool results/);
    const { body } = await send({ messages }, 'gemini-3-pro-preview');
    assert.deepEqual((body.contents as Array<{ parts: Json[] }>)[2]!.parts, [
      {
        functionResponse: {
          name: 'snap',
          response: { output: 'a photo' },
          id: 'c1',
          parts: [{ inlineData: { mimeType: 'image/png', data: png.toString('base64') } }],
        },
      },
    ]);
  });
});

describe('provider options and empty parts', () => {
  test('keyed by provider; a field the request defines, or functions, are refused', async () => {
    const { body } = await send({
      prompt: 'x',
      providerOptions: {
        gemini: { safetySettings: [{ category: 'HARM_CATEGORY_HARASSMENT', threshold: 'BLOCK_NONE' }] },
        openai: { user: 'u' },
      },
    });
    assert.ok(Array.isArray(body.safetySettings));
    assert.equal(body.user, undefined);
    const conflicts: CompletionRequest[] = [
      { prompt: 'x', providerOptions: { gemini: { contents: [] } } },
      { prompt: 'x', providerOptions: { gemini: { systemInstruction: { parts: [] } } } },
      {
        prompt: 'x',
        temperature: 0.2,
        providerOptions: { gemini: { generationConfig: { temperature: 1 } } },
      },
      { prompt: 'x', providerOptions: { gemini: { tools: [{ functionDeclarations: [{ name: 'f' }] }] } } },
    ];
    for (const request of conflicts)
      await refused(request, 'gemini-2.5-flash', LLMBadRequestError, /providerOptions/);
  });

  test('empty text parts and turns left empty are not sent', async () => {
    const { body } = await send({
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: '' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'Hello' },
          ],
        },
        { role: 'user', content: 'Bye' },
      ],
    });
    assert.deepEqual(body.contents, [
      { role: 'user', parts: [{ text: 'Hi' }] },
      { role: 'model', parts: [{ text: 'Hello' }] },
      { role: 'user', parts: [{ text: 'Bye' }] },
    ]);
  });
});
