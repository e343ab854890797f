/**
 * A long answer streamed as fast as possible arrives whole from every protocol. The emulator wrote each
 * delta without waiting for the socket, so a tool call with a megabyte of arguments (hundreds of thousands
 * of frames) queued them all at once and the kernel refused the write (EINVAL): the stream was cut and the
 * client saw "other side closed". Found by the gateway's fuzz test (a 1 MB name in a tool's `required`).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createClient } from '../client/factory.ts';
import type { ProviderName, StreamEvent } from '../spec/types.ts';
import { type Emulator, startEmulator } from './index.ts';

/** Ollama is left out: it has no forced tool choice (and, like Gemini, sends a call's arguments whole). */
const MODELS: Array<[ProviderName, string]> = [
  ['openai', 'gpt-4o-mini'],
  ['anthropic', 'claude-sonnet-4-6'],
  ['gemini', 'gemini-2.5-flash'],
  ['bedrock', 'us.anthropic.claude-sonnet-4-5-20250929-v1:0'],
];

/** A property name of about a megabyte that the forced call must fill in. */
const LONG_NAME = 'lorem ipsum dolor sit amet '.repeat(40_000);

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ recordRequests: false });
});
after(() => emulator.close());

describe('emulator: a megabyte of tool arguments, streamed as fast as possible', () => {
  for (const [provider, model] of MODELS) {
    test(provider, async (t) => {
      const client = createClient(`${provider}/${model}`, {
        ...emulator.clientOptions(provider),
        maxRetries: 0,
      });
      t.after(() => client.close());
      let argumentsText = '';
      let finished: StreamEvent | undefined;
      for await (const event of client.stream({
        messages: [{ role: 'user', content: 'fill it in' }],
        toolChoice: 'required',
        tools: [
          {
            name: 'fill',
            description: 'takes one long field',
            parameters: { type: 'object', properties: {}, required: [LONG_NAME] },
          },
        ],
      })) {
        if (event.type === 'tool-call-delta') argumentsText += event.argumentsDelta;
        if (event.type === 'finish') finished = event;
      }
      assert.ok(finished, 'the stream ended with its finish event');
      assert.ok(argumentsText.includes(LONG_NAME), `arguments of ${argumentsText.length} characters`);
    });
  }
});
