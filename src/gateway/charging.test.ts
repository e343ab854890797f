/**
 * What a key is charged, where a review found it wrong: a stream the client cut (or that broke) was charged
 * nothing, though the provider billed it; prompt-cache reads passed through were priced as fresh input;
 * count_tokens went past the key's rpm; a pass-through body the translation could not read was refused
 * though the provider would take it, while a translated one lost its logprobs silently; and an image URL a client named was fetched from inside the gateway's
 * network.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import { costOf } from '../pricing/pricing.ts';
import { fixtureJson } from '../test-support/fixtures.ts';
import { toAnthropicMessage } from './anthropic-answer.ts';
import { gatewayConfigFrom } from './config.ts';
import { usageOf } from './pass-through.ts';
import { type Gateway, startGateway } from './server.ts';
import {
  assertErrorShape,
  call,
  createKey,
  emulatorDeployments,
  MASTER_KEY,
  tempFolder,
  until,
} from './test-support/keys-rig.ts';

async function setUp(t: TestContext, tokensPerSecond = 0): Promise<{ emulator: Emulator; gateway: Gateway }> {
  const dir = tempFolder(t);
  const emulator = await startEmulator({ tokensPerSecond });
  const config = gatewayConfigFrom({
    masterKey: MASTER_KEY,
    state: { sqlite: join(dir, 'gateway.sqlite') },
    deployments: emulatorDeployments(emulator.url),
  });
  const gateway = await startGateway({ config, port: 0 });
  t.after(async () => {
    await gateway.close();
    await emulator.close();
  });
  return { emulator, gateway };
}

interface Spend {
  requests: number;
  inputTokens: number;
  outputTokens: number;
  spendUsd: number;
  reservedUsd: number;
}

const spendOf = async (gateway: Gateway, id: string): Promise<Spend> =>
  (await call(gateway.url, `/admin/keys/${id}/spend`, { key: MASTER_KEY })).json;

/** Opens a stream, reads `events` of its SSE events, then leaves; returns how many bytes it read. */
async function readThenLeave(
  gateway: Gateway,
  path: string,
  key: string,
  body: Record<string, unknown>,
  events: number,
): Promise<number> {
  const controller = new AbortController();
  const response = await fetch(`${gateway.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${key}`,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
    },
    body: JSON.stringify({ ...body, stream: true }),
    signal: controller.signal,
  });
  assert.equal(response.status, 200);
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while ((text.match(/\n\n/g) ?? []).length < events) {
    const { value, done } = await reader.read();
    if (done) throw new Error('the stream ended before the client meant to leave');
    text += decoder.decode(value, { stream: true });
  }
  controller.abort();
  await reader.cancel().catch(() => {});
  return text.length;
}

const LONG_PROMPT = 'Tell me, at length, everything the emulator would say about itself.';

describe('a stream cut short is charged what the provider billed, estimated', () => {
  const cases = [
    { name: 'OpenAI passed through', path: '/v1/chat/completions', model: 'openai' },
    {
      name: 'OpenAI client, Anthropic deployment (translated)',
      path: '/v1/chat/completions',
      model: 'anthropic',
    },
    { name: 'Anthropic passed through', path: '/v1/messages', model: 'anthropic' },
    { name: 'Anthropic client, OpenAI deployment (translated)', path: '/v1/messages', model: 'openai' },
  ];
  for (const { name, path, model } of cases) {
    test(name, async (t) => {
      // 30 tokens a second: the answer takes seconds, and the client leaves after a few of its words.
      const { gateway } = await setUp(t, 30);
      const { id, key } = await createKey(gateway.url, { name: `cut-${model}`, budgetUsd: 1 });
      const body = { model, max_tokens: 400, messages: [{ role: 'user', content: LONG_PROMPT }] };
      await readThenLeave(gateway, path, key, body, 6);
      const spend = await until(async () => {
        const now = await spendOf(gateway, id);
        return now.requests === 1 ? now : undefined;
      });
      assert.ok(spend.inputTokens >= 10, `the prompt is charged: ${JSON.stringify(spend)}`);
      assert.ok(
        spend.outputTokens >= 2,
        `the words that reached the client are charged: ${JSON.stringify(spend)}`,
      );
      assert.ok(spend.outputTokens < 400, 'not the whole max_tokens');
      assert.ok(spend.spendUsd > 0, 'priced');
      assert.equal(spend.reservedUsd, 0, 'the hold is released');
    });
  }
});

