/**
 * The official `@anthropic-ai/sdk`, unchanged, pointed at the gateway, reaches every provider behind it
 * (Anthropic by pass-through, the others translated): `/v1/messages` whole and streamed, a whole tool loop
 * (tool_use / tool_result), thinking where the deployment returns reasoning, `count_tokens`, structured
 * output through `output_config`, and each error as the class the SDK maps its status to.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import { validateJsonSchema } from '../schema/validate.ts';
import type { ProviderName } from '../spec/types.ts';
import {
  deployment,
  PERSON_SCHEMA,
  PROVIDERS,
  sdkGatewayForFile,
  WEATHER_PARAMETERS,
} from './test-support/sdk-gateway.ts';

const rig = sdkGatewayForFile({
  config: (upstream) => ({
    deployments: [
      deployment(upstream, 'broken', 'anthropic', { headers: { 'x-emulator-fault': 'server-error' } }),
      deployment(upstream, 'overloaded', 'bedrock', { headers: { 'x-emulator-fault': 'overloaded' } }),
      deployment(upstream, 'hanging', 'gemini', {
        headers: { 'x-emulator-fault': 'hang' },
        timeoutMs: 200,
        maxRetries: 0,
      }),
    ],
  }),
});

/** Providers whose deployments return reasoning when asked to think. */
const THINKS: ReadonlySet<ProviderName> = new Set(['anthropic', 'gemini', 'bedrock', 'ollama']);

const WEATHER: Tool = {
  name: 'get_weather',
  description: 'The forecast for a city',
  input_schema: WEATHER_PARAMETERS as unknown as Tool['input_schema'],
};

const textOf = (message: Anthropic.Message) =>
  message.content.map((block) => (block.type === 'text' ? block.text : '')).join('');

for (const provider of PROVIDERS) {
  describe(`anthropic SDK → gateway → ${provider}`, () => {
    const ask: MessageParam[] = [{ role: 'user', content: `Hello ${provider}, who are you?` }];

    test('a message whole, then streamed as Anthropic events to the same message', async () => {
      const whole = await rig.anthropic.messages.create({ model: provider, max_tokens: 400, messages: ask });
      assert.equal(whole.type, 'message');
      assert.equal(whole.role, 'assistant');
      assert.equal(whole.stop_reason, 'end_turn');
      assert.match(textOf(whole), new RegExp(`You asked: “Hello ${provider}`));
      assert.ok(whole.usage.input_tokens > 0 && whole.usage.output_tokens > 0);

      const events: string[] = [];
      const stream = rig.anthropic.messages.stream({ model: provider, max_tokens: 400, messages: ask });
      stream.on('streamEvent', (event) => events.push(event.type));
      const streamed = await stream.finalMessage();
      assert.equal(textOf(streamed), textOf(whole));
      assert.equal(streamed.stop_reason, 'end_turn');
      assert.equal(streamed.usage.output_tokens, whole.usage.output_tokens);
      assert.equal(events[0], 'message_start');
      assert.deepEqual(events.slice(-2), ['message_delta', 'message_stop']);
    });

    test('a whole tool loop: tool_use → tool_result → answer, whole and streamed', async () => {
      const messages: MessageParam[] = [{ role: 'user', content: 'What will the weather be in Oslo?' }];
      const request = { model: provider, max_tokens: 400, tools: [WEATHER] };
      const first = await rig.anthropic.messages.create({ ...request, messages });
      assert.equal(first.stop_reason, 'tool_use');
      const use = first.content.find((block) => block.type === 'tool_use');
      assert.ok(use?.type === 'tool_use' && use.id);
      assert.equal(use.name, 'get_weather');
      assert.deepEqual(validateJsonSchema(WEATHER.input_schema, use.input), { ok: true, value: use.input });

      const streamed = await rig.anthropic.messages.stream({ ...request, messages }).finalMessage();
      assert.equal(streamed.stop_reason, 'tool_use');
      const streamedUse = streamed.content.find((block) => block.type === 'tool_use');
      assert.deepEqual(streamedUse?.type === 'tool_use' && streamedUse.input, use.input);

      messages.push(
        { role: 'assistant', content: first.content },
        {
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny, 21 degrees' }],
        },
      );
      const answer = await rig.anthropic.messages.create({ ...request, messages });
      assert.equal(answer.stop_reason, 'end_turn');
      assert.match(textOf(answer), /get_weather returned .*sunny, 21 degrees/);
      const streamedAnswer = await rig.anthropic.messages.stream({ ...request, messages }).finalMessage();
      assert.equal(textOf(streamedAnswer), textOf(answer));
    });

    test(`thinking ${THINKS.has(provider) ? 'comes back as thinking blocks' : 'is not invented'}, whole and streamed`, async () => {
      const request = {
        model: provider,
        max_tokens: 2048,
        thinking: { type: 'enabled' as const, budget_tokens: 1024 },
        messages: [{ role: 'user' as const, content: 'Think about why the sky is blue' }],
      };
      const whole = await rig.anthropic.messages.create(request);
      const streamed = await rig.anthropic.messages.stream(request).finalMessage();
      for (const message of [whole, streamed]) {
        const thinking = message.content.filter((block) => block.type === 'thinking');
        if (!THINKS.has(provider)) {
          assert.equal(thinking.length, 0);
          continue;
        }
        assert.equal(message.content[0]?.type, 'thinking', 'thinking first');
        assert.ok(thinking[0]?.type === 'thinking' && thinking[0].thinking.length > 0);
        if (provider === 'anthropic') assert.ok(thinking[0]?.type === 'thinking' && thinking[0].signature);
      }
      assert.deepEqual(streamed.content, whole.content, 'the same blocks, streamed');
    });

    test('count_tokens counts the request', async () => {
      const counted = await rig.anthropic.messages.countTokens({
        model: provider,
        messages: [{ role: 'user', content: 'How many tokens is this sentence, roughly?' }],
        tools: [WEATHER],
      });
      assert.ok(
        Number.isInteger(counted.input_tokens) && counted.input_tokens > 5,
        `${counted.input_tokens}`,
      );
    });

    test('structured output through output_config: the answer validates, whole and streamed', async () => {
      const request = {
        model: provider,
        max_tokens: 400,
        messages: [{ role: 'user' as const, content: 'Invent a person' }],
        output_config: { format: { type: 'json_schema' as const, schema: PERSON_SCHEMA } },
      };
      const whole = await rig.anthropic.messages.create(request);
      const person = JSON.parse(textOf(whole)) as unknown;
      assert.deepEqual(validateJsonSchema(PERSON_SCHEMA, person), { ok: true, value: person });
      const streamed = await rig.anthropic.messages.stream(request).finalMessage();
      assert.deepEqual(JSON.parse(textOf(streamed)), person);
    });
  });
}

