/**
 * Whole conversations on the Converse wire: the recorded tool-call and reasoning payloads read into
 * messages with their opaque state (whole and in small chunks), sent back byte for byte on the next turn,
 * and the tool rules of Converse obeyed by the bodies we send.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import { LLMBadRequestError, LLMUnsupportedError } from '../../spec/errors.ts';
import type { ChatMessage, CompletionRequest, CompletionResult } from '../../spec/types.ts';
import { fixtureBytes, fixtureJson, fixtureText } from '../../test-support/fixtures.ts';
import { ReplayHarness } from '../../test-support/replay-harness.ts';

const P = 'bedrock';
const CLAUDE = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const EVENTSTREAM = { 'content-type': 'application/vnd.amazon.eventstream' };
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const client = (model = CLAUDE): LLMClient =>
  factory.createClient(`bedrock/${model}`, {
    region: 'us-east-1',
    baseURL: harness.url,
    apiKey: 'test-key-not-real',
    maxRetries: 0,
  });
const ok = () => ({ body: fixtureText(P, 'converse.nonstream.text.json') });
type Body = Record<string, unknown> & {
  messages: Array<{ role: string; content: Array<Record<string, unknown>> }>;
};
const sentBody = () => JSON.parse(harness.server.requests.at(-1)!.body) as Body;

async function send(
  request: CompletionRequest,
  model = CLAUDE,
): Promise<{ body: Body; result: CompletionResult }> {
  const result = await harness.complete(client(model), ok(), request);
  return { body: sentBody(), result };
}

/** The error a request fails with before anything is sent. */
async function refused(request: CompletionRequest, model = CLAUDE): Promise<unknown> {
  const before = harness.server.requests.length;
  const llm = client(model);
  const error = await llm.complete(request).then(
    () => assert.fail('expected the request to be refused'),
    (caught: unknown) => caught,
  );
  await llm.close();
  assert.equal(harness.server.requests.length, before, 'nothing was sent');
  return error;
}

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

interface DeltaPayload {
  delta: { text?: string; reasoningContent?: { text?: string; signature?: string } };
}

/** The `contentBlockDelta` payloads of a `.events.jsonl`. */
function blockDeltas(file: string): DeltaPayload[] {
  return fixtureText(P, file)
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { contentBlockDelta?: DeltaPayload })
    .flatMap((event) => (event.contentBlockDelta ? [event.contentBlockDelta] : []));
}

describe('recorded streams become parts, with tool-call events at contentBlockStop', () => {
  for (const chunkSize of [undefined, 1, 7]) {
    const chunked = chunkSize ? ` in ${chunkSize}-byte chunks` : '';
    test(`converse-stream.tool-call${chunked}: one call, ended by its contentBlockStop`, async () => {
      const { events: seen, finish } = await harness.stream(client(), {
        headers: EVENTSTREAM,
        body: fixtureBytes(P, 'converse-stream.tool-call.reframed.eventstream.bin'),
        ...(chunkSize ? { chunkSize } : {}),
      });
      const calls = seen.filter((event) => event.type === 'tool-call');
      assert.deepEqual(calls, [
        {
          type: 'tool-call',
          index: 0,
          id: 'tool-use-id',
          name: 'test-tool',
          arguments: '{"value":"Sparkle Day"}',
        },
      ]);
      const at = seen.indexOf(calls[0]!);
      assert.ok(
        seen.slice(at).every((event) => event.type !== 'tool-call-delta'),
        'after every delta',
      );
      assert.equal(finish.finishReason, 'tool-calls');
      assert.deepEqual(finish.message.content, [
        { type: 'tool-call', id: 'tool-use-id', name: 'test-tool', arguments: '{"value":"Sparkle Day"}' },
      ]);
    });

    test(`converse-stream.tool-no-args${chunked}: text, then a call at block 1 that is call 0 with '{}'`, async () => {
      const { events: seen, finish } = await harness.stream(client(), {
        headers: EVENTSTREAM,
        body: fixtureBytes(P, 'converse-stream.tool-no-args.reframed.eventstream.bin'),
        ...(chunkSize ? { chunkSize } : {}),
      });
      assert.deepEqual(
        seen.filter((event) => event.type === 'tool-call'),
        [{ type: 'tool-call', index: 0, id: 'tool-use-id', name: 'updateIssueList', arguments: '{}' }],
      );
      assert.deepEqual(finish.message.content, [
        { type: 'text', text: "I'll update the issue list for you." },
        { type: 'tool-call', id: 'tool-use-id', name: 'updateIssueList', arguments: '{}' },
      ]);
      assert.equal(finish.finishReason, 'tool-calls');
    });

    test(`converse-stream.reasoning${chunked}: reasoning deltas, exact text, the signature on its part`, async () => {
      const deltas = blockDeltas('converse-stream.reasoning.events.jsonl');
      const thought = deltas.map((d) => d.delta.reasoningContent?.text ?? '').join('');
      const signature = deltas.find((d) => d.delta.reasoningContent?.signature)?.delta.reasoningContent
        ?.signature;
      assert.ok(signature);
      const answer = deltas.map((d) => d.delta.text ?? '').join('');
      const {
        events: seen,
        finish,
        text,
      } = await harness.stream(client(), {
        headers: EVENTSTREAM,
        body: fixtureBytes(P, 'converse-stream.reasoning.reframed.eventstream.bin'),
        ...(chunkSize ? { chunkSize } : {}),
      });
      const reasoningDeltas = seen.filter((event) => event.type === 'reasoning-delta');
      assert.equal(reasoningDeltas.map((event) => event.text).join(''), thought);
      assert.ok(
        reasoningDeltas.every((event) => event.text !== ''),
        'no empty reasoning deltas',
      );
      assert.equal(text, answer);
      assert.deepEqual(finish.message.content, [
        { type: 'reasoning', text: thought, providerMetadata: { bedrock: { signature } } },
        { type: 'text', text: answer },
      ]);
      assert.equal(finish.finishReason, 'stop');
    });
  }
});

