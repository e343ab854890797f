/**
 * runTools against the emulator and against recorded wire payloads: parallel calls run concurrently and go
 * back in the order they were made, failures go back as error results the model can read, maxSteps and the
 * caller's signal stop the loop.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import { LLMAbortError, LLMBadRequestError } from '../spec/errors.ts';
import type { ChatMessage } from '../spec/types.ts';
import { startReplayServer } from '../test-support/replay-server.ts';
import { LLMClientFactory } from './factory.ts';
import { tool } from './tool-loop.ts';

let emulator: Emulator;
const factory = new LLMClientFactory({ env: {} });
const llm = () =>
  factory.createClient('openai/gpt-4o', { apiKey: 'test-key-not-real', baseURL: `${emulator.url}/v1` });

before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await factory.close();
  await emulator.close();
});

/** Resolves once `count` parties have arrived: proof that they ran at the same time. */
function barrier(count: number): () => Promise<void> {
  let arrived = 0;
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return () => {
    arrived++;
    if (arrived === count) open();
    return opened;
  };
}

describe('runTools', () => {
  test('parallel calls run concurrently; results go back in call order, whatever finished first', async () => {
    const meet = barrier(2);
    const finished: string[] = [];
    const run = await llm().runTools({
      prompt: 'Use get_weather and get_time for Oslo',
      tools: [
        tool({
          name: 'get_weather',
          parameters: z.object({ city: z.string() }),
          execute: async () => {
            await meet();
            await new Promise((resolve) => setTimeout(resolve, 20));
            finished.push('weather');
            return 'sunny';
          },
        }),
        tool({
          name: 'get_time',
          parameters: z.object({}),
          execute: async () => {
            await meet(); // would never resolve if the calls ran one after the other
            finished.push('time');
            return '12:00';
          },
        }),
      ],
    });
    assert.deepEqual(finished, ['time', 'weather']);
    const step = run.steps[0]!;
    assert.deepEqual(
      step.toolResults.map((result) => [result.toolName, result.content]),
      [
        ['get_weather', 'sunny'],
        ['get_time', '12:00'],
      ],
    );
    const toolMessages = run.messages.filter((message) => message.role === 'tool');
    assert.deepEqual(
      toolMessages.map((message) => message.toolCallId),
      step.result.toolCalls.map((call) => call.id),
    );
    assert.equal(
      run.usage.inputTokens,
      run.steps.reduce((sum, s) => sum + s.result.usage.inputTokens, 0),
    );
  });

  test('a thrown error goes back as an error result, and the model answers from it', async () => {
    const run = await llm().runTools({
      prompt: 'lookup',
      tools: [
        tool({
          name: 'lookup',
          parameters: { type: 'object', properties: { q: { type: 'string' } }, required: ['q'] },
          execute: () => {
            throw new Error('database unavailable');
          },
        }),
      ],
    });
    const [result] = run.steps[0]!.toolResults;
    assert.equal(result!.isError, true);
    assert.equal(result!.content, 'Error: database unavailable');
    assert.equal((run.messages[2] as Extract<ChatMessage, { role: 'tool' }>).isError, true);
    assert.match(run.text, /database unavailable/);
  });

  test('arguments are validated (and transformed) by the tool schema before execute sees them', async () => {
    let received: unknown;
    await llm().runTools({
      prompt: 'count',
      tools: [
        tool({
          name: 'count',
          parameters: z.object({ word: z.string().transform((word) => word.length) }),
          execute: (args) => {
            received = args;
            return args.word;
          },
        }),
      ],
    });
    assert.equal(typeof (received as { word: unknown }).word, 'number');
  });

  test('maxSteps stops a model that keeps calling tools', async () => {
    let calls = 0;
    const run = await llm().runTools({
      prompt: 'again',
      toolChoice: 'required',
      maxSteps: 3,
      tools: [tool({ name: 'again', parameters: z.object({}), execute: () => ++calls })],
    });
    assert.equal(run.steps.length, 3);
    assert.equal(calls, 2, 'the tools of the last step are not run: the loop ends with that answer');
    assert.equal(run.result.finishReason, 'tool-calls');
  });

  test("the caller's signal stops the loop between steps", async () => {
    const controller = new AbortController();
    const error = await llm()
      .runTools({
        prompt: 'x',
        signal: controller.signal,
        tools: [
          tool({
            name: 'stop',
            parameters: z.object({}),
            execute: (_args, context) => {
              assert.equal(context.signal, controller.signal);
              controller.abort();
              return 'stopped';
            },
          }),
        ],
      })
      .catch((caught: unknown) => caught);
    assert.ok(error instanceof LLMAbortError, String(error));
  });

  test('bad tools are refused before any call', async () => {
    const before = emulator.requests.length;
    for (const request of [
      { prompt: 'x', tools: [] },
      { prompt: 'x', tools: [{ name: 't', parameters: z.object({}) }] },
      { prompt: 'x', maxSteps: 0, tools: [tool({ name: 't', parameters: z.object({}), execute: () => 1 })] },
    ]) {
      await assert.rejects(llm().runTools(request as never), LLMBadRequestError);
    }
    assert.equal(emulator.requests.length, before);
  });
});

describe('runTools with what a real model may send', () => {
  const completion = (calls: Array<{ name: string; arguments: string }>) =>
    JSON.stringify({
      id: 'chatcmpl-1',
      object: 'chat.completion',
      model: 'gpt-4o',
      choices: [
        {
          index: 0,
          finish_reason: calls.length ? 'tool_calls' : 'stop',
          message: {
            role: 'assistant',
            content: calls.length ? null : 'done',
            tool_calls: calls.map((call, i) => ({ id: `call_${i}`, type: 'function', function: call })),
          },
        },
      ],
      usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
    });

  test('an unknown tool, arguments that are not JSON, arguments that break the schema: error results', async () => {
    const server = await startReplayServer([
      {
        body: completion([
          { name: 'nope', arguments: '{}' },
          { name: 'add', arguments: '{"a": 1,' },
          { name: 'add', arguments: '{"a": "one"}' },
        ]),
      },
      { body: completion([]) },
    ]);
    try {
      const client = factory.createClient('openai/gpt-4o', {
        apiKey: 'test-key-not-real',
        baseURL: `${server.url}/v1`,
      });
      const run = await client.runTools({
        prompt: 'x',
        tools: [tool({ name: 'add', parameters: z.object({ a: z.number() }), execute: ({ a }) => a + 1 })],
      });
      const results = run.steps[0]!.toolResults;
      assert.deepEqual(
        results.map((result) => result.isError),
        [true, true, true],
      );
      assert.match(results[0]!.content, /Unknown tool "nope"; the tools are add/);
      assert.match(results[1]!.content, /not valid JSON/);
      assert.match(results[2]!.content, /\$\.a: /);
      const sent = JSON.parse(server.requests[1]!.body) as {
        messages: Array<{ role: string; content: string }>;
      };
      assert.deepEqual(
        sent.messages.filter((message) => message.role === 'tool').map((message) => message.content),
        results.map((result) => result.content),
        'the model reads exactly what went wrong',
      );
    } finally {
      await server.close();
    }
  });
});
