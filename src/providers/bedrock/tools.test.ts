/**
 * Tools and tool choice on the Converse wire: the bodies we send obey Converse's rules (toolConfig whenever
 * the history has tool blocks, no `none`, choices per model family, results grouped, names and ids in
 * Bedrock's alphabet), and what Converse cannot take fails before sending.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LLMBadRequestError, LLMUnsupportedError } from '../../spec/errors.ts';
import type { ChatMessage } from '../../spec/types.ts';
import { converseHarness } from '../../test-support/converse-harness.ts';

const { send, refused } = converseHarness();

const weather = {
  name: 'get_weather',
  description: 'Weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
};
const time = { name: 'get_time', description: '', parameters: { type: 'object', properties: {} } };
const history: ChatMessage[] = [
  { role: 'user', content: 'Weather in Oslo?' },
  {
    role: 'assistant',
    content: [{ type: 'tool-call', id: 'call_1', name: 'get_weather', arguments: '{"city":"Oslo"}' }],
  },
  { role: 'tool', toolCallId: 'call_1', content: '{"temp":21}' },
];

describe('tools and tool choice obey Converse', () => {
  test('toolSpec with inputSchema.json (no $schema, no empty description); choices auto, any, tool', async () => {
    const schema = { $schema: 'https://json-schema.org/draft/2020-12/schema', ...weather.parameters };
    const { body } = await send({
      prompt: 'x',
      tools: [{ ...weather, parameters: schema }, time],
      toolChoice: 'required',
    });
    assert.deepEqual(body.toolConfig, {
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'Weather for a city',
            inputSchema: { json: weather.parameters },
          },
        },
        { toolSpec: { name: 'get_time', inputSchema: { json: time.parameters } } },
      ],
      toolChoice: { any: {} },
    });
    const named = await send({
      prompt: 'x',
      tools: [weather, time],
      toolChoice: { type: 'tool', name: 'get_time' },
    });
    assert.deepEqual((named.body.toolConfig as { toolChoice: unknown }).toolChoice, {
      tool: { name: 'get_time' },
    });
    const auto = await send({ prompt: 'x', tools: [weather], toolChoice: 'auto' });
    assert.deepEqual((auto.body.toolConfig as { toolChoice: unknown }).toolChoice, { auto: {} });
    const implicit = await send({ prompt: 'x', tools: [weather] });
    assert.equal((implicit.body.toolConfig as { toolChoice?: unknown }).toolChoice, undefined);
  });

  test('a named tool on a model without `tool` (gpt-oss) is `any` with that tool alone; Llama takes auto only', async () => {
    const { body } = await send(
      { prompt: 'x', tools: [weather, time], toolChoice: { type: 'tool', name: 'get_time' } },
      'openai.gpt-oss-120b-1:0',
    );
    assert.deepEqual(body.toolConfig, {
      tools: [{ toolSpec: { name: 'get_time', inputSchema: { json: time.parameters } } }],
      toolChoice: { any: {} },
    });
    const error = await refused(
      { prompt: 'x', tools: [weather], toolChoice: 'required' },
      'meta.llama3-1-70b-instruct-v1:0',
    );
    assert.ok(error instanceof LLMUnsupportedError, String(error));
    assert.match(
      error.message,
      /bedrock model meta\.llama3-1-70b-instruct-v1:0 does not support toolChoice required/,
    );
  });

  test("history with tool calls keeps toolConfig: 'none' offers the tools without a choice, with a warning", async () => {
    const { body, result } = await send({ messages: history, tools: [weather], toolChoice: 'none' });
    assert.deepEqual(body.toolConfig, {
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'Weather for a city',
            inputSchema: { json: weather.parameters },
          },
        },
      ],
    });
    assert.deepEqual(
      result.warnings?.map((warning) => warning.code),
      ['setting-changed'],
    );
    const fresh = await send({ prompt: 'x', tools: [weather], toolChoice: 'none' });
    assert.equal(fresh.body.toolConfig, undefined, "without tool history, 'none' leaves the tools out");
  });

  test('history with tool calls and no tools: specs made from the history, with a warning', async () => {
    const { body, result } = await send({
      messages: [
        ...history,
        { role: 'assistant', content: 'It is 21.' },
        { role: 'user', content: 'Thanks' },
      ],
    });
    assert.deepEqual(body.toolConfig, {
      tools: [
        {
          toolSpec: {
            name: 'get_weather',
            description: 'Called earlier in this conversation; not available now.',
            inputSchema: { json: { type: 'object' } },
          },
        },
      ],
    });
    assert.equal(result.warnings?.[0]?.code, 'tools-synthesized');
  });

  test('parallelToolCalls: false is Claude’s own tool_choice (no toolConfig.toolChoice); elsewhere a warning', async () => {
    const { body } = await send({
      prompt: 'x',
      tools: [weather],
      toolChoice: 'required',
      parallelToolCalls: false,
    });
    assert.deepEqual(body.additionalModelRequestFields, {
      tool_choice: { type: 'any', disable_parallel_tool_use: true },
    });
    assert.equal((body.toolConfig as { toolChoice?: unknown }).toolChoice, undefined);
    const nova = await send(
      { prompt: 'x', tools: [weather], parallelToolCalls: false },
      'amazon.nova-pro-v1:0',
    );
    assert.equal(nova.body.additionalModelRequestFields, undefined);
    assert.match(nova.result.warnings?.[0]?.message ?? '', /parallelToolCalls/);
  });

  test('results of parallel calls in one user turn; text after them inside the last; ids mapped; errors', async () => {
    const { body, result } = await send({
      messages: [
        { role: 'user', content: 'Both' },
        {
          role: 'assistant',
          content: [
            { type: 'tool-call', id: 'call:1/abc', name: 'get_weather', arguments: '{"city":"Oslo"}' },
            { type: 'tool-call', id: 'call_2', name: 'get_time', arguments: '' },
          ],
        },
        { role: 'tool', toolCallId: 'call:1/abc', content: '21' },
        { role: 'tool', toolCallId: 'call_2', content: '', isError: true },
        { role: 'user', content: 'And in Bergen?' },
      ],
      tools: [weather, time],
    });
    const mapped = (body.messages[1]!.content[0]!.toolUse as { toolUseId: string }).toolUseId;
    assert.match(mapped, /^[a-zA-Z0-9_-]{1,64}$/);
    assert.deepEqual(body.messages[1]!.content[1], {
      toolUse: { toolUseId: 'call_2', name: 'get_time', input: {} },
    });
    assert.deepEqual(body.messages.slice(2), [
      {
        role: 'user',
        content: [
          { toolResult: { toolUseId: mapped, content: [{ text: '21' }] } },
          {
            toolResult: {
              toolUseId: 'call_2',
              content: [{ text: '(empty result)' }, { text: 'And in Bergen?' }],
              status: 'error',
            },
          },
        ],
      },
    ]);
    assert.deepEqual(
      result.warnings?.map((warning) => warning.code),
      ['content-changed', 'message-merged'],
    );
  });

  test('a tool result with no call before it, and arguments that are not an object, are refused before sending', async () => {
    const orphan = await refused({ messages: [{ role: 'tool', toolCallId: 'call_x', content: 'r' }] });
    assert.ok(orphan instanceof LLMBadRequestError);
    assert.match(orphan.message, /messages\[0\].*call_x/);
    const cut = await refused({
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: [{ type: 'tool-call', id: 'c1', name: 'get_weather', arguments: '{"city":"Os' }],
        },
        { role: 'tool', toolCallId: 'c1', content: 'r' },
      ],
      tools: [weather],
    });
    assert.ok(cut instanceof LLMBadRequestError);
    assert.match(cut.message, /messages\[1\]\.content\[0\]\.arguments/);
  });

  test('a history tool name outside [a-zA-Z0-9_-] is changed, with a warning', async () => {
    const { body, result } = await send({
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: [{ type: 'tool-call', id: 'c1', name: 'web.search', arguments: '{}' }],
        },
        { role: 'tool', toolCallId: 'c1', content: 'r' },
      ],
      tools: [weather],
    });
    assert.equal((body.messages[1]!.content[0]!.toolUse as { name: string }).name, 'web_search');
    assert.equal(result.warnings?.[0]?.code, 'tool-name-changed');
  });
});
