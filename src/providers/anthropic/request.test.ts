/**
 * Each Messages API rule a conversation must obey, shown on the body we send (served by a loopback
 * server): tool results grouped first in one user turn, tools kept whenever history has tool blocks, tool
 * choice and parallel calls inside `tool_choice`, media blocks, replayed thinking, structured output and
 * strict tools in the constrained dialect, provider options keyed by provider.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import { LLMBadRequestError, LLMUnsupportedError } from '../../spec/errors.ts';
import type { ChatMessage, CompletionRequest, CompletionResult } from '../../spec/types.ts';
import { fixtureText } from '../../test-support/fixtures.ts';
import { ReplayHarness } from '../../test-support/replay-harness.ts';

const MESSAGE = fixtureText('anthropic', 'messages.nonstream.text.claude-sonnet-4-5.json');
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const client = (model = 'claude-sonnet-4-5'): LLMClient =>
  factory.createClient(`anthropic/${model}`, {
    apiKey: 'test-anthropic-request-key',
    baseURL: harness.url,
    maxRetries: 0,
  });

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
): Promise<{ body: Record<string, unknown>; result: CompletionResult }> {
  const result = await harness.complete(client(model), { body: MESSAGE }, request);
  return { body: JSON.parse(harness.server.requests.at(-1)!.body) as Record<string, unknown>, result };
}

/** The typed error a request fails with, after checking that nothing was sent. */
async function refused(request: CompletionRequest, model?: string): Promise<Error> {
  const before = harness.server.requests.length;
  const c = client(model);
  const error = await c.complete(request).then(
    () => assert.fail('expected the request to be refused'),
    (caught: unknown) => caught as Error,
  );
  await c.close();
  assert.equal(harness.server.requests.length, before, 'nothing was sent');
  return error;
}

const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const time = { name: 'get_time', parameters: { type: 'object', properties: {} } };
const twoCalls: ChatMessage[] = [
  { role: 'user', content: 'Weather and time in Oslo?' },
  {
    role: 'assistant',
    content: [
      { type: 'text', text: '' },
      { type: 'text', text: 'Checking both.' },
      { type: 'tool-call', id: 'toolu_1', name: 'get_weather', arguments: '{"city":"Oslo"}' },
      { type: 'tool-call', id: 'toolu_2', name: 'get_time', arguments: '{}' },
    ],
  },
];

