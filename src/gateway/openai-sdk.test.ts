/**
 * The official `openai` client, unchanged, pointed at the gateway, reaches every provider behind it (the
 * OpenAI family by pass-through, the others translated): completions, streams with and without the usage
 * chunk, a whole tool loop whole and streamed, structured output that validates, embeddings as floats and
 * base64, and each error as the class the SDK maps its status to.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';
import type { ChatCompletionMessageParam, ChatCompletionTool } from 'openai/resources/chat/completions';
import { validateJsonSchema } from '../schema/validate.ts';
import {
  deployment,
  EMBEDDING_MODELS,
  PERSON_SCHEMA,
  PROVIDERS,
  sdkGatewayForFile,
  WEATHER_PARAMETERS,
} from './test-support/sdk-gateway.ts';

const rig = sdkGatewayForFile({
  config: (upstream) => ({
    deployments: [
      deployment(upstream, 'broken', 'openai', { headers: { 'x-emulator-fault': 'server-error' } }),
      deployment(upstream, 'unavailable', 'gemini', { headers: { 'x-emulator-fault': 'unavailable' } }),
    ],
  }),
});

const TOOLS: ChatCompletionTool[] = [
  {
    type: 'function',
    function: { name: 'get_weather', description: 'The forecast for a city', parameters: WEATHER_PARAMETERS },
  },
];

/** Reads a stream whole: its text, its tool calls put together from their deltas, its chunks. */
async function readStream(stream: AsyncIterable<OpenAI.ChatCompletionChunk>) {
  const chunks: OpenAI.ChatCompletionChunk[] = [];
  let text = '';
  const calls: Array<{ id: string; name: string; arguments: string }> = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    const delta = chunk.choices[0]?.delta;
    text += delta?.content ?? '';
    for (const call of delta?.tool_calls ?? []) {
      calls[call.index] ??= { id: '', name: '', arguments: '' };
      const whole = calls[call.index]!;
      if (call.id) whole.id = call.id;
      if (call.function?.name) whole.name += call.function.name;
      whole.arguments += call.function?.arguments ?? '';
    }
  }
  const finish = chunks.map((chunk) => chunk.choices[0]?.finish_reason).find(Boolean);
  return { chunks, text, calls, finish };
}

