/**
 * Pass-through and translation, seen from the official clients. When every deployment of a model speaks the
 * client's protocol, the body that reaches the provider is the client's but for `model` (and, streamed, the
 * usage the gateway asks for to charge the key), and the bytes the client reads are the provider's. Otherwise
 * the gateway translates, and keeps what other gateways drop (their trackers: `/v1/messages` translations
 * losing tool_use input, reasoning lost on the way): every tool call's name and arguments and the model's
 * reasoning reach the client as the provider gave them, whole and streamed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { MessageParam, Tool } from '@anthropic-ai/sdk/resources/messages';
import type { ChatCompletionCreateParams, ChatCompletionTool } from 'openai/resources/chat/completions';
import { isRecord } from '../spec/json.ts';
import type { ProviderName } from '../spec/types.ts';
import {
  CHAT_MODELS,
  chatRequests,
  MASTER_KEY,
  OPENAI_FAMILY,
  PROVIDERS,
  recordingFetch,
  type SentRequest,
  sdkGatewayForFile,
  WEATHER_PARAMETERS,
} from './test-support/sdk-gateway.ts';

const rig = sdkGatewayForFile({
  tap: true,
  config: () => ({
    groups: {
      'openai-family': ['openai', 'azure', 'openai-compatible'],
      // Not every deployment speaks Anthropic's protocol: an Anthropic client is translated, to Claude first.
      claude: ['anthropic', 'bedrock'],
    },
  }),
});

/** The body a deployment of `provider` sends for `sent`: the deployment's model (Azure's is in the URL). */
function asUpstream(sent: unknown, provider: ProviderName, more: Record<string, unknown> = {}) {
  const { model: _asked, ...body } = sent as Record<string, unknown>;
  return provider === 'azure'
    ? { ...body, ...more }
    : { ...body, model: CHAT_MODELS[provider].slice(provider.length + 1), ...more };
}

const lastUpstream = () => {
  const exchange = rig.tap!.exchanges.at(-1);
  assert.ok(exchange);
  return exchange;
};

