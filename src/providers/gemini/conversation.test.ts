/**
 * Whole conversations on the Gemini wire, from the recorded payloads: function calls, thought summaries and
 * thought signatures read into `result.message` (whole and in 5-byte chunks), and that message sent back
 * the way Gemini requires — each signature on the part it came on, byte for byte, made-up ids never sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import { LLMContentFilterError } from '../../spec/errors.ts';
import type { Json } from '../../spec/json.ts';
import type { ChatMessage, CompletionRequest, ResultMessage } from '../../spec/types.ts';
import { fixtureJson, fixtureText } from '../../test-support/fixtures.ts';
import { ReplayHarness } from '../../test-support/replay-harness.ts';

const P = 'gemini';
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const client = (model = 'gemini-2.5-flash'): LLMClient =>
  factory.createClient(`gemini/${model}`, {
    apiKey: 'gemini-test-key-not-real',
    baseURL: harness.url,
    maxRetries: 0,
  });
const sse = (file: string, chunkSize?: number) => ({
  body: fixtureText(P, file),
  headers: { 'content-type': 'text/event-stream' },
  ...(chunkSize ? { chunkSize } : {}),
});
const sentBody = () => JSON.parse(harness.server.requests.at(-1)!.body) as Json;
const ok = () => ({ body: fixtureText(P, 'fbtd.googleai.unary-success-basic-reply-short.json') });

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

type Part = Json & { thoughtSignature?: string; thought?: boolean; text?: string; functionCall?: Json };
/** The parts of a recorded response, or of all the chunks of a recorded stream, in order. */
function recordedParts(file: string): Part[] {
  const bodies = file.endsWith('.json')
    ? [fixtureJson<Json>(P, file)]
    : fixtureText(P, file)
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => JSON.parse(line.slice(5)) as Json);
  return bodies.flatMap(
    (body) =>
      ((body.candidates as Json[] | undefined)?.[0]?.content as { parts?: Part[] } | undefined)?.parts ?? [],
  );
}

/** What a message looks like, for comparisons: each part's type, text or call, and its Gemini state. */
function shape(message: ResultMessage): unknown[] {
  return message.content.map((part) => {
    const state = part.providerMetadata?.gemini;
    if (part.type === 'tool-call') return { call: part.name, arguments: part.arguments, state };
    return { [part.type]: part.text, ...(state ? { state } : {}) };
  });
}

async function both(file: string, chunkSize = 5) {
  const whole = file.endsWith('.json');
  if (whole) return { message: (await harness.complete(client(), { body: fixtureText(P, file) })).message };
  const { finish, events } = await harness.stream(client(), sse(file, chunkSize));
  return { message: finish.message, events, finish };
}