describe('anthropic SDK errors through the gateway', () => {
  const hello: MessageParam[] = [{ role: 'user', content: 'hello' }];

  test('400 BadRequestError for a malformed body, naming the field', async () => {
    await assert.rejects(
      rig.anthropic.messages.create({ model: 'gemini', messages: hello } as never),
      (error) => error instanceof Anthropic.BadRequestError && /max_tokens/.test(error.message),
    );
    await assert.rejects(
      rig.anthropic.messages.create({
        model: 'ollama',
        max_tokens: 10,
        messages: [{ role: 'user', content: [{ type: 'tool_result' } as never] }],
      }),
      (error) => error instanceof Anthropic.BadRequestError && /tool_use_id/.test(error.message),
    );
  });

  test('401 AuthenticationError for an unknown key, whole and streamed', async () => {
    const stranger = rig.anthropicWith('llmf-not-a-key-of-this-gateway');
    await assert.rejects(
      stranger.messages.create({ model: 'anthropic', max_tokens: 10, messages: hello }),
      (error) => error instanceof Anthropic.AuthenticationError && error.status === 401,
    );
    await assert.rejects(
      stranger.messages.stream({ model: 'gemini', max_tokens: 10, messages: hello }).finalMessage(),
      (error) => error instanceof Anthropic.AuthenticationError,
    );
  });

  test('403 PermissionDeniedError for a model the key may not use', async () => {
    const { key } = await rig.createKey({ name: 'anthropic-only', models: ['anthropic'] });
    const limited = rig.anthropicWith(key);
    await limited.messages.create({ model: 'anthropic', max_tokens: 10, messages: hello });
    await assert.rejects(
      limited.messages.create({ model: 'bedrock', max_tokens: 10, messages: hello }),
      (error) => error instanceof Anthropic.PermissionDeniedError && /bedrock/.test(error.message),
    );
  });

  test('404 NotFoundError for a model the gateway does not serve, whole and streamed', async () => {
    await assert.rejects(
      rig.anthropic.messages.create({ model: 'claude-nonexistent', max_tokens: 10, messages: hello }),
      (error) => error instanceof Anthropic.NotFoundError && /claude-nonexistent/.test(error.message),
    );
    await assert.rejects(
      rig.anthropic.messages
        .stream({ model: 'claude-nonexistent', max_tokens: 10, messages: hello })
        .finalMessage(),
      (error) => error instanceof Anthropic.NotFoundError,
    );
  });

  test('429 RateLimitError with Retry-After once the key is over its rpm', async () => {
    const { key } = await rig.createKey({ name: 'one-a-minute', rpm: 1 });
    const limited = rig.anthropicWith(key);
    await limited.messages.create({ model: 'ollama', max_tokens: 10, messages: hello });
    await assert.rejects(
      limited.messages.create({ model: 'ollama', max_tokens: 10, messages: hello }),
      (error) => {
        assert.ok(error instanceof Anthropic.RateLimitError, String(error));
        assert.equal((error.error as { type?: string } | undefined)?.type, 'error');
        const retryAfter = Number(error.headers?.get('retry-after'));
        assert.ok(retryAfter >= 1 && retryAfter <= 61, `retry-after ${retryAfter}`);
        return true;
      },
    );
  });

  test('5xx: InternalServerError 502, ServiceUnavailableError 503, GatewayTimeoutError 504', async () => {
    for (const stream of [false, true]) {
      const call = (model: string) =>
        stream
          ? rig.anthropic.messages.stream({ model, max_tokens: 10, messages: hello }).finalMessage()
          : rig.anthropic.messages.create({ model, max_tokens: 10, messages: hello });
      await assert.rejects(
        call('broken'),
        (error) => error instanceof Anthropic.InternalServerError && error.status === 502,
      );
      await assert.rejects(
        call('overloaded'),
        (error) => error instanceof Anthropic.ServiceUnavailableError && error.status === 503,
      );
      await assert.rejects(
        call('hanging'),
        (error) => error instanceof Anthropic.GatewayTimeoutError && error.status === 504,
      );
    }
  });
});
