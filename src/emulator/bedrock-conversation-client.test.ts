/**
 * Our client against the emulator's Converse conversations, signed with SigV4: a tool loop, structured
 * output natively and through a forced tool, signed reasoning sent back (and refused when altered),
 * images and documents acknowledged — whole and streamed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { LLMClientFactory } from '../client/factory.ts';
import { tool } from '../client/tool-loop.ts';
import { LLMBadRequestError, LLMUnsupportedError } from '../spec/errors.ts';
import type { ChatMessage, StreamEvent } from '../spec/types.ts';
import { type Emulator, startEmulator } from './index.ts';

const CLAUDE_45 = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const CLAUDE_46 = 'global.anthropic.claude-sonnet-4-6';
let emulator: Emulator;
const factory = new LLMClientFactory({ env: {} });
const llm = (model = CLAUDE_45) =>
  factory.createClient(`bedrock/${model}`, {
    region: 'us-east-1',
    baseURL: emulator.url,
    credentials: { accessKeyId: 'EMULATORKEYID', secretAccessKey: 'emulator-secret' },
    maxRetries: 0,
  });
/** The JSON body of the last request the emulator received. */
// biome-ignore lint/suspicious/noExplicitAny: the body is read as loosely typed JSON
const lastBody = () => emulator.requests.at(-1)!.body as Record<string, any>;

before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await factory.close();
  await emulator.close();
});

const Person = z.object({
  name: z.string(),
  age: z.number().int().min(0).max(150),
  tags: z.array(z.string()),
});

