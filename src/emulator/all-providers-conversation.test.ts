/**
 * The same whole conversation through all seven providers against the emulator, each in its own protocol:
 * a two-turn tool loop (the second turn built from `result.message`), `generateObject` and `runTools`,
 * whole and streamed, and an image on every provider that takes one.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { LLMClientFactory } from '../client/factory.ts';
import type { LLMClient } from '../client/llm-client.ts';
import { tool } from '../client/tool-loop.ts';
import { validateJsonSchema } from '../schema/validate.ts';
import type { ChatMessage, CompletionResult, FinishEvent, ProviderName, StreamEvent } from '../spec/types.ts';
import { type Emulator, startEmulator } from './index.ts';

let emulator: Emulator;
const factory = new LLMClientFactory({ env: {} });

const MODELS: Record<ProviderName, string> = {
  openai: 'gpt-4o-mini',
  azure: 'gpt-4o-mini',
  'openai-compatible': 'llama-3.1-8b',
  anthropic: 'claude-sonnet-4-6',
  gemini: 'gemini-2.5-flash',
  bedrock: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0',
  ollama: 'llama3.2',
};
const PROVIDERS = Object.keys(MODELS) as ProviderName[];

function clientFor(provider: ProviderName): LLMClient {
  return factory.createClient(`${provider}/${MODELS[provider]}`, {
    ...emulator.clientOptions(provider),
    maxRetries: 0,
  });
}

before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await factory.close();
  await emulator.close();
});

const weatherSchema = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string', enum: ['celsius', 'fahrenheit'] } },
  required: ['city', 'unit'],
};
const tools = [{ name: 'get_weather', description: 'The weather in a city', parameters: weatherSchema }];

async function collect(
  stream: AsyncIterable<StreamEvent>,
): Promise<{ events: StreamEvent[]; finish: FinishEvent }> {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  const finish = events.at(-1);
  assert.equal(finish?.type, 'finish');
  return { events, finish: finish as FinishEvent };
}

for (const provider of PROVIDERS) {
  describe(`${provider}: whole conversations`, () => {
    for (const streamed of [false, true]) {
      test(`a two-turn tool loop, ${streamed ? 'streamed' : 'whole'}`, async () => {
        const llm = clientFor(provider);
        const messages: ChatMessage[] = [{ role: 'user', content: 'What is the get_weather in Oslo?' }];
        let first: Pick<CompletionResult, 'message' | 'toolCalls' | 'finishReason'>;
        if (streamed) {
          const { events, finish } = await collect(llm.stream({ messages, tools }));
          const calls = events.filter((event) => event.type === 'tool-call');
          first = {
            message: finish.message,
            toolCalls: calls.map(({ id, name, arguments: args }) => ({ id, name, arguments: args })),
            finishReason: finish.finishReason,
          };
        } else first = await llm.complete({ messages, tools });
        assert.equal(first.finishReason, 'tool-calls');
        assert.equal(first.toolCalls.length, 1);
        const call = first.toolCalls[0]!;
        assert.equal(call.name, 'get_weather');
        assert.ok(validateJsonSchema(weatherSchema, JSON.parse(call.arguments)).ok, call.arguments);
        messages.push(first.message, { role: 'tool', toolCallId: call.id, content: '{"temperature": 21}' });
        const second = await llm.complete({ messages, tools });
        assert.equal(second.finishReason, 'stop');
        assert.equal(second.toolCalls.length, 0);
        assert.match(second.text, /temperature/);
      });
    }

    test('generateObject and streamObject validate against the schema', async () => {
      const llm = clientFor(provider);
      const Person = z.object({ name: z.string(), age: z.number().int().min(0).max(120) });
      const { object } = await llm.generateObject({ schema: Person, prompt: 'Invent a person' });
      assert.equal(Person.safeParse(object).success, true, JSON.stringify(object));
      let last: unknown;
      for await (const event of llm.streamObject({ schema: Person, prompt: 'Invent a person' })) last = event;
      assert.equal((last as { type: string }).type, 'object');
      assert.equal(Person.safeParse((last as { object: unknown }).object).success, true);
    });

    test('runTools: the tool runs and the answer quotes it', async () => {
      const llm = clientFor(provider);
      const run = await llm.runTools({
        prompt: 'Use lookup',
        tools: [
          tool({
            name: 'lookup',
            parameters: z.object({ q: z.string() }),
            execute: () => 'the answer is 42',
          }),
        ],
      });
      assert.equal(run.steps.length, 2);
      assert.match(run.text, /the answer is 42/);
    });

    test('an image arrives, with its type and size', async () => {
      const llm = clientFor(provider);
      const png = Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), Buffer.alloc(56)]);
      const result = await llm.complete({
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'What is this?' },
              { type: 'image', image: png },
            ],
          },
        ],
      });
      assert.match(result.text, /image\/png \(64 bytes\)/);
    });
  });
}