describe('tool history', () => {
  test("one assistant turn's results go first in one user turn, with a following user message; roles alternate", async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(8)]);
    const { body } = await send({
      messages: [
        ...twoCalls,
        { role: 'tool', toolCallId: 'toolu_1', content: '{"temp":3}' },
        {
          role: 'tool',
          toolCallId: 'toolu_2',
          isError: true,
          content: [
            { type: 'text', text: 'clock unavailable; here is a photo of it' },
            { type: 'image', image: png },
          ],
        },
        { role: 'user', content: 'And tomorrow?' },
      ],
      tools: [weather, time],
    });
    assert.deepEqual(body.messages, [
      { role: 'user', content: 'Weather and time in Oslo?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking both.' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } },
          { type: 'tool_use', id: 'toolu_2', name: 'get_time', input: {} },
        ],
      },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: '{"temp":3}' },
          {
            type: 'tool_result',
            tool_use_id: 'toolu_2',
            content: [
              { type: 'text', text: 'clock unavailable; here is a photo of it' },
              {
                type: 'image',
                source: { type: 'base64', media_type: 'image/png', data: png.toString('base64') },
              },
            ],
            is_error: true,
          },
          { type: 'text', text: 'And tomorrow?' },
        ],
      },
    ]);
  });

  test('history with tool blocks needs tools: refused before sending; toolChoice none keeps them as {type: none}', async () => {
    const history: ChatMessage[] = [
      ...twoCalls,
      { role: 'tool', toolCallId: 'toolu_1', content: 'a' },
      { role: 'tool', toolCallId: 'toolu_2', content: 'b' },
    ];
    const error = await refused({ messages: history });
    assert.ok(error instanceof LLMBadRequestError);
    assert.match(error.message, /requires `tools` whenever the conversation has tool calls/);
    const { body } = await send({
      messages: history,
      tools: [weather, time],
      toolChoice: 'none',
      parallelToolCalls: false,
    });
    assert.deepEqual(body.tool_choice, { type: 'none' }, 'no disable_parallel_tool_use beside none');
    assert.equal((body.tools as unknown[]).length, 2);
  });

  test('tool choice: required → any, a tool by name, parallel calls off inside tool_choice (auto when no choice)', async () => {
    const cases: Array<[Partial<CompletionRequest>, unknown]> = [
      [{}, undefined],
      [{ toolChoice: 'auto' }, { type: 'auto' }],
      [{ toolChoice: 'required' }, { type: 'any' }],
      [{ toolChoice: { type: 'tool', name: 'get_time' } }, { type: 'tool', name: 'get_time' }],
      [{ parallelToolCalls: false }, { type: 'auto', disable_parallel_tool_use: true }],
      [
        { toolChoice: 'required', parallelToolCalls: false },
        { type: 'any', disable_parallel_tool_use: true },
      ],
      [{ parallelToolCalls: true }, undefined],
    ];
    for (const [fields, expected] of cases) {
      const { body } = await send({ prompt: 'x', tools: [weather, time], ...fields });
      assert.deepEqual(body.tool_choice, expected, JSON.stringify(fields));
    }
    const { body } = await send({
      prompt: 'x',
      tools: [{ ...weather, parameters: z.object({ city: z.string() }) }],
    });
    assert.deepEqual(body.tools, [
      {
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: {
          type: 'object',
          properties: { city: { type: 'string' } },
          required: ['city'],
        },
      },
    ]);
  });

  test('arguments that are not a JSON object cannot become tool_use input: refused, naming the part', async () => {
    const error = await refused({
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: [{ type: 'tool-call', id: 'toolu_x', name: 'get_time', arguments: '{"cut' }],
        },
        { role: 'tool', toolCallId: 'toolu_x', content: 'y' },
      ],
      tools: [time],
    });
    assert.ok(error instanceof LLMBadRequestError);
    assert.match(error.message, /`messages\[1\]\.content\[0\]\.arguments` must be a JSON object/);
  });
});

describe('replayed reasoning', () => {
  test("signed thinking and redacted thinking go back byte for byte before the tool_use; another provider's reasoning does not", async () => {
    const { body, result } = await send({
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: [
            {
              type: 'reasoning',
              text: 'I should call the tool.',
              providerMetadata: { anthropic: { signature: 'c2lnbmF0dXJl' } },
            },
            {
              type: 'reasoning',
              text: '',
              providerMetadata: { anthropic: { redactedData: 'EmwKAhgBEgy3va' } },
            },
            {
              type: 'reasoning',
              text: 'Gemini thought this',
              providerMetadata: { gemini: { thoughtSignature: 'abc' } },
            },
            { type: 'tool-call', id: 'toolu_9', name: 'get_time', arguments: '{}' },
          ],
        },
        { role: 'tool', toolCallId: 'toolu_9', content: 'noon' },
      ],
      tools: [time],
      reasoning: { budgetTokens: 2048 },
    });
    assert.deepEqual((body.messages as Array<{ content: unknown }>)[1]!.content, [
      { type: 'thinking', thinking: 'I should call the tool.', signature: 'c2lnbmF0dXJl' },
      { type: 'redacted_thinking', data: 'EmwKAhgBEgy3va' },
      { type: 'tool_use', id: 'toolu_9', name: 'get_time', input: {} },
    ]);
    assert.deepEqual(
      result.warnings?.map((warning) => warning.code),
      ['metadata-dropped'],
    );
    assert.match(
      result.warnings![0]!.message,
      /messages\[1\]\.content\[2\] is reasoning without an Anthropic signature/,
    );
  });
});