for (const provider of PROVIDERS) {
  describe(`openai SDK → gateway → ${provider}`, () => {
    const ask: ChatCompletionMessageParam[] = [{ role: 'user', content: `Hello ${provider}, who are you?` }];

    test('a completion, then the same answer streamed, with the usage chunk only when asked', async () => {
      const whole = await rig.openai.chat.completions.create({ model: provider, messages: ask });
      assert.equal(whole.object, 'chat.completion');
      assert.equal(whole.choices[0]?.finish_reason, 'stop');
      const answer = whole.choices[0]?.message.content ?? '';
      assert.match(answer, new RegExp(`You asked: “Hello ${provider}`));
      assert.ok(whole.usage && whole.usage.prompt_tokens > 0 && whole.usage.completion_tokens > 0);

      const plain = await readStream(
        await rig.openai.chat.completions.create({ model: provider, messages: ask, stream: true }),
      );
      assert.equal(plain.text, answer, 'the stream says what the completion said');
      assert.equal(plain.finish, 'stop');
      assert.ok(
        plain.chunks.every((chunk) => !chunk.usage && chunk.choices.length === 1),
        'no usage chunk unless asked',
      );

      const counted = await readStream(
        await rig.openai.chat.completions.create({
          model: provider,
          messages: ask,
          stream: true,
          stream_options: { include_usage: true },
        }),
      );
      assert.equal(counted.text, answer);
      const withUsage = counted.chunks.filter((chunk) => chunk.usage);
      assert.equal(withUsage.length, 1, 'one usage chunk');
      assert.equal(withUsage[0], counted.chunks.at(-1), 'the last one');
      assert.deepEqual(withUsage[0]?.choices, []);
      assert.equal(withUsage[0]?.usage?.completion_tokens, whole.usage.completion_tokens);
    });

    test('a whole tool loop: tools → tool_calls → tool results → answer, whole and streamed', async () => {
      const messages: ChatCompletionMessageParam[] = [
        { role: 'user', content: 'What will the weather be in Oslo?' },
      ];
      const first = await rig.openai.chat.completions.create({ model: provider, messages, tools: TOOLS });
      assert.equal(first.choices[0]?.finish_reason, 'tool_calls');
      const call = first.choices[0]?.message.tool_calls?.[0];
      assert.ok(call?.type === 'function' && call.id, 'a function call with an id');
      assert.equal(call.function.name, 'get_weather');
      const args = JSON.parse(call.function.arguments) as unknown;
      assert.deepEqual(validateJsonSchema(WEATHER_PARAMETERS, args), { ok: true, value: args });

      const streamed = await readStream(
        await rig.openai.chat.completions.create({ model: provider, messages, tools: TOOLS, stream: true }),
      );
      assert.equal(streamed.finish, 'tool_calls');
      assert.equal(streamed.calls.length, 1);
      assert.equal(streamed.calls[0]?.name, 'get_weather');
      assert.deepEqual(JSON.parse(streamed.calls[0]!.arguments), args, 'the same arguments, streamed');

      messages.push(first.choices[0]!.message, {
        role: 'tool',
        tool_call_id: call.id,
        content: '{"forecast":"sunny","highC":21}',
      });
      const answer = await rig.openai.chat.completions.create({ model: provider, messages, tools: TOOLS });
      assert.equal(answer.choices[0]?.finish_reason, 'stop');
      assert.match(answer.choices[0]?.message.content ?? '', /get_weather returned .*sunny/);
      const streamedAnswer = await readStream(
        await rig.openai.chat.completions.create({ model: provider, messages, tools: TOOLS, stream: true }),
      );
      assert.equal(streamedAnswer.text, answer.choices[0]?.message.content);
    });

    test('structured output: the json_schema answer validates, whole and streamed', async () => {
      const request = {
        model: provider,
        messages: [{ role: 'user' as const, content: 'Invent a person' }],
        response_format: {
          type: 'json_schema' as const,
          json_schema: { name: 'person', strict: true, schema: PERSON_SCHEMA },
        },
      };
      const whole = await rig.openai.chat.completions.create(request);
      const person = JSON.parse(whole.choices[0]?.message.content ?? '') as unknown;
      assert.deepEqual(validateJsonSchema(PERSON_SCHEMA, person), { ok: true, value: person });
      const streamed = await readStream(
        await rig.openai.chat.completions.create({ ...request, stream: true }),
      );
      assert.deepEqual(JSON.parse(streamed.text), person);
    });

    const embeddingModel = EMBEDDING_MODELS[provider];
    if (embeddingModel) {
      test('embeddings as floats, as base64, and as the SDK asks for them by default', async () => {
        const model = `${provider}-embed`;
        const input = ['first document', 'second document'];
        const floats = await rig.openai.embeddings.create({ model, input, encoding_format: 'float' });
        assert.equal(floats.data.length, 2);
        assert.deepEqual(
          floats.data.map((item) => item.index),
          [0, 1],
        );
        const [a, b] = floats.data.map((item) => item.embedding);
        assert.ok(a && b && a.length >= 256 && a.length === b.length);
        assert.ok(Math.abs(Math.hypot(...a) - 1) < 1e-3, 'unit vectors, as the emulator makes them');
        assert.notDeepEqual(a, b);

        const encoded = await rig.openai.embeddings.create({ model, input, encoding_format: 'base64' });
        const base64 = encoded.data[0]?.embedding as unknown as string;
        assert.equal(typeof base64, 'string');
        const decoded = [...new Float32Array(new Uint8Array(Buffer.from(base64, 'base64')).buffer)];
        assert.deepEqual(decoded, [...new Float32Array(a)], 'the same vector, as little-endian float32');

        // Unasked, the SDK requests base64 and decodes it itself.
        const byDefault = await rig.openai.embeddings.create({ model, input });
        assert.deepEqual(byDefault.data[1]?.embedding, [...new Float32Array(b)]);
      });
    }
  });
}

