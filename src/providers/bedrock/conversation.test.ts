/**
 * Whole conversations on the Converse wire: the recorded tool-call and reasoning payloads read into
 * messages with their opaque state (whole and in small chunks), and sent back byte for byte on the next
 * turn.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { eventFrame } from '../../emulator/bedrock-converse-stream.ts';
import { converseHarness } from '../../test-support/converse-harness.ts';
import { fixtureBytes, fixtureJson, fixtureText } from '../../test-support/fixtures.ts';

const P = 'bedrock';
const EVENTSTREAM = { 'content-type': 'application/vnd.amazon.eventstream' };
const harness = converseHarness();
const { client, send } = harness;

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
      const { events: seen, finish } = await harness.replay.stream(client(), {
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
      const { events: seen, finish } = await harness.replay.stream(client(), {
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
      } = await harness.replay.stream(client(), {
        headers: EVENTSTREAM,
        body: fixtureBytes(P, 'converse-stream.reasoning.reframed.eventstream.bin'),
        ...(chunkSize ? { chunkSize } : {}),
      });
      const reasoningDeltas = seen.filter((event) => event.type === 'reasoning-delta');
      assert.equal(reasoningDeltas.map((event) => event.text).join(''), thought);
      assert.ok(
        reasoningDeltas.every((event) => (event.text !== '') !== (event.signature !== undefined)),
        'text, or the signature alone',
      );
      // The signature once, whole, as the block's last delta.
      assert.deepEqual(
        reasoningDeltas.filter((event) => event.signature !== undefined),
        [{ type: 'reasoning-delta', text: '', signature }],
      );
      assert.equal(reasoningDeltas.at(-1)?.signature, signature);
      assert.equal(text, answer);
      assert.deepEqual(finish.message.content, [
        { type: 'reasoning', text: thought, providerMetadata: { bedrock: { signature } } },
        { type: 'text', text: answer },
      ]);
      assert.equal(finish.finishReason, 'stop');
    });
  }
});

test('a call ends at its own contentBlockStop, before the blocks after it; redacted reasoning is its own part', async () => {
  const frames = [
    eventFrame('messageStart', { role: 'assistant' }),
    eventFrame('contentBlockDelta', {
      contentBlockIndex: 0,
      delta: { reasoningContent: { redactedContent: 'cmVk' } },
    }),
    eventFrame('contentBlockDelta', {
      contentBlockIndex: 0,
      delta: { reasoningContent: { redactedContent: 'YWN0' } },
    }),
    eventFrame('contentBlockStop', { contentBlockIndex: 0 }),
    eventFrame('contentBlockStart', {
      contentBlockIndex: 1,
      start: { toolUse: { toolUseId: 'tu_1', name: 'lookup' } },
    }),
    eventFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '{"q":' } } }),
    eventFrame('contentBlockDelta', { contentBlockIndex: 1, delta: { toolUse: { input: '"x"}' } } }),
    eventFrame('contentBlockStop', { contentBlockIndex: 1 }),
    eventFrame('contentBlockDelta', { contentBlockIndex: 2, delta: { text: 'Looking it up.' } }),
    eventFrame('contentBlockStop', { contentBlockIndex: 2 }),
    eventFrame('messageStop', { stopReason: 'tool_use' }),
    eventFrame('metadata', { usage: { inputTokens: 5, outputTokens: 7, totalTokens: 12 } }),
  ];
  const { events: seen, finish } = await harness.replay.stream(client(), {
    headers: EVENTSTREAM,
    body: Buffer.concat(frames),
    chunkSize: 5,
  });
  const call = seen.findIndex((event) => event.type === 'tool-call');
  const text = seen.findIndex((event) => event.type === 'text-delta');
  assert.ok(call !== -1 && call < text, 'the call ended before the next block began');
  assert.deepEqual(finish.message.content, [
    { type: 'reasoning', text: '', providerMetadata: { bedrock: { redactedContent: 'cmVkYWN0' } } },
    { type: 'tool-call', id: 'tu_1', name: 'lookup', arguments: '{"q":"x"}' },
    { type: 'text', text: 'Looking it up.' },
  ]);
});

describe('the next turn sends the assistant message back exactly', () => {
  test('signed reasoning and text from converse.nonstream.reasoning.json, byte for byte', async () => {
    const first = await harness.replay.complete(client(), {
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
    const first = await harness.replay.complete(client(), {
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
