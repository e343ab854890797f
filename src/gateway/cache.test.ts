/**
 * The gateway's response cache against the emulator: a repeated request is answered from the cache (the
 * provider sees it once, the key is charged once), whole and streamed, passed through and translated; the
 * client's cache-control is obeyed; keys do not see each other's answers unless the cache is shared; a
 * stream that broke is never kept.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import OpenAI from 'openai';
import { emulatorGatewayConfig } from '../cli/serve.ts';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import { cachePathFor } from './cache.ts';
import { gatewayConfigFrom, validateGatewayConfig } from './config.ts';
import { type Gateway, startGateway } from './server.ts';

const MASTER = 'master-key-for-the-cache-tests';

async function setUp(
  t: import('node:test').TestContext,
  cache: unknown,
  emulatorOptions: Parameters<typeof startEmulator>[0] = {},
): Promise<{ emulator: Emulator; gateway: Gateway; dir: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'llmf-gw-cache-'));
  const emulator = await startEmulator(emulatorOptions);
  const document = {
    ...(emulatorGatewayConfig(emulator, MASTER, join(dir, 'gateway.sqlite')) as object),
    cache,
  };
  const gateway = await startGateway({ config: gatewayConfigFrom(document), port: 0 });
  t.after(async () => {
    await gateway.close();
    await emulator.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { emulator, gateway, dir };
}

async function post(gateway: Gateway, key: string, body: unknown, headers: Record<string, string> = {}) {
  const response = await fetch(`${gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    cache: response.headers.get('x-llmf-cache'),
    text: await response.text(),
  };
}

async function createKey(gateway: Gateway, name: string): Promise<{ id: string; key: string }> {
  const response = await fetch(`${gateway.url}/admin/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
    body: JSON.stringify({ name }),
  });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()) as { id: string; key: string };
}

async function spendOf(gateway: Gateway, id: string): Promise<{ spendUsd: number; requests: number }> {
  const response = await fetch(`${gateway.url}/admin/keys/${id}/spend`, {
    headers: { authorization: `Bearer ${MASTER}` },
  });
  const { spendUsd, requests } = (await response.json()) as { spendUsd: number; requests: number };
  return { spendUsd, requests };
}

const chats = (emulator: Emulator) =>
  emulator.requests.filter((request) => /chat|messages|converse/.test(request.path)).length;

for (const model of ['openai', 'anthropic']) {
  const path = model === 'openai' ? 'passed through' : 'translated';
  test(`a repeated request (${path}) is answered from the cache, charged once`, async (t) => {
    const { emulator, gateway } = await setUp(t, true);
    const { id, key } = await createKey(gateway, 'team');
    const body = { model, messages: [{ role: 'user', content: 'What is the cache for?' }] };
    const first = await post(gateway, key, body);
    assert.equal(first.status, 200, first.text);
    assert.equal(first.cache, null);
    const spent = await spendOf(gateway, id);
    assert.ok(spent.spendUsd > 0 && spent.requests === 1, 'the first answer was charged');
    const second = await post(gateway, key, body);
    assert.equal(second.status, 200);
    assert.equal(second.cache, 'hit');
    assert.equal(second.text, first.text);
    assert.equal(chats(emulator), 1, 'the provider saw the request once');
    assert.deepEqual(await spendOf(gateway, id), spent, 'a hit is not charged');

    const other = await post(gateway, key, {
      ...body,
      messages: [{ role: 'user', content: 'Another question' }],
    });
    assert.equal(other.cache, null, 'another body is another entry');
    assert.equal(chats(emulator), 2);
  });

  test(`a repeated stream (${path}) is replayed from the cache and parses as the first did`, async (t) => {
    const { emulator, gateway } = await setUp(t, true);
    const openai = new OpenAI({ apiKey: MASTER, baseURL: `${gateway.url}/v1`, maxRetries: 0 });
    const read = async () => {
      const { data, response } = await openai.chat.completions
        .create({
          model,
          messages: [{ role: 'user', content: 'Stream me something' }],
          stream: true,
          stream_options: { include_usage: true },
        })
        .withResponse();
      let text = '';
      let usage: unknown;
      for await (const chunk of data) {
        text += chunk.choices[0]?.delta?.content ?? '';
        if (chunk.usage) usage = chunk.usage;
      }
      return { text, usage, cache: response.headers.get('x-llmf-cache') };
    };
    const first = await read();
    assert.ok(first.text.length > 0);
    assert.ok(first.usage, 'the usage chunk was asked for and sent');
    const second = await read();
    assert.equal(second.cache, 'hit');
    assert.equal(second.text, first.text);
    assert.deepEqual(second.usage, first.usage);
    assert.equal(chats(emulator), 1);
  });
}

test('cache-control: no-cache skips the read, no-store the write', async (t) => {
  const { emulator, gateway } = await setUp(t, {});
  const body = { model: 'openai', messages: [{ role: 'user', content: 'directives' }] };
  assert.equal((await post(gateway, MASTER, body, { 'cache-control': 'no-store' })).cache, null);
  assert.equal((await post(gateway, MASTER, body)).cache, null, 'no-store kept nothing');
  assert.equal((await post(gateway, MASTER, body, { 'cache-control': 'no-cache' })).cache, null);
  assert.equal((await post(gateway, MASTER, body)).cache, 'hit');
  assert.equal(chats(emulator), 3);
});

test('keys do not share answers unless the cache is shared', async (t) => {
  const body = { model: 'openai', messages: [{ role: 'user', content: 'whose answer?' }] };
  {
    const { gateway } = await setUp(t, { ttlMs: 60_000 });
    const a = await createKey(gateway, 'a');
    const b = await createKey(gateway, 'b');
    await post(gateway, a.key, body);
    assert.equal((await post(gateway, b.key, body)).cache, null);
    assert.equal((await post(gateway, a.key, body)).cache, 'hit');
  }
  {
    const { gateway } = await setUp(t, { shared: true });
    const a = await createKey(gateway, 'a');
    const b = await createKey(gateway, 'b');
    await post(gateway, a.key, body);
    assert.equal((await post(gateway, b.key, body)).cache, 'hit');
  }
});

test('a stream that broke after it began is not kept', async (t) => {
  // The first attempt of the body breaks after two chunks; the next identical one goes through.
  const { emulator, gateway } = await setUp(t, true, { fault: 'stream-error:1' });
  const body = {
    model: 'openai',
    messages: [{ role: 'user', content: 'break me once' }],
    stream: true,
  };
  const broken = await post(gateway, MASTER, body);
  assert.match(broken.text, /"error"/, 'the break reached the client in-band');
  const whole = await post(gateway, MASTER, body);
  assert.equal(whole.cache, null, 'the broken stream was not kept');
  assert.doesNotMatch(whole.text, /"error"/);
  const replay = await post(gateway, MASTER, body);
  assert.equal(replay.cache, 'hit');
  assert.equal(replay.text, whole.text);
  assert.equal(chats(emulator), 2);
});

test('an entry larger than maxEntryBytes is answered but not kept', async (t) => {
  const { emulator, gateway } = await setUp(t, { maxEntryBytes: 16 });
  const body = { model: 'openai', messages: [{ role: 'user', content: 'too big to keep' }] };
  assert.equal((await post(gateway, MASTER, body)).status, 200);
  assert.equal((await post(gateway, MASTER, body)).cache, null);
  assert.equal(chats(emulator), 2);
});

test('the cache file lives beside the state file', () => {
  assert.equal(cachePathFor('/var/llmf/gateway.sqlite'), '/var/llmf/gateway.cache.sqlite');
  assert.equal(cachePathFor('/var/llmf/state'), '/var/llmf/state.cache.sqlite');
});

test('a bad cache setting names the field', () => {
  const base = { deployments: [{ id: 'a', model: 'openai/gpt-4o-mini' }] };
  assert.throws(() => validateGatewayConfig({ ...base, cache: { ttl: 5 } }), /`cache\.ttl`: unknown field/);
  assert.throws(
    () => validateGatewayConfig({ ...base, cache: { ttlMs: -1 } }),
    /`cache\.ttlMs`: expected a positive/,
  );
  assert.throws(
    () => validateGatewayConfig({ ...base, cache: { shared: 'yes' } }),
    /`cache\.shared`: expected a boolean/,
  );
  assert.throws(
    () => validateGatewayConfig({ ...base, cache: 'on' }),
    /`cache`: expected true, false or an object/,
  );
  assert.equal(validateGatewayConfig(base).cache, undefined);
  assert.deepEqual(validateGatewayConfig({ ...base, cache: true }).cache, {});
});