describe('openai SDK errors through the gateway', () => {
  const hello: ChatCompletionMessageParam[] = [{ role: 'user', content: 'hello' }];

  test('400 BadRequestError for a malformed body, naming the field', async () => {
    await assert.rejects(
      rig.openai.chat.completions.create({ model: 'openai', messages: [] }),
      (error) => error instanceof OpenAI.BadRequestError && /messages/.test(error.message),
    );
    await assert.rejects(
      rig.openai.chat.completions.create({ model: 'gemini', messages: hello, temperature: 'warm' as never }),
      (error) => error instanceof OpenAI.BadRequestError && /temperature/.test(error.message),
    );
  });

  test('400 BadRequestError for embeddings from a provider that has none', async () => {
    await assert.rejects(
      rig.openai.embeddings.create({ model: 'anthropic', input: 'text' }),
      (error) => error instanceof OpenAI.BadRequestError && /anthropic/.test(error.message),
    );
  });

  test('401 AuthenticationError for an unknown key, whole and streamed', async () => {
    const stranger = rig.openaiWith('llmf-not-a-key-of-this-gateway');
    await assert.rejects(
      stranger.chat.completions.create({ model: 'openai', messages: hello }),
      (error) => error instanceof OpenAI.AuthenticationError && error.status === 401,
    );
    await assert.rejects(
      stranger.chat.completions.create({ model: 'gemini', messages: hello, stream: true }),
      (error) => error instanceof OpenAI.AuthenticationError,
    );
  });

  test('403 PermissionDeniedError for a model the key may not use', async () => {
    const { key } = await rig.createKey({ name: 'openai-only', models: ['openai'] });
    const limited = rig.openaiWith(key);
    assert.ok((await limited.chat.completions.create({ model: 'openai', messages: hello })).id);
    await assert.rejects(
      limited.chat.completions.create({ model: 'gemini', messages: hello }),
      (error) => error instanceof OpenAI.PermissionDeniedError && /gemini/.test(error.message),
    );
  });

  test('404 NotFoundError for a model the gateway does not serve, whole and streamed', async () => {
    for (const stream of [false, true]) {
      await assert.rejects(
        rig.openai.chat.completions.create({ model: 'gpt-nonexistent', messages: hello, stream }),
        (error) =>
          error instanceof OpenAI.NotFoundError &&
          error.code === 'model_not_found' &&
          /gpt-nonexistent/.test(error.message),
      );
    }
  });

  test('429 RateLimitError with Retry-After once the key is over its rpm', async () => {
    const { key } = await rig.createKey({ name: 'one-a-minute', rpm: 1 });
    const limited = rig.openaiWith(key);
    await limited.chat.completions.create({ model: 'anthropic', messages: hello });
    await assert.rejects(
      limited.chat.completions.create({ model: 'anthropic', messages: hello }),
      (error) => {
        assert.ok(error instanceof OpenAI.RateLimitError, String(error));
        const retryAfter = Number(error.headers?.get('retry-after'));
        assert.ok(retryAfter >= 1 && retryAfter <= 61, `retry-after ${retryAfter}`);
        return true;
      },
    );
  });

  test('5xx InternalServerError when the upstream fails (502) or is unavailable (503)', async () => {
    for (const stream of [false, true]) {
      await assert.rejects(
        rig.openai.chat.completions.create({ model: 'broken', messages: hello, stream }),
        (error) => error instanceof OpenAI.InternalServerError && error.status === 502,
      );
      await assert.rejects(
        rig.openai.chat.completions.create({ model: 'unavailable', messages: hello, stream }),
        (error) => error instanceof OpenAI.InternalServerError && error.status === 503,
      );
    }
  });
});