describe('tools', () => {
  test('runTools: the model calls the tool, gets the result, answers with it', async () => {
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
    assert.match(run.text, /get_weather returned .*temperature\\":21/);
    assert.equal(run.result.finishReason, 'stop');
    assert.equal(run.messages.length, 4, 'user, assistant with the call, tool result, final assistant');
    const sent = lastBody();
    assert.ok(sent.toolConfig, 'the second turn carries toolConfig');
    assert.deepEqual(Object.keys(sent.messages[2].content[0]), ['toolResult']);
  });

  test('a streamed tool call: deltas, then one tool-call event, and the message to send back', async () => {
    const events: StreamEvent[] = [];
    for await (const event of llm().stream({
      prompt: 'weather',
      tools: [
        {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      ],
      toolChoice: { type: 'tool', name: 'get_weather' },
    })) {
      events.push(event);
    }
    const calls = events.filter((event) => event.type === 'tool-call');
    assert.equal(calls.length, 1);
    const joined = events
      .filter((event) => event.type === 'tool-call-delta')
      .map((event) => event.argumentsDelta)
      .join('');
    assert.equal(calls[0]!.arguments, joined);
    assert.equal(typeof JSON.parse(joined).city, 'string');
    const finish = events.at(-1)!;
    assert.ok(finish.type === 'finish' && finish.finishReason === 'tool-calls');
    assert.deepEqual(
      finish.message.content.map((part) => part.type),
      ['tool-call'],
    );
  });
});

describe('structured output', () => {
  test('natively (outputConfig.textFormat) on Claude 4.5, whole and streamed', async () => {
    const { object, result } = await llm().generateObject({ schema: Person, prompt: 'Invent a person' });
    assert.equal(Person.safeParse(object).success, true);
    assert.ok(lastBody().outputConfig?.textFormat, 'sent natively');
    assert.ok(
      result.warnings?.some((warning) => /minimum/.test(warning.message)),
      'the dialect said what moved',
    );
    const events = [];
    for await (const event of llm().streamObject({ schema: Person, prompt: 'Invent a person' }))
      events.push(event);
    const final = events.at(-1)!;
    assert.equal(final.type, 'object');
    assert.ok(events.filter((event) => event.type === 'partial').length > 2);
    assert.deepEqual(final.object, object, 'the same conversation gets the same answer, streamed or not');
  });

  test('through a forced tool where there is no native form (Claude 4.6): Claude’s own tool_choice, one call', async () => {
    const { object } = await llm(CLAUDE_46).generateObject({ schema: Person, prompt: 'Invent a person' });
    assert.equal(Person.safeParse(object).success, true);
    const sent = lastBody();
    assert.equal(sent.outputConfig, undefined);
    assert.deepEqual(sent.additionalModelRequestFields.tool_choice, {
      type: 'tool',
      name: 'json',
      disable_parallel_tool_use: true,
    });
  });

  test('through `any` with the answer tool alone where the model cannot name a tool (gpt-oss), with a warning', async () => {
    const { object, result } = await llm('openai.gpt-oss-120b-1:0').generateObject({
      schema: Person,
      prompt: 'Invent a person',
    });
    assert.equal(Person.safeParse(object).success, true);
    const sent = lastBody();
    assert.deepEqual(sent.toolConfig.toolChoice, { any: {} });
    assert.deepEqual(
      sent.toolConfig.tools.map((tool: { toolSpec: { name: string } }) => tool.toolSpec.name),
      ['json'],
    );
    assert.ok(result.warnings?.some((warning) => /parallelToolCalls/.test(warning.message)));
  });

  test('with reasoning: native on Claude 4.5; refused before sending on Claude 4.6 (a forced tool cannot think)', async () => {
    const { object, result } = await llm().generateObject({
      schema: Person,
      prompt: 'Invent a person',
      reasoning: { effort: 'low' },
    });
    assert.equal(Person.safeParse(object).success, true);
    assert.ok(result.reasoning);
    const before = emulator.requests.length;
    const error = await llm(CLAUDE_46)
      .generateObject({ schema: Person, prompt: 'x', reasoning: { effort: 'low' } })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof LLMUnsupportedError, String(error));
    assert.equal(emulator.requests.length, before);
  });
});

describe('reasoning', () => {
  for (const streamed of [false, true]) {
    test(`signed reasoning ${streamed ? 'streamed' : 'whole'}: sent back it is accepted, altered it is refused`, async () => {
      const client = llm();
      const request = { prompt: 'Think about the weather', reasoning: { budgetTokens: 1024 } };
      let message: ChatMessage;
      if (streamed) {
        let reasoning = '';
        let finish: StreamEvent | undefined;
        for await (const event of client.stream(request)) {
          if (event.type === 'reasoning-delta') reasoning += event.text;
          finish = event;
        }
        assert.ok(finish?.type === 'finish');
        assert.equal(
          finish.message.content[0]?.type === 'reasoning' && finish.message.content[0].text,
          reasoning,
        );
        message = finish.message;
      } else {
        const first = await client.complete(request);
        assert.ok(first.reasoning);
        message = first.message;
      }
      const [thought] = message.content as Array<{
        type: string;
        text: string;
        providerMetadata?: { bedrock?: { signature?: string } };
      }>;
      assert.equal(thought!.type, 'reasoning');
      assert.ok(thought!.providerMetadata?.bedrock?.signature);
      const next = (assistant: ChatMessage): ChatMessage[] => [
        { role: 'user', content: request.prompt },
        assistant,
        { role: 'user', content: 'And tomorrow?' },
      ];
      const second = await client.complete({ messages: next(message), reasoning: request.reasoning });
      assert.equal(second.finishReason, 'stop');
      const altered = {
        ...message,
        content: [{ ...thought!, text: `${thought!.text}!` }, ...(message.content as []).slice(1)],
      } as ChatMessage;
      const error = await client.complete({ messages: next(altered) }).catch((caught: unknown) => caught);
      assert.ok(error instanceof LLMBadRequestError, String(error));
      assert.match(error.message, /Invalid `signature` in `thinking` block/);
    });
  }
});

describe('images and documents', () => {
  test('an image and a PDF arrive as bytes: the reply names their types and sizes', async () => {
    const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(92)]);
    const pdf = Buffer.from('%PDF-1.4 a small document');
    const result = await llm().complete({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'What are these?' },
            { type: 'image', image: png },
            { type: 'file', data: pdf, mediaType: 'application/pdf', filename: 'notes.pdf' },
          ],
        },
      ],
    });
    assert.match(result.text, /image\/png \(100 bytes\), application\/pdf \(25 bytes\)/);
  });
});