describe('prompt-cache reads passed through are priced as cache reads', () => {
  test('OpenAI: prompt_tokens_details.cached_tokens, from a recorded answer', () => {
    const recorded = fixtureJson<{ attempts: Array<{ rawResponseBody: unknown }> }>(
      'openai',
      'chat-completion.cached-tokens.wrapper.json',
    ).attempts[1]!.rawResponseBody;
    const usage = usageOf('openai', recorded)!;
    assert.equal(usage.cachedInputTokens, 9984);
    const asCached = costOf('openai', 'gpt-4o-mini', usage)!;
    const asFresh = costOf('openai', 'gpt-4o-mini', { ...usage, cachedInputTokens: 0 })!;
    assert.ok(asCached < asFresh * 0.6, `${asCached} vs ${asFresh}`);
  });

  test("Anthropic: cache reads and writes are input, said apart (the shape of Anthropic's documented usage)", () => {
    const usage = usageOf('anthropic', {
      usage: {
        input_tokens: 12,
        cache_read_input_tokens: 100_000,
        cache_creation_input_tokens: 2_000,
        output_tokens: 30,
      },
    })!;
    assert.deepEqual(usage, {
      inputTokens: 102_012,
      outputTokens: 30,
      totalTokens: 102_042,
      cachedInputTokens: 100_000,
      cacheWriteInputTokens: 2_000,
    });
    const cost = costOf('anthropic', 'claude-sonnet-4-6', usage)!;
    // 100k reads at a tenth of the input price: far below what 102k fresh tokens cost.
    assert.ok(cost < 0.1, `${cost}`);
  });

  test("a translated Anthropic answer's input_tokens leaves the cached tokens out, as Anthropic's does", () => {
    const message = toAnthropicMessage(
      {
        text: 'ok',
        message: { role: 'assistant', content: [{ type: 'text', text: 'ok' }] },
        toolCalls: [],
        finishReason: 'stop',
        usage: { inputTokens: 1000, outputTokens: 5, totalTokens: 1005, cachedInputTokens: 900 },
      } as never,
      'chat',
    ) as { usage: Record<string, number> };
    assert.equal(message.usage.input_tokens, 100);
    assert.equal(message.usage.cache_read_input_tokens, 900);
  });
});

describe('what reaches a provider counts against the key', () => {
  test('count_tokens takes a request from the rpm', async (t) => {
    const { gateway } = await setUp(t);
    const { key } = await createKey(gateway.url, { name: 'counting', rpm: 2 });
    const count = () =>
      call(gateway.url, '/v1/messages/count_tokens', {
        key,
        keyHeader: 'x-api-key',
        body: { model: 'anthropic', messages: [{ role: 'user', content: 'count me' }] },
      });
    assert.equal((await count()).status, 200);
    assert.equal((await count()).status, 200);
    assertErrorShape(await count(), 'anthropic', 429, 'rate_limit_error');
  });
});

describe('pass-through takes what the provider takes; translation refuses what it cannot carry', () => {
  test('logprobs asked of a translated model are a 400 naming them, not an answer without them', async (t) => {
    const { emulator, gateway } = await setUp(t);
    const { key } = await createKey(gateway.url, { name: 'wants-logprobs' });
    const before = emulator.requests.length;
    const answer = await call(gateway.url, '/v1/chat/completions', {
      key,
      body: {
        model: 'anthropic',
        logprobs: true,
        top_logprobs: 3,
        messages: [{ role: 'user', content: 'hi' }],
      },
    });
    assertErrorShape(answer, 'openai', 400, 'invalid_request_error');
    assert.match(answer.json.error.message, /logprobs/);
    assert.equal(emulator.requests.length, before, 'nothing reached a provider');
    const passed = await call(gateway.url, '/v1/chat/completions', {
      key,
      body: { model: 'openai', logprobs: true, messages: [{ role: 'user', content: 'hi' }] },
    });
    assert.equal(passed.status, 200, 'an OpenAI deployment takes them as they are');
  });

  test('n: 2 reaches the OpenAI deployment as sent, rather than a 400 of the translation', async (t) => {
    const { emulator, gateway } = await setUp(t);
    const { key } = await createKey(gateway.url, { name: 'two-choices' });
    const before = emulator.requests.length;
    const answer = await call(gateway.url, '/v1/chat/completions', {
      key,
      body: { model: 'openai', n: 2, messages: [{ role: 'user', content: 'two, please' }] },
    });
    assert.doesNotMatch(answer.text, /only 1 is supported/);
    const sent = emulator.requests
      .slice(before)
      .find((request) => request.path.includes('/chat/completions'));
    assert.ok(sent, 'the request reached the deployment');
    assert.equal((sent.body as { n?: number }).n, 2);
  });
});

describe('the gateway fetches no URL a client names', () => {
  test('an image URL for a deployment that cannot fetch it is refused, and never fetched', async (t) => {
    let fetched = 0;
    const internal = createServer((_, res) => {
      fetched++;
      res.end('secret');
    });
    await new Promise<void>((resolve) => internal.listen(0, '127.0.0.1', resolve));
    t.after(() => new Promise<void>((resolve) => internal.close(() => resolve())));
    const { gateway } = await setUp(t);
    const { key } = await createKey(gateway.url, { name: 'curious' });
    const url = `http://127.0.0.1:${(internal.address() as AddressInfo).port}/latest/meta-data/iam`;
    const answer = await call(gateway.url, '/v1/chat/completions', {
      key,
      body: {
        model: 'gemini',
        messages: [
          {
            role: 'user',
            content: [
              { type: 'text', text: 'what is this?' },
              { type: 'image_url', image_url: { url } },
            ],
          },
        ],
      },
    });
    assertErrorShape(answer, 'openai', 400, 'invalid_request_error');
    assert.equal(fetched, 0, 'the internal server saw no request');
  });
});