describe('pass-through: an OpenAI client and OpenAI-family deployments', () => {
  const body = {
    messages: [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'What will the weather be in Oslo?' },
    ],
    temperature: 0.3,
    top_p: 0.9,
    max_completion_tokens: 300,
    seed: 7,
    stop: ['zzz'],
    presence_penalty: 0.1,
    frequency_penalty: 0.2,
    user: 'user-1234',
    metadata: { team: 'search' },
    store: false,
    tools: [
      {
        type: 'function' as const,
        function: {
          name: 'get_weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ],
    tool_choice: 'auto' as const,
    parallel_tool_calls: false,
  };

  for (const model of ['openai', 'azure', 'openai-compatible', 'openai-family']) {
    test(`${model}: the upstream gets the client's body but for model, and the client the upstream's bytes`, async () => {
      const sent: SentRequest[] = [];
      const openai = rig.openaiWith(MASTER_KEY, { fetch: recordingFetch(sent) });
      const provider = (model === 'openai-family' ? 'openai' : model) as ProviderName;

      const whole = await openai.chat.completions.create({ model, ...body }).asResponse();
      const wholeBytes = Buffer.from(await whole.arrayBuffer());
      const received = chatRequests(rig.emulator).at(-1)!.body;
      assert.deepEqual(received, asUpstream(sent[0]?.body, provider));
      assert.ok(wholeBytes.equals(lastUpstream().body), 'the provider answer, byte for byte');

      for (const includeUsage of [true, false]) {
        const request: ChatCompletionCreateParams = {
          model,
          ...body,
          stream: true,
          ...(includeUsage ? { stream_options: { include_usage: true } } : {}),
        };
        const streamed = await openai.chat.completions.create(request).asResponse();
        const streamedBytes = Buffer.from(await streamed.arrayBuffer()).toString('utf8');
        assert.deepEqual(
          chatRequests(rig.emulator).at(-1)!.body,
          asUpstream(sent.at(-1)?.body, provider, { stream_options: { include_usage: true } }),
        );
        const upstreamText = lastUpstream().body.toString('utf8');
        // The one change: the usage chunk the gateway asked for reaches the client only if it asked too.
        const usageChunk = /data: \{[^\n]*"choices":\[\][^\n]*"usage"[^\n]*\n\n/;
        assert.match(upstreamText, usageChunk);
        assert.equal(streamedBytes, includeUsage ? upstreamText : upstreamText.replace(usageChunk, ''));
      }
    });
  }
});

describe('pass-through: an Anthropic client and Anthropic deployments', () => {
  test("the upstream gets the client's body and protocol headers, and the client the upstream's bytes", async () => {
    const sent: SentRequest[] = [];
    const anthropic = rig.anthropicWith(MASTER_KEY, { fetch: recordingFetch(sent) });
    const body = {
      model: 'anthropic',
      max_tokens: 2000,
      system: [{ type: 'text' as const, text: 'Be brief.', cache_control: { type: 'ephemeral' as const } }],
      messages: [{ role: 'user' as const, content: 'What will the weather be in Oslo?' }],
      top_k: 5,
      metadata: { user_id: 'user-1234' },
      tools: [
        {
          name: 'get_weather',
          input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } },
        },
      ],
      tool_choice: { type: 'auto' as const, disable_parallel_tool_use: true },
      thinking: { type: 'enabled' as const, budget_tokens: 1024 },
    };
    const beta = { headers: { 'anthropic-beta': 'interleaved-thinking-2025-05-14' } };
    for (const stream of [false, true]) {
      const response = await anthropic.messages.create({ ...body, stream }, beta).asResponse();
      const bytes = Buffer.from(await response.arrayBuffer());
      const received = chatRequests(rig.emulator).at(-1)!;
      assert.deepEqual(received.body, asUpstream(sent.at(-1)?.body, 'anthropic'));
      assert.equal(received.headers['anthropic-beta'], 'interleaved-thinking-2025-05-14');
      const version = sent.at(-1)?.headers.get('anthropic-version');
      assert.ok(version);
      assert.equal(received.headers['anthropic-version'], version);
      assert.ok(bytes.equals(lastUpstream().body), `the provider answer, byte for byte (stream: ${stream})`);
    }
  });
});

/** Two tools the emulator calls in parallel when both names are in the prompt, with arguments of every kind. */
const TOOL_SCHEMAS = {
  get_weather: WEATHER_PARAMETERS,
  book_table: {
    type: 'object',
    properties: {
      restaurant: { type: 'string' },
      guests: { type: 'integer', minimum: 1, maximum: 12 },
      when: { type: 'object', properties: { date: { type: 'string' }, time: { type: 'string' } } },
      wishes: { type: 'array', items: { type: 'string' }, minItems: 1 },
      outdoor: { type: 'boolean' },
    },
    required: ['restaurant', 'guests', 'when', 'wishes', 'outdoor'],
  },
};
const PROMPT = 'Please call get_weather and book_table for a dinner in Oslo';

type Call = { name: string; input: unknown };

/** The tool calls in a provider's own (non-streamed) answer, read from its bytes in its own protocol. */
function upstreamCalls(provider: ProviderName, answer: unknown): Call[] {
  assert.ok(isRecord(answer));
  const list = (value: unknown) => (Array.isArray(value) ? (value as Record<string, unknown>[]) : []);
  switch (provider) {
    case 'anthropic':
      return list(answer.content)
        .filter((block) => block.type === 'tool_use')
        .map((block) => ({ name: String(block.name), input: block.input }));
    case 'gemini': {
      const [candidate] = list(answer.candidates);
      const parts = isRecord(candidate?.content) ? list(candidate.content.parts) : [];
      return parts
        .map((part) => part.functionCall)
        .filter(isRecord)
        .map((call) => ({ name: String(call.name), input: call.args }));
    }
    case 'bedrock': {
      const message = isRecord(answer.output) && isRecord(answer.output.message) ? answer.output.message : {};
      return list(message.content)
        .map((block) => block.toolUse)
        .filter(isRecord)
        .map((use) => ({ name: String(use.name), input: use.input }));
    }
    case 'ollama': {
      const message = isRecord(answer.message) ? answer.message : {};
      return list(message.tool_calls).map((call) => {
        const fn = call.function as Record<string, unknown>;
        return { name: String(fn.name), input: fn.arguments };
      });
    }
    default: {
      const [choice] = list(answer.choices);
      const message = isRecord(choice?.message) ? choice.message : {};
      return list(message.tool_calls).map((call) => {
        const fn = call.function as Record<string, unknown>;
        return { name: String(fn.name), input: JSON.parse(String(fn.arguments)) };
      });
    }
  }
}

/** The provider's reasoning text in its own (non-streamed) answer. */
function upstreamReasoning(provider: ProviderName, answer: unknown): string {
  assert.ok(isRecord(answer));
  const list = (value: unknown) => (Array.isArray(value) ? (value as Record<string, unknown>[]) : []);
  if (provider === 'gemini') {
    const parts = list((list(answer.candidates)[0]?.content as { parts?: unknown })?.parts);
    return parts.map((part) => (part.thought === true ? String(part.text) : '')).join('');
  }
  if (provider === 'bedrock') {
    const message = (answer.output as { message?: { content?: unknown } }).message;
    return list(message?.content)
      .map((block) => (block.reasoningContent as { reasoningText?: { text?: string } })?.reasoningText?.text)
      .join('');
  }
  if (provider === 'ollama') return String((answer.message as { thinking?: unknown }).thinking);
  return list(answer.content)
    .map((block) => (block.type === 'thinking' ? String(block.thinking) : ''))
    .join('');
}

/** The upstream's answer to the last non-streamed request. */
const upstreamAnswer = () => JSON.parse(lastUpstream().body.toString('utf8')) as unknown;

const translatedForOpenAI = PROVIDERS.filter((provider) => !OPENAI_FAMILY.has(provider));
const translatedForAnthropic = PROVIDERS.filter((provider) => provider !== 'anthropic');

describe('translation keeps every tool call and its arguments', () => {
  const openaiTools: ChatCompletionTool[] = Object.entries(TOOL_SCHEMAS).map(([name, parameters]) => ({
    type: 'function',
    function: { name, parameters },
  }));
  const anthropicTools: Tool[] = Object.entries(TOOL_SCHEMAS).map(([name, schema]) => ({
    name,
    input_schema: schema as Tool['input_schema'],
  }));

  for (const provider of translatedForOpenAI) {
    test(`OpenAI client → ${provider}: the calls the provider made, whole and streamed`, async () => {
      const request = { model: provider, messages: [{ role: 'user' as const, content: PROMPT }] };
      const whole = await rig.openai.chat.completions.create({ ...request, tools: openaiTools });
      const expected = upstreamCalls(provider, upstreamAnswer());
      assert.equal(expected.length, 2, 'the provider called both tools');
      const calls = (whole.choices[0]?.message.tool_calls ?? []).map((call) => {
        assert.ok(call.type === 'function');
        return { name: call.function.name, input: JSON.parse(call.function.arguments) };
      });
      assert.deepEqual(calls, expected);

      const stream = await rig.openai.chat.completions.create({
        ...request,
        tools: openaiTools,
        stream: true,
      });
      const streamed: Array<{ name: string; arguments: string }> = [];
      for await (const chunk of stream) {
        for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
          streamed[delta.index] ??= { name: '', arguments: '' };
          streamed[delta.index]!.name += delta.function?.name ?? '';
          streamed[delta.index]!.arguments += delta.function?.arguments ?? '';
        }
      }
      assert.deepEqual(
        streamed.map((call) => ({ name: call.name, input: JSON.parse(call.arguments) })),
        expected,
      );
    });
  }

  for (const provider of translatedForAnthropic) {
    test(`Anthropic client → ${provider}: the calls the provider made, whole and streamed`, async () => {
      const request = {
        model: provider,
        max_tokens: 500,
        tools: anthropicTools,
        messages: [{ role: 'user' as const, content: PROMPT }],
      };
      const whole = await rig.anthropic.messages.create(request);
      const expected = upstreamCalls(provider, upstreamAnswer());
      assert.equal(expected.length, 2, 'the provider called both tools');
      const callsOf = (content: typeof whole.content) =>
        content.flatMap((block) =>
          block.type === 'tool_use' ? [{ name: block.name, input: block.input }] : [],
        );
      assert.deepEqual(callsOf(whole.content), expected);
      const streamed = await rig.anthropic.messages.stream(request).finalMessage();
      assert.deepEqual(callsOf(streamed.content), expected);
    });
  }
});

