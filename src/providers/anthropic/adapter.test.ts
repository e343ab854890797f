/**
 * What the Anthropic client sends and how it is configured: the request on the wire (served by a
 * loopback server), options and environment, usage accounting with prompt caching, and the capabilities
 * Anthropic lacks.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import type { ClientOptions } from '../../client/options.ts';
import { LLMBadRequestError, LLMConfigurationError, LLMUnsupportedError } from '../../spec/errors.ts';
import { fixtureText } from '../../test-support/fixtures.ts';
import { ReplayHarness } from '../../test-support/replay-harness.ts';
import { estimateMessagesTokens, estimateTokens } from '../../tokens/estimate.ts';

const KEY = 'test-anthropic-adapter-key';
const MESSAGE = fixtureText('anthropic', 'messages.nonstream.text.claude-sonnet-4-5.json');
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });

function client(options: ClientOptions = {}): LLMClient {
  return factory.createClient('anthropic/claude-sonnet-4-5', {
    apiKey: KEY,
    baseURL: harness.url,
    maxRetries: 0,
    ...options,
  });
}

/** Sends `request` and returns what reached the server. */
async function sent(
  request: Parameters<LLMClient['complete']>[0],
  options: ClientOptions = {},
): Promise<{ url: string; headers: Record<string, unknown>; body: Record<string, unknown> }> {
  await harness.complete(client(options), { body: MESSAGE }, request);
  const seen = harness.server.requests.at(-1)!;
  return { url: seen.url, headers: seen.headers, body: JSON.parse(seen.body) as Record<string, unknown> };
}

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

describe('anthropic requests', () => {
  test('POST /v1/messages with x-api-key, anthropic-version and JSON; max_tokens defaults to 4096', async () => {
    const { url, headers, body } = await sent({ prompt: 'Hello' });
    assert.equal(url, '/v1/messages');
    assert.equal(headers['x-api-key'], KEY);
    assert.equal(headers['anthropic-version'], '2023-06-01');
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers.authorization, undefined, 'the key goes in x-api-key only');
    assert.deepEqual(body, {
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'Hello' }],
      max_tokens: 4096,
    });
  });

  test('system turns are lifted into `system`, joined by blank lines; sampling fields are renamed', async () => {
    const { body } = await sent({
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hi' },
        { role: 'system', content: 'Answer in French.' },
        { role: 'assistant', content: 'Bonjour' },
        { role: 'user', content: 'Again' },
      ],
      temperature: 0.3,
      topP: 0.9,
      maxTokens: 77,
      stop: 'END',
    });
    assert.deepEqual(body, {
      model: 'claude-sonnet-4-5',
      system: 'Be brief.\n\nAnswer in French.',
      messages: [
        { role: 'user', content: 'Hi' },
        { role: 'assistant', content: 'Bonjour' },
        { role: 'user', content: 'Again' },
      ],
      max_tokens: 77,
      temperature: 0.3,
      top_p: 0.9,
      stop_sequences: ['END'],
    });
  });

  test('a tool message becomes a tool_result block in the user turn after the tool_use it answers', async () => {
    const { body } = await sent({
      messages: [
        { role: 'user', content: 'Weather in Paris?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool-call', id: 'toolu_01ABC', name: 'weather', arguments: '{"city":"Paris"}' },
          ],
        },
        { role: 'tool', content: '{"temp":21}', toolCallId: 'toolu_01ABC' },
      ],
      tools: [{ name: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } }],
      stop: ['a', 'b'],
    });
    assert.deepEqual(body.messages, [
      { role: 'user', content: 'Weather in Paris?' },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Let me look.' },
          { type: 'tool_use', id: 'toolu_01ABC', name: 'weather', input: { city: 'Paris' } },
        ],
      },
      {
        role: 'user',
        content: [{ type: 'tool_result', tool_use_id: 'toolu_01ABC', content: '{"temp":21}' }],
      },
    ]);
    assert.deepEqual(body.stop_sequences, ['a', 'b']);
  });

  test('a tool message without toolCallId fails before anything is sent', async () => {
    const before = harness.server.requests.length;
    const c = client();
    await assert.rejects(
      c.complete({ messages: [{ role: 'tool', content: 'x' } as never] }),
      (error: unknown) => error instanceof LLMBadRequestError && /toolCallId/.test(error.message),
    );
    await c.close();
    assert.equal(harness.server.requests.length, before);
  });

  test('providerOptions.anthropic are merged, never over a field the request sets; streams send stream: true', async () => {
    const { body } = await sent({
      prompt: 'x',
      maxTokens: 10,
      providerOptions: { anthropic: { top_k: 5, metadata: { user_id: 'u-1' } }, openai: { user: 'u-2' } },
    });
    assert.equal(body.max_tokens, 10);
    assert.equal(body.top_k, 5);
    assert.deepEqual(body.metadata, { user_id: 'u-1' });
    assert.equal(body.user, undefined, "another provider's options are not sent");
    const c = client();
    await assert.rejects(
      c.complete({ prompt: 'x', maxTokens: 10, providerOptions: { anthropic: { max_tokens: 20 } } }),
      (error: unknown) =>
        error instanceof LLMBadRequestError &&
        /providerOptions\.anthropic\.max_tokens.*maxTokens/.test(error.message),
    );
    await c.close();
    await harness.stream(client(), { body: fixtureText('anthropic', 'messages.stream.basic.raw.sse') });
    const seen = harness.server.requests.at(-1)!;
    assert.equal(JSON.parse(seen.body).stream, true);
    assert.equal(seen.headers.accept, 'text/event-stream');
  });

  test('baseURL is the host, as in the official SDK; a path prefix and a trailing slash are kept / folded', async () => {
    assert.equal((await sent({ prompt: 'x' }, { baseURL: `${harness.url}/` })).url, '/v1/messages');
    assert.equal(
      (await sent({ prompt: 'x' }, { baseURL: `${harness.url}/proxy/anthropic` })).url,
      '/proxy/anthropic/v1/messages',
    );
  });

  test('per-call and per-client headers are added', async () => {
    const { headers } = await sent(
      { prompt: 'x', headers: { 'x-call': '1' } },
      { headers: { 'anthropic-beta': 'b1' } },
    );
    assert.equal(headers['x-call'], '1');
    assert.equal(headers['anthropic-beta'], 'b1');
  });

  test('count_tokens takes model, system, messages and the tool fields, never sampling fields', async () => {
    const c = client();
    harness.next = { body: '{"input_tokens":42}' };
    const counted = await c.countRequestTokens({
      system: 'S',
      prompt: 'P',
      maxTokens: 5,
      temperature: 1,
      tools: [{ name: 't', parameters: { type: 'object', properties: {} } }],
      toolChoice: 'auto',
      providerOptions: { anthropic: { metadata: { user_id: 'u' } } },
    });
    await c.close();
    assert.deepEqual(counted, { inputTokens: 42, exact: true, source: 'endpoint' });
    assert.deepEqual(JSON.parse(harness.server.requests.at(-1)!.body), {
      model: 'claude-sonnet-4-5',
      system: 'S',
      messages: [{ role: 'user', content: 'P' }],
      tools: [{ name: 't', input_schema: { type: 'object', properties: {} } }],
      tool_choice: { type: 'auto' },
    });
  });
});