describe('images and documents', () => {
  test('images inline or by URL (the API fetches https itself), PDFs inline or by URL, text files as plain-text documents', async () => {
    const jpeg = Buffer.from('ffd8ffe000104a464946', 'hex');
    const pdf = Buffer.from('%PDF-1.4 tiny');
    const { body, result } = await send({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Compare' },
            { type: 'image', image: jpeg },
            { type: 'image', image: 'https://example.com/cat.png' },
            { type: 'file', data: pdf, mediaType: 'application/pdf', filename: 'report.pdf' },
            { type: 'file', data: new URL('https://example.com/paper.pdf'), mediaType: 'application/pdf' },
            { type: 'file', data: Buffer.from('hello notes'), mediaType: 'text/plain' },
            { type: 'file', data: Buffer.from('a,b\n1,2'), mediaType: 'text/csv' },
          ],
        },
      ],
    });
    assert.deepEqual((body.messages as Array<{ content: unknown }>)[0]!.content, [
      { type: 'text', text: 'Compare' },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: jpeg.toString('base64') } },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
      {
        type: 'document',
        source: { type: 'base64', media_type: 'application/pdf', data: pdf.toString('base64') },
        title: 'report.pdf',
      },
      { type: 'document', source: { type: 'url', url: 'https://example.com/paper.pdf' } },
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'hello notes' } },
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'a,b\n1,2' } },
    ]);
    assert.deepEqual(
      result.warnings?.map((warning) => warning.code),
      ['media-type-changed'],
    );
  });

  test('what the API cannot take fails before sending, naming provider, model and feature', async () => {
    const cases: Array<[CompletionRequest['messages'], RegExp]> = [
      [
        [{ role: 'user', content: [{ type: 'image', image: Buffer.from('BM...'), mediaType: 'image/bmp' }] }],
        /image\/bmp images/,
      ],
      [
        [{ role: 'user', content: [{ type: 'file', data: Buffer.from('x'), mediaType: 'application/zip' }] }],
        /application\/zip files/,
      ],
      [
        [
          {
            role: 'user',
            content: [{ type: 'file', data: 'https://example.com/a.txt', mediaType: 'text/plain' }],
          },
        ],
        /text\/plain files by URL/,
      ],
    ];
    for (const [messages, feature] of cases) {
      const error = await refused({ messages });
      assert.ok(error instanceof LLMUnsupportedError, String(error));
      assert.match(error.message, /^anthropic model claude-sonnet-4-5 does not support /);
      assert.match(error.message, feature);
    }
  });
});