describe('the next turn sends the assistant message back exactly', () => {
  test('signed reasoning and text from converse.nonstream.reasoning.json, byte for byte', async () => {
    const first = await harness.complete(client(), {
      body: fixtureText(P, 'converse.nonstream.reasoning.json'),
    });
    const recorded = fixtureJson<{ output: { message: { content: unknown[] } } }>(
      P,
      'converse.nonstream.reasoning.json',
    ).output.message.content;
    const { body } = await send({
      messages: [
        { role: 'user', content: 'How many r in strawberry?' },
        first.message,
        { role: 'user', content: 'Sure?' },
      ],
    });
    assert.deepEqual(body.messages[1], { role: 'assistant', content: recorded });
  });

  test('text and toolUse from converse.nonstream.tool-no-args.json, then the result in the next user turn', async () => {
    const first = await harness.complete(client(), {
      body: fixtureText(P, 'converse.nonstream.tool-no-args.json'),
    });
    const recorded = fixtureJson<{ output: { message: { content: unknown[] } } }>(
      P,
      'converse.nonstream.tool-no-args.json',
    ).output.message.content;
    const { body, result } = await send({
      messages: [
        { role: 'user', content: 'Update the issues' },
        first.message,
        { role: 'tool', toolCallId: 'tool-use-id', content: 'updated 3 issues' },
      ],
      tools: [{ name: 'updateIssueList', parameters: { type: 'object', properties: {} } }],
    });
    assert.deepEqual(body.messages.slice(1), [
      { role: 'assistant', content: recorded },
      {
        role: 'user',
        content: [{ toolResult: { toolUseId: 'tool-use-id', content: [{ text: 'updated 3 issues' }] } }],
      },
    ]);
    assert.equal(result.warnings, undefined);
  });

  test('a redacted block goes back as redactedContent; unsigned and foreign reasoning are not sent', async () => {
    const { body, result } = await send({
      messages: [
        { role: 'user', content: 'x' },
        {
          role: 'assistant',
          content: [
            {
              type: 'reasoning',
              text: '',
              providerMetadata: { bedrock: { redactedContent: 'cmVkYWN0ZWQ=' } },
            },
            { type: 'reasoning', text: 'unsigned thoughts' },
            {
              type: 'reasoning',
              text: 'their thoughts',
              providerMetadata: { anthropic: { signature: 'sig' } },
            },
            { type: 'text', text: 'Answer.' },
          ],
        },
        {
          role: 'assistant',
          content: [{ type: 'reasoning', text: 'only this', providerMetadata: { gemini: {} } }],
        },
        { role: 'user', content: 'y' },
      ],
    });
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ text: 'x' }] },
      {
        role: 'assistant',
        content: [{ reasoningContent: { redactedContent: 'cmVkYWN0ZWQ=' } }, { text: 'Answer.' }],
      },
      { role: 'user', content: [{ text: 'y' }] },
    ]);
    assert.deepEqual(
      result.warnings?.map((warning) => warning.code),
      ['metadata-dropped', 'metadata-dropped'],
    );
  });

  test('a final assistant turn (a prefill) loses its trailing whitespace; empty text parts are dropped', async () => {
    const { body } = await send({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: 'Start a list' },
          ],
        },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: '' },
            { type: 'text', text: '1. apples\n' },
          ],
        },
      ],
    });
    assert.deepEqual(body.messages, [
      { role: 'user', content: [{ text: 'Start a list' }] },
      { role: 'assistant', content: [{ text: '1. apples' }] },
    ]);
  });
});

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