describe('anthropic usage', () => {
  test('input tokens include cache writes and reads; cached input is the reads', async () => {
    const body = {
      id: 'msg_cache',
      type: 'message',
      role: 'assistant',
      model: 'claude-sonnet-4-5',
      content: [{ type: 'text', text: 'ok' }],
      stop_reason: 'end_turn',
      usage: {
        input_tokens: 10,
        cache_creation_input_tokens: 200,
        cache_read_input_tokens: 3000,
        output_tokens: 5,
        output_tokens_details: { thinking_tokens: 2 },
      },
    };
    const result = await harness.complete(client(), { body: JSON.stringify(body) });
    assert.deepEqual(
      [
        result.usage.inputTokens,
        result.usage.cachedInputTokens,
        result.usage.outputTokens,
        result.usage.totalTokens,
      ],
      [3210, 3000, 5, 3215],
    );
    assert.equal(result.usage.reasoningTokens, 2);
  });

  test('a stream takes cache counts from message_start and the final counts from message_delta', async () => {
    const event = (type: string, payload: object) =>
      `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;
    const sse = [
      event('message_start', {
        message: {
          id: 'msg_s',
          model: 'claude-x',
          usage: {
            input_tokens: 7,
            cache_creation_input_tokens: 0,
            cache_read_input_tokens: 100,
            output_tokens: 1,
          },
        },
      }),
      event('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
      event('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hi' } }),
      event('content_block_stop', { index: 0 }),
      event('message_delta', { delta: { stop_reason: 'pause_turn' }, usage: { output_tokens: 9 } }),
      event('message_stop', {}),
    ].join('');
    const { finish } = await harness.stream(client(), { body: sse });
    assert.deepEqual(
      [finish.usage.inputTokens, finish.usage.cachedInputTokens, finish.usage.outputTokens],
      [107, 100, 9],
    );
    assert.equal(finish.finishReason, 'other');
    assert.equal(finish.rawFinishReason, 'pause_turn');
    assert.equal(finish.id, 'msg_s');
  });

  test('every stop reason maps as documented', async () => {
    const expected: Record<string, string> = {
      end_turn: 'stop',
      max_tokens: 'length',
      stop_sequence: 'stop',
      tool_use: 'tool-calls',
      refusal: 'content-filter',
      pause_turn: 'other',
      model_context_window_exceeded: 'length',
      something_new: 'other',
    };
    for (const [raw, mapped] of Object.entries(expected)) {
      const body = JSON.stringify({
        content: [],
        stop_reason: raw,
        usage: { input_tokens: 1, output_tokens: 1 },
      });
      const result = await harness.complete(client(), { body });
      assert.equal(result.finishReason, mapped, raw);
      assert.equal(result.rawFinishReason, raw);
    }
  });

  test('a stream cut before message_delta and message_stop is an LLMInvalidResponseError', async () => {
    const sse = fixtureText('anthropic', 'messages.stream.basic.raw.sse');
    const cut = sse.slice(0, sse.indexOf('event: message_delta'));
    await assert.rejects(harness.stream(client(), { body: cut }), (error: unknown) => {
      return (error as { code?: string }).code === 'invalid_response';
    });
  });
});

describe('anthropic configuration', () => {
  test('a missing key names both ways to give it', () => {
    assert.throws(
      () => new LLMClientFactory({ env: {} }).createClient('anthropic'),
      (error: unknown) =>
        error instanceof LLMConfigurationError &&
        error.message === 'No API key for anthropic: pass `apiKey` or set ANTHROPIC_API_KEY',
    );
  });

  test('ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL are read; options win; the default model is claude-sonnet-4-6', async () => {
    const env = new LLMClientFactory({
      env: { ANTHROPIC_API_KEY: 'sk-ant-env-key-000000', ANTHROPIC_BASE_URL: harness.url },
    });
    const c = env.createClient('anthropic');
    assert.equal(c.model, 'claude-sonnet-4-6');
    assert.equal(c.embeddingModel, undefined);
    await harness.complete(c, { body: MESSAGE });
    assert.equal(harness.server.requests.at(-1)!.headers['x-api-key'], 'sk-ant-env-key-000000');
    const overridden = env.createClient('claude-haiku-4-5', { apiKey: KEY });
    await harness.complete(overridden, { body: MESSAGE });
    const seen = harness.server.requests.at(-1)!;
    assert.equal(seen.headers['x-api-key'], KEY);
    assert.equal(JSON.parse(seen.body).model, 'claude-haiku-4-5');
    await env.close();
  });

  test('a bad ANTHROPIC_BASE_URL is named', () => {
    assert.throws(
      () =>
        new LLMClientFactory({
          env: { ANTHROPIC_API_KEY: 'k', ANTHROPIC_BASE_URL: 'not a url' },
        }).createClient('anthropic'),
      (error: unknown) => error instanceof LLMConfigurationError && /ANTHROPIC_BASE_URL/.test(error.message),
    );
  });

  test('embeddings are unsupported, and say where to go', async () => {
    const c = client();
    await assert.rejects(
      c.generateEmbeddings(['x']),
      (error: unknown) =>
        error instanceof LLMUnsupportedError &&
        /Voyage AI/.test(error.message) &&
        /'openai', 'gemini'/.test(error.message),
    );
    await c.close();
  });

  test('countTokens is a labelled estimate; a request is estimated locally only without the endpoint', async () => {
    const c = client();
    assert.equal(
      c.countTokens('Hello, Claude. How are you today?'),
      estimateTokens('Hello, Claude. How are you today?'),
    );
    await c.close();
    const { resolveAnthropic } = await import('./config.ts');
    const { adapter } = resolveAnthropic({ apiKey: KEY, headers: {} }, {});
    assert.equal(adapter.tokenCountExact, false);
    const messages = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Hello there' }] }];
    assert.deepEqual(adapter.countRequestTokensLocally({ messages, model: 'claude-sonnet-4-5' }), {
      inputTokens: estimateMessagesTokens([{ role: 'user', content: 'Hello there' }]),
      exact: false,
      source: 'estimate',
    });
    const withMedia = adapter.countRequestTokensLocally({
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'Hello there' },
            {
              type: 'image',
              source: { kind: 'url', url: 'https://example.com/a.png', mediaType: undefined },
            },
          ],
        },
      ],
      tools: [{ name: 't', parameters: { type: 'object', properties: {} } }],
      model: 'claude-sonnet-4-5',
    });
    assert.equal(withMedia.exact, false);
    assert.ok(
      withMedia.inputTokens > estimateMessagesTokens([{ role: 'user', content: 'Hello there' }]) + 1500,
      'an image and the tools are counted, roughly',
    );
    assert.equal(adapter.origin, 'https://api.anthropic.com');
  });
});
