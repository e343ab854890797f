/**
 * `forward`: a native body passes through untouched but for its model and credentials, the response comes
 * back unread, and failures before the response are typed and retried like any call.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import {
  LLMInvalidResponseError,
  LLMRateLimitError,
  LLMTimeoutError,
  LLMUnsupportedError,
} from '../spec/errors.ts';
import { LLMClientFactory } from './factory.ts';

let emulator: Emulator;
const factory = new LLMClientFactory({ env: {} });

before(async () => {
  emulator = await startEmulator({ retryAfterMs: 5 });
});
after(async () => {
  await factory.close();
  await emulator.close();
});

async function read(body: AsyncIterable<Uint8Array>): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

const native = {
  model: 'caller-asked-for-this',
  messages: [{ role: 'user', content: 'hello there' }],
  logprobs: false,
  user: 'u-1',
  max_completion_tokens: 50,
};

test('a Chat Completions body goes out as it is but for the model; the answer comes back as sent', async () => {
  const client = factory.createClient('openai/gpt-4o-mini', emulator.clientOptions('openai'));
  const response = await client.forward({ protocol: 'openai-chat', body: native, stream: false });
  const text = await read(response.body);
  assert.equal(response.status, 200);
  const sent = emulator.requests.at(-1)!;
  assert.deepEqual(sent.body, { ...native, model: 'gpt-4o-mini' });
  assert.equal((JSON.parse(text) as { object: string }).object, 'chat.completion');
  assert.ok(response.requestId);
});

test('a stream always asks for its usage, and comes back as raw SSE', async () => {
  const client = factory.createClient('openai/gpt-4o-mini', emulator.clientOptions('openai'));
  const response = await client.forward({
    protocol: 'openai-chat',
    body: { ...native, stream: true },
    stream: true,
  });
  const text = await read(response.body);
  assert.deepEqual((emulator.requests.at(-1)!.body as { stream_options: unknown }).stream_options, {
    include_usage: true,
  });
  assert.match(text, /^data: /);
  assert.match(text, /"usage":\{"prompt_tokens"/);
  assert.match(text, /data: \[DONE\]\n\n$/);
});

test('Azure: the deployment URL carries the model, the body none', async () => {
  const client = factory.createClient('azure', {
    ...emulator.clientOptions('azure'),
    model: 'my-deployment',
  });
  const response = await client.forward({ protocol: 'openai-chat', body: native, stream: false });
  await read(response.body);
  const sent = emulator.requests.at(-1)!;
  assert.match(sent.path, /^\/openai\/deployments\/my-deployment\/chat\/completions\?api-version=/);
  assert.equal((sent.body as { model?: string }).model, undefined);
});

test('a 429 before the response is retried; a persistent one is a typed error', async () => {
  const client = factory.createClient('openai/gpt-4o-mini', {
    ...emulator.clientOptions('openai'),
    headers: { 'x-emulator-fault': 'rate-limit:1' },
  });
  const response = await client.forward({ protocol: 'openai-chat', body: native, stream: false });
  await read(response.body);
  assert.equal(response.status, 200);
  const failing = factory.createClient('openai/gpt-4o-mini', {
    ...emulator.clientOptions('openai'),
    headers: { 'x-emulator-fault': 'rate-limit' },
    maxRetries: 1,
  });
  const error = await failing
    .forward({ protocol: 'openai-chat', body: native, stream: false })
    .catch((e: unknown) => e);
  assert.ok(error instanceof LLMRateLimitError);
  assert.equal(error.attempts, 2);
});

test('a whole answer is read inside the attempt: a broken one is retried, then a typed error', async () => {
  // The first attempt's body is not JSON; the retry's is.
  const body = { ...native, user: 'u-malformed-once' };
  const client = factory.createClient('openai/gpt-4o-mini', {
    ...emulator.clientOptions('openai'),
    headers: { 'x-emulator-fault': 'malformed:1' },
  });
  const response = await client.forward({ protocol: 'openai-chat', body, stream: false });
  assert.ok(response.whole, 'a whole answer comes back read');
  assert.equal((response.whole.json as { object: string }).object, 'chat.completion');
  assert.equal(await read(response.body), response.whole.text);
  const always = factory.createClient('openai/gpt-4o-mini', {
    ...emulator.clientOptions('openai'),
    headers: { 'x-emulator-fault': 'malformed' },
    maxRetries: 1,
  });
  const error = await always
    .forward({ protocol: 'openai-chat', body, stream: false })
    .catch((e: unknown) => e);
  assert.ok(error instanceof LLMInvalidResponseError, String(error));
  assert.equal(error.attempts, 2);
});

test('a whole generation that stalls is not retried (it would be billed twice), as a completion', async () => {
  const client = factory.createClient('openai/gpt-4o-mini', {
    ...emulator.clientOptions('openai'),
    headers: { 'x-emulator-fault': 'stall' },
    timeoutMs: 300,
    streamIdleTimeoutMs: 200,
    maxRetries: 2,
  });
  const before = emulator.requests.length;
  const error = await client
    .forward({ protocol: 'openai-chat', body: { ...native, user: 'u-stall' }, stream: false })
    .catch((e: unknown) => e);
  assert.ok(error instanceof LLMTimeoutError, String(error));
  assert.match(error.message, /not retried/);
  assert.equal(emulator.requests.length - before, 1);
});

test('a protocol the provider does not speak is refused before sending', async () => {
  const client = factory.createClient('openai/gpt-4o-mini', emulator.clientOptions('openai'));
  assert.equal(client.speaks('openai-chat'), true);
  assert.equal(client.speaks('anthropic-messages'), false);
  const before = emulator.requests.length;
  await assert.rejects(
    client.forward({ protocol: 'anthropic-messages', body: native, stream: false }),
    LLMUnsupportedError,
  );
  assert.equal(emulator.requests.length, before);
});