describe('structured output and strict tools', () => {
  test('output_config.format in the constrained dialect; what moved into descriptions is a warning on the result', async () => {
    const { body, result } = await send({
      prompt: 'A person',
      responseFormat: {
        type: 'json-schema',
        schema: z.object({ name: z.string().min(2), email: z.string().email() }),
      },
    });
    const format = (body.output_config as { format: { type: string; schema: Record<string, unknown> } })
      .format;
    assert.equal(format.type, 'json_schema');
    assert.equal(format.schema.additionalProperties, false);
    assert.equal(format.schema.$schema, undefined);
    assert.deepEqual((format.schema.properties as Record<string, unknown>).name, {
      type: 'string',
      description: '{minLength: 2}',
    });
    assert.ok(
      result.warnings?.some((warning) =>
        /`minLength` at \$\.properties\.name moved into the description/.test(warning.message),
      ),
    );
  });

  test('strict tools are sent constrained with strict: true; where strict cannot be had, without it and a warning', async () => {
    const strict = {
      ...weather,
      strict: true,
      parameters: { ...weather.parameters, properties: { city: { type: 'string', maxLength: 40 } } },
    };
    const { body } = await send({ prompt: 'x', tools: [strict] });
    assert.deepEqual(body.tools, [
      {
        name: 'get_weather',
        description: 'Weather for a city',
        input_schema: {
          type: 'object',
          properties: { city: { type: 'string', description: '{maxLength: 40}' } },
          additionalProperties: false,
          required: ['city'],
        },
        strict: true,
      },
    ]);
    const old = await send({ prompt: 'x', tools: [strict] }, 'claude-3-5-haiku-latest');
    assert.equal((old.body.tools as Array<{ strict?: boolean }>)[0]!.strict, undefined);
    assert.match(
      old.result.warnings![0]!.message,
      /sent without strict \(constrained decoding cannot take claude-3-5-haiku-latest has no strict tool use\)/,
    );
    const untyped = await send({
      prompt: 'x',
      tools: [{ ...strict, parameters: { type: 'object', properties: { data: {} } } }],
    });
    assert.equal((untyped.body.tools as Array<{ strict?: boolean }>)[0]!.strict, undefined);
    assert.match(untyped.result.warnings![0]!.message, /a schema with no type at \$\.properties\.data/);
  });

  test('generateObject: native on Claude 4.5+, a forced tool before, a clear error with thinking where neither is possible', async () => {
    harness.next = { body: MESSAGE };
    const Person = z.object({ name: z.string() });
    await client('claude-3-5-sonnet-latest')
      .generateObject({ schema: Person, prompt: 'x' })
      .catch(() => undefined);
    const forced = JSON.parse(harness.server.requests.at(-1)!.body) as Record<string, unknown>;
    assert.deepEqual(forced.tool_choice, { type: 'tool', name: 'json', disable_parallel_tool_use: true });
    assert.equal(forced.output_config, undefined);
    const before = harness.server.requests.length;
    const error = await client('claude-3-7-sonnet-latest')
      .generateObject({ schema: Person, prompt: 'x', reasoning: { budgetTokens: 2048 } })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof LLMUnsupportedError, String(error));
    assert.equal(harness.server.requests.length, before);
    for (const format of [{ type: 'json' as const }]) {
      const json = await refused({ prompt: 'x', responseFormat: format });
      assert.match(json.message, /JSON mode without a schema/);
    }
    const noNative = await refused(
      { prompt: 'x', responseFormat: { type: 'json-schema', schema: Person } },
      'claude-3-5-haiku-latest',
    );
    assert.match(noNative.message, /native structured output/);
    const untyped = await refused({
      prompt: 'x',
      responseFormat: { type: 'json-schema', schema: { type: 'object', properties: { a: {} } } },
    });
    assert.match(untyped.message, /structured output for a schema with no type at \$\.properties\.a/);
  });
});

describe('provider options', () => {
  test('keyed by provider, merged one level down into thinking and output_config, never over a request field', async () => {
    const { body } = await send(
      {
        prompt: 'x',
        reasoning: { effort: 'medium' },
        providerOptions: {
          anthropic: { thinking: { display: 'summarized' }, output_config: {}, top_k: 3 },
          gemini: { x: 1 },
        },
      },
      'claude-opus-4-7',
    );
    assert.deepEqual(body.thinking, { type: 'adaptive', display: 'summarized' });
    assert.deepEqual(body.output_config, { effort: 'medium' });
    assert.equal(body.top_k, 3);
    assert.equal(body.x, undefined);
    for (const options of [
      { messages: [] },
      { tools: [] },
      { tool_choice: { type: 'any' } },
      { system: 'S' },
      { temperature: 1 },
    ]) {
      const error = await refused({ prompt: 'x', providerOptions: { anthropic: options } });
      assert.ok(error instanceof LLMBadRequestError);
      assert.match(error.message, /providerOptions\.anthropic\./);
    }
    const conflict = await refused(
      {
        prompt: 'x',
        reasoning: { effort: 'low' },
        providerOptions: { anthropic: { thinking: { type: 'enabled' } } },
      },
      'claude-opus-4-7',
    );
    assert.match(conflict.message, /providerOptions\.anthropic\.thinking\.type/);
  });
});