describe('recorded Gemini answers become messages with their signatures', () => {
  for (const file of [
    'generateContent.functionCall.json',
    'streamGenerateContent.sse.functionCall.reframed.sse',
  ]) {
    test(`${file}: a tool call carrying its thoughtSignature; finish tool-calls`, async () => {
      const { message, events } = await both(file);
      const signature = recordedParts(file).find((part) => part.functionCall)!.thoughtSignature!;
      assert.deepEqual(shape(message), [
        {
          call: 'weather',
          arguments: '{"location":"San Francisco"}',
          state: { thoughtSignature: signature, syntheticId: true },
        },
      ]);
      if (events) {
        const calls = events.filter((event) => event.type === 'tool-call');
        assert.equal(calls.length, 1);
        assert.equal(calls[0]!.arguments, '{"location":"San Francisco"}');
        assert.ok(!events.some((event) => event.type === 'text-delta'), 'the trailing empty text is no text');
      }
    });
  }

  for (const file of [
    'fbtd.googleai.unary-success-thinking-function-call-thought-summary-signature.json',
    'fbtd.googleai.streaming-success-thinking-function-call-thought-summary-signature.sse',
  ]) {
    test(`${file}: the thought summary is reasoning, then the call with its signature and '{}'`, async () => {
      const { message, events } = await both(file);
      const parts = recordedParts(file);
      const thoughts = parts
        .filter((part) => part.thought)
        .map((part) => part.text)
        .join('');
      assert.deepEqual(shape(message), [
        { reasoning: thoughts },
        {
          call: 'now',
          arguments: '{}',
          state: {
            thoughtSignature: parts.find((part) => part.functionCall)!.thoughtSignature,
            syntheticId: true,
          },
        },
      ]);
      if (events) {
        const reasoning = events.filter((event) => event.type === 'reasoning-delta');
        assert.equal(reasoning.map((event) => event.text).join(''), thoughts);
        assert.ok(reasoning.length >= 2, 'streamed as it came');
      }
    });
  }

  for (const [file, text] of [
    [
      'generateContent.text.gemini-3-pro-preview.json',
      "There are **3** r's in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.",
    ],
    [
      'streamGenerateContent.sse.text.gemini-3-pro-preview.reframed.sse',
      'There are **3** "r"s in strawberry.\n\nst**r**awbe**rr**y',
    ],
    [
      'generateContent.thought-parts.json',
      'There are **3** "r"s in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.',
    ],
    [
      'streamGenerateContent.sse.thought-parts.reframed.sse',
      'There are **3** "r"s in strawberry.\n\nHere is the breakdown: st**r**awbe**rr**y.',
    ],
  ] as const) {
    test(`${file}: one text part with the signature (a stream's trailing empty part goes to the text)`, async () => {
      const { message } = await both(file);
      const signature = recordedParts(file).find((part) => part.thoughtSignature)!.thoughtSignature;
      assert.deepEqual(shape(message), [{ text, state: { thoughtSignature: signature } }]);
    });
  }

  for (const file of [
    'fbtd.googleai.unary-success-thinking-reply-thought-summary.json',
    'fbtd.googleai.streaming-success-thinking-reply-thought-summary.sse',
  ]) {
    test(`${file}: reasoning first, then the answer; result.reasoning`, async () => {
      const parts = recordedParts(file);
      const thoughts = parts
        .filter((part) => part.thought)
        .map((part) => part.text)
        .join('');
      if (file.endsWith('.json')) {
        const result = await harness.complete(client(), { body: fixtureText(P, file) });
        assert.deepEqual(shape(result.message), [{ reasoning: thoughts }, { text: 'Mountain View' }]);
        assert.equal(result.reasoning, thoughts);
      } else {
        const { finish } = await harness.stream(client(), sse(file, 5));
        assert.deepEqual(
          finish.message.content.map((part) => part.type),
          ['reasoning', 'text'],
        );
        const [first] = finish.message.content;
        assert.equal(first?.type === 'reasoning' && first.text, thoughts);
      }
    });
  }

  test('vertex.streamGenerateContent.partialArgs.reframed.sse: each call ends at its closing piece, signature on the first', async () => {
    const { events, finish } = await harness.stream(
      client(),
      sse('vertex.streamGenerateContent.partialArgs.reframed.sse', 5),
    );
    const calls = events.filter((event) => event.type === 'tool-call');
    assert.deepEqual(
      calls.map((call) => [call.index, call.arguments]),
      [
        [0, '{"location":"Boston"}'],
        [1, '{"location":"San Francisco"}'],
      ],
    );
    // The first call ended before the second began.
    const secondStart = events.findIndex((event) => event.type === 'tool-call-delta' && event.index === 1);
    assert.ok(events.indexOf(calls[0]!) < secondStart);
    const signature = recordedParts('vertex.streamGenerateContent.partialArgs.reframed.sse')[0]!
      .thoughtSignature;
    assert.deepEqual(
      finish.message.content.map((part) => part.providerMetadata?.gemini?.thoughtSignature),
      [signature, undefined],
    );
  });

  test('same-name parallel calls in separate stream events get distinct indexes and ids', async () => {
    const parts = recordedParts('fbtd.vertexai.unary-success-function-call-parallel-calls.json');
    const body = parts
      .map((part, i) => {
        const candidate = {
          content: { role: 'model', parts: [part] },
          ...(i === parts.length - 1 ? { finishReason: 'STOP' } : {}),
        };
        return `data: ${JSON.stringify({ candidates: [candidate] })}\r\n\r\n`;
      })
      .join('');
    const { events, finish } = await harness.stream(client(), { body, chunkSize: 5 });
    const calls = events.filter((event) => event.type === 'tool-call');
    assert.deepEqual(
      calls.map((call) => [call.index, call.name, call.arguments]),
      [
        [0, 'sum', '{"y":1,"x":2}'],
        [1, 'sum', '{"y":3,"x":4}'],
        [2, 'sum', '{"y":5,"x":6}'],
      ],
    );
    assert.equal(new Set(calls.map((call) => call.id)).size, 3);
    assert.equal(finish.finishReason, 'tool-calls');
  });

  test('a SAFETY stop is content-filter, and generateObject says so with LLMContentFilterError', async () => {
    const llm = client();
    harness.next = { body: fixtureText(P, 'fbtd.googleai.unary-failure-finish-reason-safety.json') };
    const error = await llm
      .generateObject({ schema: z.object({ a: z.string() }), prompt: 'x' })
      .catch((caught: unknown) => caught);
    await llm.close();
    assert.ok(error instanceof LLMContentFilterError, String(error));
  });
});