describe('translation keeps the reasoning', () => {
  for (const provider of ['gemini', 'bedrock', 'ollama'] as const) {
    test(`Anthropic client → ${provider}: thinking blocks hold the provider's reasoning, whole and streamed`, async () => {
      const request = {
        model: provider,
        max_tokens: 2048,
        thinking: { type: 'enabled' as const, budget_tokens: 1024 },
        messages: [{ role: 'user' as const, content: 'Why is the sky blue?' }],
      };
      const whole = await rig.anthropic.messages.create(request);
      const expected = upstreamReasoning(provider, upstreamAnswer());
      assert.ok(expected.length > 0);
      const thinking = (content: typeof whole.content) =>
        content.map((block) => (block.type === 'thinking' ? block.thinking : '')).join('');
      assert.equal(thinking(whole.content), expected);
      assert.equal(thinking((await rig.anthropic.messages.stream(request).finalMessage()).content), expected);
    });

    test(`OpenAI client → ${provider}: reasoning_content holds the provider's reasoning, whole and streamed`, async () => {
      const request = {
        model: provider,
        reasoning_effort: 'low' as const,
        messages: [{ role: 'user' as const, content: 'Why is the sky blue?' }],
      };
      const whole = await rig.openai.chat.completions.create(request);
      const expected = upstreamReasoning(provider, upstreamAnswer());
      assert.ok(expected.length > 0);
      const message = whole.choices[0]?.message as { reasoning_content?: string } | undefined;
      assert.equal(message?.reasoning_content, expected);
      let streamed = '';
      for await (const chunk of await rig.openai.chat.completions.create({ ...request, stream: true })) {
        streamed +=
          (chunk.choices[0]?.delta as { reasoning_content?: string } | undefined)?.reasoning_content ?? '';
      }
      assert.equal(streamed, expected);
    });
  }
});

