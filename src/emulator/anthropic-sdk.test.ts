/**
 * The official `@anthropic-ai/sdk`, pointed at the emulator, works unchanged (messages.create, streams,
 * countTokens, typed errors and its retries) — and so does our client: complete, stream,
 * generateCompletion, generateEmbeddings (unsupported), countTokens and countRequestTokens. The raw
 * protocol checks the API's own validation errors.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { LLMClientFactory } from '../client/factory.ts';
import { estimateTokens } from '../tokens/estimate.ts';
import { type Emulator, startEmulator } from './index.ts';

const KEY = 'test-anthropic-emulator-key';
// Not one the SDK warns about as deprecated (it does for claude-sonnet-4-5).
const MODEL = 'claude-haiku-4-5';
let emulator: Emulator;
before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await emulator.close();
});

const sdk = (options: ConstructorParameters<typeof Anthropic>[0] = {}) =>
  new Anthropic({ apiKey: KEY, baseURL: emulator.url, maxRetries: 0, ...options });

describe('official @anthropic-ai/sdk against the emulator', () => {
  test('messages.create: a message with text, stop reason and usage', async () => {
    const message = await sdk().messages.create({
      model: MODEL,
      max_tokens: 12,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'Explain quantum computing' }],
    });
    assert.equal(message.type, 'message');
    assert.equal(message.role, 'assistant');
    assert.equal(message.stop_reason, 'max_tokens');
    assert.equal(message.usage.output_tokens, 12);
    assert.ok(message.usage.input_tokens > 0);
    const [block] = message.content;
    assert.ok(block?.type === 'text' && block.text.startsWith('You asked: “Explain quantum computing”.'));
    assert.match(message.id, /^msg_/);
    const last = emulator.requests.at(-1)!;
    assert.equal(last.path, '/v1/messages');
    assert.ok(last.headers['anthropic-version'], 'the SDK names its API version');
  });

  test('messages.stream: text events, the final message and its usage', async () => {
    const request = {
      model: MODEL,
      max_tokens: 200,
      messages: [{ role: 'user' as const, content: 'Tell me a story' }],
    };
    const whole = await sdk().messages.create(request);
    const stream = sdk().messages.stream(request);
    let text = '';
    stream.on('text', (delta) => {
      text += delta;
    });
    const final = await stream.finalMessage();
    const [block] = whole.content;
    assert.ok(block?.type === 'text');
    assert.equal(text, block.text, 'the stream says what the message says');
    assert.equal(final.stop_reason, 'end_turn');
    assert.deepEqual(final.usage.input_tokens, whole.usage.input_tokens);
    assert.equal(final.usage.output_tokens, whole.usage.output_tokens);
  });

  test('messages.create({ stream: true }): the real event sequence', async () => {
    const stream = await sdk().messages.create({
      model: MODEL,
      max_tokens: 50,
      stop_sequences: ['asked'],
      messages: [{ role: 'user', content: 'Say something' }],
      stream: true,
    });
    const types: string[] = [];
    let stopReason: string | null | undefined;
    let stopSequence: string | null | undefined;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'message_delta') {
        stopReason = event.delta.stop_reason;
        stopSequence = event.delta.stop_sequence;
      }
    }
    assert.equal(types[0], 'message_start');
    assert.equal(types[1], 'content_block_start');
    assert.ok(types.includes('content_block_delta'));
    assert.deepEqual(types.slice(-3), ['content_block_stop', 'message_delta', 'message_stop']);
    assert.equal(stopReason, 'stop_sequence');
    assert.equal(stopSequence, 'asked');
  });

  test('messages.countTokens agrees with the usage of the same conversation', async () => {
    const messages = [{ role: 'user' as const, content: 'Hello, Claude' }];
    const counted = await sdk().messages.countTokens({
      model: MODEL,
      system: 'You are a scientist',
      messages,
    });
    const message = await sdk().messages.create({
      model: MODEL,
      max_tokens: 5,
      system: 'You are a scientist',
      messages,
    });
    assert.equal(counted.input_tokens, message.usage.input_tokens);
    assert.equal(emulator.requests.at(-2)!.path, '/v1/messages/count_tokens');
  });

  test('typed errors and the SDK’s own retries see real statuses and hints', async () => {
    const recovered = await sdk({ maxRetries: 2 }).messages.create(
      { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'retry me' }] },
      { headers: { 'x-emulator-fault': 'overloaded:1' } },
    );
    assert.equal(recovered.type, 'message');
    await assert.rejects(
      sdk().messages.create(
        { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'always limited' }] },
        { headers: { 'x-emulator-fault': 'rate-limit' } },
      ),
      (error: unknown) => error instanceof Anthropic.RateLimitError && error.status === 429,
    );
    await assert.rejects(
      sdk().messages.create(
        { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'overloaded' }] },
        { headers: { 'x-emulator-fault': 'overloaded' } },
      ),
      (error: unknown) => error instanceof Anthropic.InternalServerError && error.status === 529,
    );
    const withKeys = await startEmulator({ apiKeys: ['sk-ant-right'], models: [MODEL] });
    await assert.rejects(
      new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: withKeys.url, maxRetries: 0 }).messages.create({
        model: MODEL,
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
      (error: unknown) => error instanceof Anthropic.AuthenticationError,
    );
    await assert.rejects(
      new Anthropic({ apiKey: 'sk-ant-right', baseURL: withKeys.url, maxRetries: 0 }).messages.create({
        model: 'claude-unknown',
        max_tokens: 5,
        messages: [{ role: 'user', content: 'x' }],
      }),
      (error: unknown) =>
        error instanceof Anthropic.NotFoundError && /model: claude-unknown/.test(error.message),
    );
    await withKeys.close();
  });

  test('a mid-stream error event reaches the SDK as an overloaded error', async () => {
    const stream = await sdk().messages.create(
      { model: MODEL, max_tokens: 100, messages: [{ role: 'user', content: 'fail midway' }], stream: true },
      { headers: { 'x-emulator-fault': 'stream-error' } },
    );
    await assert.rejects(
      (async () => {
        for await (const _event of stream) {
          // drain
        }
      })(),
      (error: unknown) => error instanceof Anthropic.APIError && /overloaded_error/.test(error.message),
    );
  });
});

describe('our client against the emulator', () => {
  test('complete, stream, generateCompletion, countTokens and countRequestTokens agree with the SDK', async () => {
    const factory = new LLMClientFactory({
      env: { ANTHROPIC_API_KEY: KEY, ANTHROPIC_BASE_URL: emulator.url },
    });
    const ours = factory.createClient(`anthropic/${MODEL}`);
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'What is an LLM?' },
    ];
    const result = await ours.complete({ messages, maxTokens: 300 });
    const theirs = await sdk().messages.create({
      model: MODEL,
      max_tokens: 300,
      system: 'Be brief.',
      messages: [{ role: 'user', content: 'What is an LLM?' }],
    });
    const [block] = theirs.content;
    assert.ok(block?.type === 'text');
    assert.equal(result.text, block.text);
    assert.equal(result.provider, 'anthropic');
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.rawFinishReason, 'end_turn');
    assert.equal(result.usage.inputTokens, theirs.usage.input_tokens);
    assert.equal(result.usage.outputTokens, theirs.usage.output_tokens);
    assert.match(result.requestId ?? '', /^req_/);

    let streamed = '';
    for await (const event of ours.stream({ messages, maxTokens: 300 })) {
      if (event.type === 'text-delta') streamed += event.text;
      if (event.type === 'finish') assert.equal(event.usage.outputTokens, result.usage.outputTokens);
    }
    assert.equal(streamed, result.text);
    assert.equal(
      await ours.generateCompletion('What is an LLM?', { system: 'Be brief.', maxTokens: 300 }),
      result.text,
    );

    const counted = await ours.countRequestTokens({ messages });
    assert.deepEqual(counted, { inputTokens: result.usage.inputTokens, exact: true, source: 'endpoint' });
    assert.equal(ours.countTokens(result.text), estimateTokens(result.text), 'a labelled local estimate');
    await assert.rejects(ours.generateEmbeddings(['x']), (error: unknown) => {
      return (
        (error as { code?: string }).code === 'unsupported' && /Voyage AI/.test((error as Error).message)
      );
    });
    await factory.close();
  });

  test('max_tokens and stop sequences shape the answer as the model would', async () => {
    const factory = new LLMClientFactory({ env: {} });
    const ours = factory.createClient(`anthropic/${MODEL}`, { apiKey: KEY, baseURL: emulator.url });
    const cut = await ours.complete({ prompt: 'Tell me everything', maxTokens: 3 });
    assert.equal(cut.finishReason, 'length');
    assert.equal(cut.rawFinishReason, 'max_tokens');
    assert.equal(cut.usage.outputTokens, 3);
    const stopped = await ours.complete({ prompt: 'Tell me everything', stop: ['nothing here', '”'] });
    assert.equal(stopped.rawFinishReason, 'stop_sequence');
    assert.equal(stopped.finishReason, 'stop');
    assert.equal(stopped.text, 'You asked: “Tell me everything');
    assert.equal((stopped.raw as { stop_sequence: string }).stop_sequence, '”');
    await factory.close();
  });

  test('a context-window overflow comes back as LLMContextWindowError; an unknown model as not_found', async () => {
    const small = await startEmulator({ contextWindow: 20, models: [MODEL] });
    const factory = new LLMClientFactory({ env: {} });
    const client = factory.createClient(`anthropic/${MODEL}`, { apiKey: KEY, baseURL: small.url });
    await assert.rejects(client.complete({ prompt: 'word '.repeat(50) }), (error: unknown) => {
      const typed = error as { code?: string; message: string; status?: number };
      return (
        typed.code === 'context_window_exceeded' &&
        typed.status === 400 &&
        /prompt is too long: \d+ tokens > 20 maximum/.test(typed.message)
      );
    });
    await assert.rejects(client.complete({ prompt: 'x', model: 'claude-nope' }), (error: unknown) => {
      return (error as { code?: string }).code === 'not_found';
    });
    await factory.close();
    await small.close();
  });
});

describe('the emulated Messages API, raw', () => {
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${emulator.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }).then(async (response) => ({
      status: response.status,
      headers: response.headers,
      body: (await response.json()) as {
        type: string;
        error?: { type: string; message: string };
        request_id?: string;
      },
    }));
  const auth = { 'x-api-key': KEY, 'anthropic-version': '2023-06-01' };
  const valid = { model: MODEL, max_tokens: 5, messages: [{ role: 'user', content: 'x' }] };

  test('auth: no key is a 401 authentication_error; the version header is required', async () => {
    const noKey = await post('/v1/messages', valid, { 'anthropic-version': '2023-06-01' });
    assert.equal(noKey.status, 401);
    assert.equal(noKey.body.error?.type, 'authentication_error');
    assert.equal(noKey.headers.get('x-should-retry'), 'false');
    const noVersion = await post('/v1/messages', valid, { 'x-api-key': KEY });
    assert.equal(noVersion.status, 400);
    assert.deepEqual(noVersion.body.error, {
      type: 'invalid_request_error',
      message: 'anthropic-version: header is required',
    });
  });

  test('max_tokens is required on /v1/messages but not on count_tokens', async () => {
    const { max_tokens: _unused, ...withoutMax } = valid;
    const missing = await post('/v1/messages', withoutMax, auth);
    assert.equal(missing.status, 400);
    assert.deepEqual(missing.body.error, {
      type: 'invalid_request_error',
      message: 'max_tokens: Field required',
    });
    assert.equal(missing.body.request_id, missing.headers.get('request-id'));
    const counted = await post('/v1/messages/count_tokens', withoutMax, auth);
    assert.equal(counted.status, 200);
    assert.ok((counted.body as unknown as { input_tokens: number }).input_tokens > 0);
  });

  test('success carries request-id and anthropic-ratelimit-* headers', async () => {
    const ok = await post('/v1/messages', valid, auth);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('request-id') ?? '', /^req_/);
    for (const name of ['requests', 'tokens']) {
      assert.ok(Number(ok.headers.get(`anthropic-ratelimit-${name}-limit`)) > 0);
      assert.ok(Number(ok.headers.get(`anthropic-ratelimit-${name}-remaining`)) >= 0);
      assert.ok(!Number.isNaN(Date.parse(ok.headers.get(`anthropic-ratelimit-${name}-reset`) ?? '')));
    }
  });

  test('other providers’ paths are declined', async () => {
    const before = emulator.requests.length;
    const openai = await post(
      '/v1/chat/completions',
      { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x' }] },
      {
        authorization: 'Bearer sk-x',
      },
    );
    assert.equal(openai.status, 200, 'the OpenAI protocol still answers its own path');
    const legacy = await post('/v1/complete', { model: MODEL, prompt: 'x' }, auth);
    assert.equal(legacy.status, 404, 'a path no protocol serves');
    assert.equal(emulator.requests.length, before + 2);
  });
});