describe('result.message goes back the way Gemini requires', () => {
  async function secondTurn(first: ResultMessage, model: string, extra: Partial<CompletionRequest> = {}) {
    const call = first.content.find((part) => part.type === 'tool-call');
    const messages: ChatMessage[] = [
      { role: 'user', content: 'What is the weather in San Francisco?' },
      first,
    ];
    if (call) messages.push({ role: 'tool', toolCallId: call.id, content: 'sunny, 18°C' });
    await harness.complete(client(model), ok(), { messages, ...extra });
    return sentBody().contents as Array<{ role: string; parts: Part[] }>;
  }

  for (const file of [
    'generateContent.functionCall.json',
    'streamGenerateContent.sse.functionCall.reframed.sse',
  ]) {
    test(`${file}: the model turn replays the recorded part byte for byte, then the functionResponse`, async () => {
      const { message } = await both(file);
      const contents = await secondTurn(message, 'gemini-3-pro-preview');
      const recorded = recordedParts(file).filter((part) => part.functionCall);
      assert.deepEqual(contents.slice(1), [
        { role: 'model', parts: recorded },
        {
          role: 'user',
          parts: [{ functionResponse: { name: 'weather', response: { output: 'sunny, 18°C' } } }],
        },
      ]);
    });
  }

  test('a thought summary is not sent back; the signed call is', async () => {
    const { message } = await both(
      'fbtd.googleai.unary-success-thinking-function-call-thought-summary-signature.json',
    );
    const contents = await secondTurn(message, 'gemini-2.5-pro');
    const call = recordedParts(
      'fbtd.googleai.unary-success-thinking-function-call-thought-summary-signature.json',
    )[1]!;
    assert.deepEqual(contents[1], { role: 'model', parts: [call] });
  });

  for (const file of [
    'generateContent.text.gemini-3-pro-preview.json',
    'streamGenerateContent.sse.text.gemini-3-pro-preview.reframed.sse',
  ]) {
    test(`${file}: the signed text goes back with its signature`, async () => {
      const { message } = await both(file);
      const contents = await secondTurn(message, 'gemini-3-pro-preview', { prompt: 'And in blueberry?' });
      const signature = recordedParts(file).find((part) => part.thoughtSignature)!.thoughtSignature;
      const [first] = message.content;
      const text = first?.type === 'text' ? first.text : '';
      assert.deepEqual(contents[1], { role: 'model', parts: [{ text, thoughtSignature: signature }] });
      assert.deepEqual(contents[2], { role: 'user', parts: [{ text: 'And in blueberry?' }] });
    });
  }

  test('an id Gemini gave goes back on the call and on its response', async () => {
    const body = fixtureJson<Json>(P, 'generateContent.functionCall.json');
    const content = (body.candidates as Json[])[0]!.content as { parts: Part[] };
    content.parts[0]!.functionCall!.id = 'call_4162774';
    const first = await harness.complete(client('gemini-3-pro-preview'), { body: JSON.stringify(body) });
    assert.equal(first.toolCalls[0]!.id, 'call_4162774');
    assert.equal(first.message.content[0]!.providerMetadata?.gemini?.syntheticId, undefined);
    const contents = await secondTurn(first.message, 'gemini-3-pro-preview');
    assert.equal(contents[1]!.parts[0]!.functionCall!.id, 'call_4162774');
    assert.deepEqual(contents[2]!.parts[0], {
      functionResponse: { name: 'weather', response: { output: 'sunny, 18°C' }, id: 'call_4162774' },
    });
  });

  test('Gemini 3: a call that never had a signature goes with skip_thought_signature_validator, and a warning', async () => {
    const foreign: ResultMessage = {
      role: 'assistant',
      content: [
        {
          type: 'reasoning',
          text: 'Thinking elsewhere',
          providerMetadata: { anthropic: { signature: 'sig' } },
        },
        { type: 'tool-call', id: 'toolu_1', name: 'weather', arguments: '{"location":"Paris"}' },
        { type: 'tool-call', id: 'toolu_2', name: 'weather', arguments: '{"location":"Rome"}' },
      ],
    };
    const messages: ChatMessage[] = [
      { role: 'user', content: 'Weather?' },
      foreign,
      { role: 'tool', toolCallId: 'toolu_1', content: '{"sky":"clear"}' },
      { role: 'tool', toolCallId: 'toolu_2', content: 'rain', isError: true },
    ];
    const result = await harness.complete(client('gemini-3-flash-preview'), ok(), { messages });
    const contents = sentBody().contents as Array<{ parts: Part[] }>;
    assert.deepEqual(contents[1]!.parts, [
      {
        functionCall: { name: 'weather', args: { location: 'Paris' }, id: 'toolu_1' },
        thoughtSignature: 'skip_thought_signature_validator',
      },
      { functionCall: { name: 'weather', args: { location: 'Rome' }, id: 'toolu_2' } },
    ]);
    assert.deepEqual(contents[2]!.parts, [
      { functionResponse: { name: 'weather', response: { sky: 'clear' }, id: 'toolu_1' } },
      { functionResponse: { name: 'weather', response: { error: 'rain' }, id: 'toolu_2' } },
    ]);
    const codes = result.warnings?.map((warning) => warning.code);
    assert.deepEqual(codes, ['metadata-dropped', 'thought-signature-skipped']);
    await harness.complete(client('gemini-2.5-flash'), ok(), { messages });
    assert.equal(
      (sentBody().contents as Array<{ parts: Part[] }>)[1]!.parts[0]!.thoughtSignature,
      undefined,
      'not before 3',
    );
  });

  test('a tool result holding $ref or $defs goes as text, never as an object Gemini would read as a schema', async () => {
    const { message } = await both('generateContent.functionCall.json');
    const call = message.content[0]!;
    assert.equal(call.type, 'tool-call');
    const schemaLike = JSON.stringify({ type: 'object', $defs: { A: { type: 'string' } } });
    await harness.complete(client(), ok(), {
      messages: [
        { role: 'user', content: 'x' },
        message,
        { role: 'tool', toolCallId: call.type === 'tool-call' ? call.id : '', content: schemaLike },
      ],
    });
    const contents = sentBody().contents as Array<{ parts: Part[] }>;
    assert.deepEqual(contents[2]!.parts[0]!.functionResponse, {
      name: 'weather',
      response: { output: schemaLike },
    });
  });
});