describe('translation keeps the thinking signature a tool loop sends back', () => {
  for (const stream of [false, true]) {
    test(`Anthropic client → a Claude group it is translated for, ${stream ? 'streamed' : 'whole'}`, async () => {
      const request = {
        model: 'claude',
        max_tokens: 2048,
        thinking: { type: 'enabled' as const, budget_tokens: 1024 },
        tools: [{ name: 'get_weather', input_schema: WEATHER_PARAMETERS as Tool['input_schema'] }],
      };
      const ask = (messages: MessageParam[]) =>
        stream
          ? rig.anthropic.messages.stream({ ...request, messages }).finalMessage()
          : rig.anthropic.messages.create({ ...request, messages });
      const messages: MessageParam[] = [{ role: 'user', content: 'What will the weather be in Oslo?' }];
      const first = await ask(messages);
      const [thinking, use] = first.content;
      assert.ok(thinking?.type === 'thinking' && use?.type === 'tool_use', JSON.stringify(first.content));
      // The signature Anthropic gave this reasoning (the emulator's answers are deterministic).
      const reference = await rig.anthropic.messages.create({
        ...request,
        model: 'anthropic',
        messages,
      });
      assert.equal(thinking.signature, (reference.content[0] as { signature?: string }).signature);

      // Anthropic refuses a thinking tool loop whose reasoning comes back unsigned or altered.
      messages.push(
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny' }] },
      );
      const answer = await ask(messages);
      assert.equal(answer.stop_reason, 'end_turn');
    });
  }
});

describe('a translated Anthropic stream signs each thinking block before closing it, as Anthropic does', () => {
  for (const model of ['claude', 'bedrock']) {
    test(`${model}: signature_delta is the thinking block's last delta`, async () => {
      const response = await fetch(`${rig.gateway.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': MASTER_KEY, 'content-type': 'application/json' },
        body: JSON.stringify({
          model,
          max_tokens: 2048,
          stream: true,
          thinking: { type: 'enabled', budget_tokens: 1024 },
          messages: [{ role: 'user', content: 'Think about Oslo, then answer.' }],
        }),
      });
      assert.equal(response.status, 200);
      const events = (await response.text())
        .split('\n')
        .filter((line) => line.startsWith('data: '))
        .map((line) => JSON.parse(line.slice(6)) as Record<string, unknown> & { index?: number });
      const start = events.findIndex(
        (event) =>
          event.type === 'content_block_start' &&
          isRecord(event.content_block) &&
          event.content_block.type === 'thinking',
      );
      assert.ok(start >= 0, 'a thinking block');
      const index = events[start]!.index;
      const stop = events.findIndex(
        (event, at) => at > start && event.type === 'content_block_stop' && event.index === index,
      );
      const ofBlock = events.slice(start + 1, stop);
      const last = ofBlock.at(-1)!;
      assert.ok(isRecord(last.delta) && last.delta.type === 'signature_delta', JSON.stringify(last));
      assert.ok(typeof last.delta.signature === 'string' && last.delta.signature !== '');
      assert.equal(
        events.filter((event) => isRecord(event.delta) && event.delta.type === 'signature_delta').length,
        1,
        'signed once',
      );
    });
  }
});
