/**
 * The emulator's Converse conversations, through the official `@aws-sdk/client-bedrock-runtime` unchanged
 * and through our client: tool calls whose input validates, tool results quoted back, structured output
 * that validates, signed reasoning that must come back unaltered, attachments acknowledged, and Bedrock's
 * refusals of broken conversations as ValidationExceptions with its messages.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  BedrockRuntimeClient,
  ConverseCommand,
  type ConverseCommandInput,
  ConverseStreamCommand,
  type Message,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import { LLMClientFactory } from '../client/factory.ts';
import { validateJsonSchema } from '../schema/validate.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import { type Emulator, startEmulator } from './index.ts';

const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const CREDENTIALS = { accessKeyId: 'EMULATORKEYID', secretAccessKey: 'emulator-secret' };
let emulator: Emulator;
let sdk: BedrockRuntimeClient;
const factory = new LLMClientFactory({ env: {} });
const bedrockClient = (model = CLAUDE) =>
  factory.createClient(`bedrock/${model}`, {
    region: 'us-east-1',
    baseURL: emulator.url,
    credentials: CREDENTIALS,
  });

before(async () => {
  emulator = await startEmulator();
  sdk = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: emulator.url,
    credentials: CREDENTIALS,
    maxAttempts: 1,
  });
});
after(async () => {
  sdk.destroy();
  await factory.close();
  await emulator.close();
});

const weatherSchema = {
  type: 'object',
  properties: {
    city: { type: 'string' },
    unit: { type: 'string', enum: ['celsius', 'fahrenheit'] },
    days: { type: 'integer', minimum: 1, maximum: 5 },
  },
  required: ['city', 'unit'],
  additionalProperties: false,
} as const;
const toolConfig = {
  tools: [
    {
      toolSpec: {
        name: 'get_weather',
        description: 'Weather for a city',
        inputSchema: { json: weatherSchema },
      },
    },
    { toolSpec: { name: 'get_time', inputSchema: { json: { type: 'object', properties: {} } } } },
  ],
} as unknown as NonNullable<ConverseCommandInput['toolConfig']>;

/** The ValidationException a request gets from the emulator. */
async function rejected(
  input: Omit<ConverseCommandInput, 'modelId'>,
  modelId = CLAUDE,
): Promise<ValidationException> {
  const error = await sdk.send(new ConverseCommand({ modelId, ...input })).then(
    () => assert.fail('expected a ValidationException'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof ValidationException, String(error));
  assert.equal(error.$metadata.httpStatusCode, 400);
  return error;
}

describe('the official Bedrock runtime client, unchanged', () => {
  test('a full tool loop: toolUse whose input validates, then text that quotes each result', async () => {
    const messages: Message[] = [
      { role: 'user', content: [{ text: 'What is the get_weather and get_time in Oslo?' }] },
    ];
    const first = await sdk.send(new ConverseCommand({ modelId: CLAUDE, messages, toolConfig }));
    assert.equal(first.stopReason, 'tool_use');
    const uses = first.output!.message!.content!.flatMap((block) => (block.toolUse ? [block.toolUse] : []));
    assert.deepEqual(
      uses.map((use) => use.name),
      ['get_weather', 'get_time'],
      'both tools named in the question are called',
    );
    assert.ok(validateJsonSchema(weatherSchema, uses[0]!.input).ok);
    messages.push(first.output!.message!, {
      role: 'user',
      content: uses.map((use) => ({
        toolResult: {
          toolUseId: use.toolUseId!,
          content: [{ json: { result: `of ${use.name}` } }],
          status: 'success',
        },
      })),
    });
    const second = await sdk.send(new ConverseCommand({ modelId: CLAUDE, messages, toolConfig }));
    assert.equal(second.stopReason, 'end_turn');
    const text = second.output!.message!.content![0]!.text ?? '';
    assert.match(text, /get_weather returned "\{\\"result\\":\\"of get_weather\\"\}"/);
    assert.match(text, /get_time returned/);
  });

  test('ConverseStream: a tool call opened by contentBlockStart, its input in fragments, closed by contentBlockStop', async () => {
    const response = await sdk.send(
      new ConverseStreamCommand({
        modelId: CLAUDE,
        messages: [{ role: 'user', content: [{ text: 'weather please' }] }],
        toolConfig: { ...toolConfig, toolChoice: { tool: { name: 'get_weather' } } },
      }),
    );
    const seen: string[] = [];
    let input = '';
    let stopReason: string | undefined;
    for await (const event of response.stream!) {
      if (event.contentBlockStart?.start?.toolUse)
        seen.push(`start ${event.contentBlockStart.start.toolUse.name}`);
      if (event.contentBlockDelta?.delta?.toolUse) input += event.contentBlockDelta.delta.toolUse.input;
      if (event.contentBlockStop) seen.push('stop');
      if (event.messageStop) stopReason = event.messageStop.stopReason;
    }
    assert.deepEqual(seen, ['start get_weather', 'stop']);
    assert.equal(stopReason, 'tool_use');
    assert.ok(validateJsonSchema(weatherSchema, JSON.parse(input)).ok);
  });

  test('outputConfig.textFormat: the answer is JSON that validates against the schema string', async () => {
    const schema = {
      type: 'object',
      properties: { name: { type: 'string' }, email: { type: 'string', format: 'email' } },
      required: ['name', 'email'],
      additionalProperties: false,
    };
    const response = await sdk.send(
      new ConverseCommand({
        modelId: CLAUDE,
        messages: [{ role: 'user', content: [{ text: 'A person' }] }],
        outputConfig: {
          textFormat: {
            type: 'json_schema',
            structure: { jsonSchema: { name: 'person', schema: JSON.stringify(schema) } },
          },
        },
      }),
    );
    assert.ok(validateJsonSchema(schema, JSON.parse(response.output!.message!.content![0]!.text!)).ok);
  });

  test('reasoning comes signed; sent back unaltered it is accepted, altered it is refused', async () => {
    const messages: Message[] = [{ role: 'user', content: [{ text: 'Think about it' }] }];
    const thinking = { thinking: { type: 'enabled', budget_tokens: 1024 } };
    const first = await sdk.send(
      new ConverseCommand({
        modelId: CLAUDE,
        messages,
        additionalModelRequestFields: thinking,
        inferenceConfig: { maxTokens: 2048 },
      }),
    );
    const [reasoning, answer] = first.output!.message!.content!;
    assert.ok(reasoning?.reasoningContent?.reasoningText?.signature);
    assert.ok(answer?.text);
    const next = (content: Message['content']) => [
      ...messages,
      { role: 'assistant' as const, content },
      { role: 'user' as const, content: [{ text: 'And?' }] },
    ];
    await sdk.send(new ConverseCommand({ modelId: CLAUDE, messages: next(first.output!.message!.content) }));
    const text = reasoning.reasoningContent.reasoningText.text!;
    const altered = [
      {
        reasoningContent: {
          reasoningText: { text: `${text} `, signature: reasoning.reasoningContent.reasoningText.signature },
        },
      },
      answer,
    ];
    const error = await rejected({ messages: next(altered) });
    assert.equal(
      error.message,
      'The model returned the following errors: messages.1.content.0: Invalid `signature` in `thinking` block',
    );
  });

  test('broken conversations are ValidationExceptions with Bedrock’s messages', async () => {
    const user = (text: string): Message => ({ role: 'user', content: [{ text }] });
    const call = (id: string, name = 'get_time'): NonNullable<Message['content']>[number] => ({
      toolUse: { toolUseId: id, name, input: {} },
    });
    const result = (id: string) => ({ toolResult: { toolUseId: id, content: [{ text: 'r' }] } });
    const cases: Array<[Omit<ConverseCommandInput, 'modelId'>, string, string?]> = [
      [
        {
          messages: [
            user('x'),
            { role: 'assistant', content: [call('t1')] },
            { role: 'user', content: [result('t1')] },
          ],
        },
        'The toolConfig field must be defined when using toolUse and toolResult content blocks.',
      ],
      [
        {
          messages: [
            user('x'),
            { role: 'assistant', content: [call('t1', 'web.search')] },
            { role: 'user', content: [result('t1')] },
          ],
          toolConfig,
        },
        "1 validation error detected: Value at 'messages.2.member.content.1.member.toolUse.name' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+",
      ],
      [
        {
          messages: [
            user('x'),
            { role: 'assistant', content: [call('t1'), call('t1')] },
            { role: 'user', content: [result('t1'), result('t1')] },
          ],
          toolConfig,
        },
        'The toolUse blocks at messages.1.content contain duplicate Ids: t1',
      ],
      [
        { messages: [user('x'), { role: 'assistant', content: [] }, user('y')] },
        'The content field in the Message object at messages.1 is empty. Add a ContentBlock object to the content field and try again.',
      ],
      [
        {
          messages: [
            {
              role: 'user',
              content: [
                { reasoningContent: { reasoningText: { text: 'hm', signature: 's' } } },
                { text: 'x' },
              ],
            },
          ],
        },
        'User messages cannot contain reasoning content. Please remove the reasoning content and try again.',
      ],
      [
        {
          messages: [user('x')],
          toolConfig: { ...toolConfig, toolChoice: { any: {} } },
          additionalModelRequestFields: { thinking: { type: 'enabled', budget_tokens: 1024 } },
        },
        'The model returned the following errors: Thinking may not be enabled when tool_choice forces tool use.',
      ],
      [
        {
          messages: [
            user('x'),
            { role: 'assistant', content: [{ text: 'hi' }] },
            { role: 'user', content: [result('t9')] },
          ],
          toolConfig,
        },
        'The number of toolResult blocks at messages.2.content exceeds the number of toolUse blocks of previous turn.',
      ],
      [
        {
          messages: [
            user('x'),
            { role: 'assistant', content: [call('t1')] },
            { role: 'user', content: [result('t2')] },
          ],
          toolConfig,
        },
        'The model returned the following errors: messages.2.content.0: unexpected `tool_use_id` found in `tool_result` blocks: t2. Each `tool_result` block must have a corresponding `tool_use` block in the previous message.',
      ],
      [
        {
          messages: [
            user('x'),
            { role: 'assistant', content: [call('t1')] },
            { role: 'user', content: [result('t1'), { text: 'and?' }] },
          ],
          toolConfig,
        },
        'messages.2.content: Conversation blocks and tool result blocks cannot be provided in the same turn.',
      ],
      [
        { messages: [user('x'), user('y')] },
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      ],
      [
        { messages: [user('x')], toolConfig: { ...toolConfig, toolChoice: { any: {} } } },
        "This model doesn't support the toolConfig.toolChoice.any field. Remove toolConfig.toolChoice.any and try again.",
        'meta.llama3-1-70b-instruct-v1:0',
      ],
    ];
    for (const [input, message, model] of cases) {
      const error = await rejected(input, model);
      assert.equal(error.message, message);
    }
  });
});

describe('our client against the emulator', () => {
  test('Bedrock’s refusals are LLMBadRequestErrors carrying the message and the exception name', async () => {
    const llm = bedrockClient();
    const error = await llm
      .complete({
        messages: [
          { role: 'user', content: 'x' },
          {
            role: 'assistant',
            content: [{ type: 'tool-call', id: 't1', name: 'get_time', arguments: '{}' }],
          },
          { role: 'tool', toolCallId: 't1', content: 'r' },
        ],
        tools: [{ name: 'get_time', parameters: { type: 'object', properties: {} } }],
        headers: { 'x-emulator-fault': 'none' },
        providerOptions: { bedrock: { additionalModelRequestFields: { tool_choice: { type: 'auto' } } } },
        toolChoice: 'auto',
      })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof LLMBadRequestError, String(error));
    assert.equal(error.providerCode, 'ValidationException');
    assert.match(
      error.message,
      /tool_choice\/type conflicts with the existing field toolConfig\.toolChoice\.auto/,
    );
  });
});
