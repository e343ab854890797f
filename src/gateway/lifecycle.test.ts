/**
 * The gateway as operations see it: `/health` and `/ready` (503 while the state store is unreachable),
 * `/metrics` (requests, latency, tokens, cost per model and key name), a graceful shutdown on SIGTERM that
 * drains an in-flight stream (and cuts one that outlasts `drainTimeoutMs`), the body-size limit (413), the
 * request and keep-alive timeouts, the upstream response-size limit (502), and the JSON access log of
 * `llmf serve`: a line per request, no key in it.
 */
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import type { Emulator } from '../emulator/index.ts';
import { RUN_ID, redisInspector, redisRelay, requireRedis } from '../middleware/test-support/harness.ts';
import { costOf } from '../pricing/pricing.ts';
import { gatewayConfigFrom } from './config.ts';
import { type Gateway, startGateway } from './server.ts';
import {
  assertErrorShape,
  type ClientProtocol,
  call,
  chat,
  createKey,
  emulatorDeployments,
  MASTER_KEY,
  PROVIDER_KEY,
  sqliteConfig,
  startServe,
  startUpstream,
  tempFolder,
  until,
  writeConfig,
} from './test-support/keys-rig.ts';

/** A gateway in this process in front of `emulator`, SQLite in a temporary folder unless `state` says otherwise. */
async function gatewayFor(
  t: TestContext,
  emulator: Emulator,
  extra: { server?: Record<string, number>; state?: unknown } = {},
): Promise<Gateway> {
  const config = gatewayConfigFrom({
    masterKey: MASTER_KEY,
    state: extra.state ?? { sqlite: join(tempFolder(t), 'gateway.sqlite') },
    deployments: emulatorDeployments(emulator.url),
    server: extra.server ?? {},
  });
  const gateway = await startGateway({ config, port: 0 });
  t.after(() => gateway.close());
  return gateway;
}

describe('health and readiness', () => {
  test('/health and /ready answer without a key', async (t) => {
    const gateway = await gatewayFor(t, await startUpstream(t));
    const health = await call(gateway.url, '/health');
    assert.equal(health.status, 200);
    assert.deepEqual(health.json, { status: 'ok' });
    const ready = await call(gateway.url, '/ready');
    assert.equal(ready.status, 200);
    assert.deepEqual(ready.json, { status: 'ready' });
  });

  test('/ready is 503 while Redis refuses, and 200 again once it is back; /health stays 200', async (t) => {
    if (!(await requireRedis(t))) return;
    const relay = await redisRelay();
    const prefix = `llmf-test-gw-lifecycle-${RUN_ID}:`;
    t.after(async () => {
      await relay.cut();
      const redis = await redisInspector();
      await redis.clean(prefix);
      await redis.close();
    });
    const gateway = await gatewayFor(t, await startUpstream(t), { state: { redis: relay.url, prefix } });
    const { key } = await createKey(gateway.url, { name: 'through-an-outage' });
    assert.equal((await call(gateway.url, '/ready')).status, 200);

    await relay.cut();
    const unready = await call(gateway.url, '/ready');
    assert.equal(unready.status, 503);
    assert.deepEqual(unready.json, { status: 'state store unreachable' });
    assert.equal((await call(gateway.url, '/health')).status, 200, 'alive, only not ready');
    const refused = await chat(gateway.url, 'openai', key, { model: 'openai' });
    assertErrorShape(refused, 'openai', 503, 'server_error');
    assert.match(refused.json.error.message, /state store \(Redis\) cannot be reached/);

    await relay.restore();
    await until(async () => ((await call(gateway.url, '/ready')).status === 200 ? true : undefined), 100);
    assert.equal((await chat(gateway.url, 'openai', key, { model: 'openai' })).status, 200);
  });

  test('a Redis that refuses at start fails the start with a message naming it', async (t) => {
    const dir = tempFolder(t);
    const path = writeConfig(dir, {
      state: 'redis://127.0.0.1:9',
      deployments: emulatorDeployments('http://127.0.0.1:9'),
    });
    const started = startServe(t, ['--config', path]);
    await assert.rejects(
      started,
      /ended \(code 1\) before listening:\nllmf: The gateway's state store \(Redis\) cannot be reached/,
    );
  });
});

/** The value of the sample `name{labels}` in Prometheus text, or 0 when it is not there. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels)
    .map(([label, value]) => `${label}="${value}"`)
    .sort();
  for (const line of text.split('\n')) {
    const match = /^([a-z_]+)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const given = match[2]!.split(',').sort();
    if (wanted.every((label) => given.includes(label))) return Number(match[3]);
  }
  return 0;
}

test('/metrics: requests, latency, tokens and cost per model and key name, and no key', async (t) => {
  const emulator = await startUpstream(t);
  const gateway = await gatewayFor(t, emulator);
  const name = `metrics-${RUN_ID}`;
  const { key } = await createKey(gateway.url, { name, rpm: 3, models: ['openai', 'anthropic'] });
  let input = 0;
  let output = 0;
  let cost = 0;
  for (const content of ['first', 'second']) {
    const answer = await chat(gateway.url, 'openai', key, { model: 'openai', content, maxTokens: 20 });
    assert.equal(answer.status, 200);
    const usage = answer.json.usage;
    input += usage.prompt_tokens;
    output += usage.completion_tokens;
    cost += costOf('openai', 'gpt-4o-mini', {
      inputTokens: usage.prompt_tokens,
      outputTokens: usage.completion_tokens,
      totalTokens: usage.total_tokens,
    })!;
  }
  assert.equal((await chat(gateway.url, 'openai', key, { model: 'gemini' })).status, 403);
  assert.equal((await chat(gateway.url, 'anthropic', key, { model: 'anthropic' })).status, 200);
  assert.equal((await chat(gateway.url, 'openai', key, { model: 'openai' })).status, 429);

  const scraped = await fetch(`${gateway.url}/metrics`);
  assert.equal(scraped.status, 200);
  assert.match(scraped.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const text = await scraped.text();
  const requests = (model: string, endpoint: string, status: string) =>
    sample(text, 'llm_gateway_requests_total', { endpoint, model, key: name, status });
  assert.equal(requests('openai', 'chat.completions', '200'), 2);
  assert.equal(requests('gemini', 'chat.completions', '403'), 1);
  assert.equal(requests('anthropic', 'messages', '200'), 1);
  assert.equal(requests('openai', 'chat.completions', '429'), 1);
  assert.equal(sample(text, 'llm_gateway_refusals_total', { key: name, reason: 'rpm' }), 1);
  const tokens = (direction: string) =>
    sample(text, 'llm_gateway_tokens_total', { model: 'openai', key: name, direction });
  assert.equal(tokens('input'), input, 'input tokens as the provider reported them');
  assert.equal(tokens('output'), output);
  const charged = sample(text, 'llm_gateway_cost_usd_total', { model: 'openai', key: name });
  assert.ok(Math.abs(charged - cost) < 1e-12, `cost ${charged}, the usage prices at ${cost}`);
  assert.ok(sample(text, 'llm_gateway_cost_usd_total', { model: 'anthropic', key: name }) > 0);
  assert.ok(
    sample(text, 'llm_gateway_request_duration_seconds_count', {
      endpoint: 'chat.completions',
      model: 'openai',
    }) >= 3,
    'latency is observed per endpoint and model',
  );
  assert.equal(sample(text, 'llm_gateway_requests_in_flight', { endpoint: 'chat.completions' }), 0);
  assert.ok(
    sample(text, 'llm_router_attempts_total', { deployment: 'openai', outcome: 'success' }) >= 2,
    "the router's metrics are on the same page",
  );
  for (const secret of [key, MASTER_KEY, PROVIDER_KEY]) assert.ok(!text.includes(secret.slice(-20)));
});

describe('graceful shutdown', () => {
  /** Starts a stream through the gateway at `url`; resolves once its first chunk arrived, with the rest to come. */
  async function openStream(url: string, maxTokens: number) {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${MASTER_KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'openai',
        max_tokens: maxTokens,
        stream: true,
        messages: [{ role: 'user', content: 'Tell me a long story about draining streams on shutdown' }],
      }),
    });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = decoder.decode((await reader.read()).value);
    const rest = (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return { text, error: undefined };
          text += decoder.decode(value);
        }
      } catch (error) {
        return { text, error: error as Error };
      }
    })();
    return { rest };
  }

  /** True when a new connection to `url` is refused (`agent: false`: never a pooled one). */
  function refusesConnections(url: string): Promise<boolean> {
    return new Promise((resolve) => {
      const request = httpRequest(`${url}/health`, { agent: false }, (response) => {
        response.resume();
        resolve(false);
      });
      request.on('error', () => resolve(true));
      request.end();
    });
  }

  const streamedText = (sse: string) =>
    sse
      .split('\n\n')
      .filter((frame) => frame.startsWith('data: {'))
      .map((frame) => JSON.parse(frame.slice(6)).choices?.[0]?.delta?.content ?? '')
      .join('');

  test('SIGTERM stops new connections and drains an in-flight stream: the client gets all of it', async (t) => {
    const emulator = await startUpstream(t, { tokensPerSecond: 40 });
    // A deadline longer than the test's own timeout: the process must end because the stream did.
    const path = sqliteConfig(t, emulator.url, { drainTimeoutMs: 600_000 });
    const gateway = await startServe(t, ['--config', path]);
    const whole = await chat(emulator.url, 'openai', 'direct', {
      model: 'gpt-4o-mini',
      maxTokens: 30,
      content: 'Tell me a long story about draining streams on shutdown',
    });
    const stream = await openStream(gateway.url, 30);
    gateway.child.kill('SIGTERM');
    await until(async () => ((await refusesConnections(gateway.url)) ? true : undefined));
    const { text, error } = await stream.rest;
    assert.equal(error, undefined, 'the stream ended cleanly');
    assert.match(text, /data: \[DONE\]\n\n$/);
    assert.equal(streamedText(text), whole.json.choices[0].message.content, 'every token arrived');
    assert.deepEqual(await gateway.exited, { code: 0, signal: null });
  });

  test('a stream that outlasts drainTimeoutMs is cut at the deadline and the process ends', async (t) => {
    const emulator = await startUpstream(t, { tokensPerSecond: 10 });
    const path = sqliteConfig(t, emulator.url, { drainTimeoutMs: 300 });
    const gateway = await startServe(t, ['--config', path]);
    // 1,000 tokens at 10 a second: far longer than the test may run.
    const stream = await openStream(gateway.url, 1_000);
    gateway.child.kill('SIGTERM');
    assert.deepEqual(await gateway.exited, { code: 0, signal: null });
    const { text, error } = await stream.rest;
    assert.ok(error, 'the client sees the stream broken, not a clean end');
    assert.doesNotMatch(text, /\[DONE\]/);
    // Before the cut, an in-band error says why, in the stream's protocol.
    const last = text.trimEnd().split('\n\n').at(-1) ?? '';
    assert.match(last, /^data: \{"error":/, `the stream's last event: ${last}`);
    assert.equal(JSON.parse(last.slice(6)).error.code, 'shutting_down');
  });
});

describe('limits on what comes in and what comes back', () => {
  /** Sends `body` chunked (no content-length) with node:http; resolves with the answer, or the socket's error. */
  function postChunked(url: string, path: string, body: string, headers: Record<string, string>) {
    return new Promise<{ status: number; text: string } | { error: string }>((resolve) => {
      const request = httpRequest(
        `${url}${path}`,
        { method: 'POST', agent: false, headers: { 'content-type': 'application/json', ...headers } },
        (response) => {
          let text = '';
          response.on('data', (chunk: Buffer) => (text += chunk.toString()));
          response.on('end', () => resolve({ status: response.statusCode!, text }));
          response.on('error', (error) => resolve({ error: error.message }));
        },
      );
      request.on('error', (error) => resolve({ error: error.message }));
      // In pieces, as a client streaming its upload would.
      for (let at = 0; at < body.length; at += 16_384) request.write(body.slice(at, at + 16_384));
      request.end();
    });
  }

  for (const protocol of ['openai', 'anthropic'] as ClientProtocol[]) {
    test(`${protocol}: a body over bodyLimitBytes is a 413 in the client's protocol, declared or chunked`, async (t) => {
      const gateway = await gatewayFor(t, await startUpstream(t), { server: { bodyLimitBytes: 4096 } });
      const big = 'x'.repeat(8_192);
      const declared = await chat(gateway.url, protocol, MASTER_KEY, { model: 'openai', content: big });
      assertErrorShape(
        declared,
        protocol,
        413,
        protocol === 'openai' ? 'invalid_request_error' : 'request_too_large',
      );
      assert.match(declared.text, /larger than 4096 bytes \(bodyLimitBytes\)/);

      const path = protocol === 'openai' ? '/v1/chat/completions' : '/v1/messages';
      const body = JSON.stringify({
        model: 'openai',
        max_tokens: 10,
        messages: [{ role: 'user', content: 'y'.repeat(64 * 1024) }],
      });
      const chunked = await postChunked(gateway.url, path, body, { authorization: `Bearer ${MASTER_KEY}` });
      assert.ok('status' in chunked, `the client got an answer, not ${JSON.stringify(chunked)}`);
      assert.equal(chunked.status, 413);
      const parsed = JSON.parse(chunked.text);
      if (protocol === 'openai') assert.equal(parsed.error.code, 'request_too_large');
      else assert.equal(parsed.error.type, 'request_too_large');

      const small = await chat(gateway.url, protocol, MASTER_KEY, { model: 'openai', content: 'small' });
      assert.equal(small.status, 200, 'a body within the limit passes');
    });
  }

  test('a client that stops sending its request gets a 408 after requestTimeoutMs, and the socket closes', async (t) => {
    const gateway = await gatewayFor(t, await startUpstream(t), { server: { requestTimeoutMs: 300 } });
    const { port } = new URL(gateway.url);
    const head = `POST /v1/chat/completions HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer ${MASTER_KEY}\r\n`;
    for (const partial of [
      // Headers whole, the body cut short.
      `${head}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"model":`,
      // Headers never finished.
      `${head}Content-Type: appl`,
    ]) {
      const socket = connect(Number(port), '127.0.0.1');
      t.after(() => socket.destroy());
      socket.write(partial);
      const answer = await new Promise<string>((resolve, reject) => {
        let received = '';
        // A bound far beyond the 300 ms asked for: a request timeout that waits this long is not one.
        const timer = setTimeout(() => reject(new Error(`no answer after 10 s; got "${received}"`)), 10_000);
        socket.on('data', (chunk) => (received += chunk.toString()));
        socket.on('close', () => {
          clearTimeout(timer);
          resolve(received);
        });
      });
      assert.match(answer, /^HTTP\/1\.1 408 /);
    }
  });

  test('an idle keep-alive connection is closed after keepAliveTimeoutMs', async (t) => {
    const gateway = await gatewayFor(t, await startUpstream(t), { server: { keepAliveTimeoutMs: 300 } });
    const { port } = new URL(gateway.url);
    const socket = connect(Number(port), '127.0.0.1');
    t.after(() => socket.destroy());
    socket.write('GET /health HTTP/1.1\r\nHost: gateway\r\nConnection: keep-alive\r\n\r\n');
    const received = await new Promise<string>((resolve, reject) => {
      let text = '';
      const timer = setTimeout(() => reject(new Error('the idle connection was kept over 10 s')), 10_000);
      socket.on('data', (chunk) => (text += chunk.toString()));
      socket.on('close', () => {
        clearTimeout(timer);
        resolve(text);
      });
    });
    assert.match(received, /^HTTP\/1\.1 200 /);
    assert.match(received, /keep-alive/i, 'it was a keep-alive connection, closed by the server when idle');
  });

  test('an upstream answer over upstreamMaxBytes is a 502, or an in-band error once a stream began', async (t) => {
    const emulator = await startUpstream(t);
    // The emulator quotes the prompt: a long one makes a long answer (OpenAI's ~830 bytes, Anthropic's ~660;
    // one token ~570 and ~400).
    const long = `Please repeat ${'all of this, '.repeat(200)}`;
    for (const [model, limit] of [
      ['openai', 700],
      ['anthropic', 520],
    ] as const) {
      const gateway = await gatewayFor(t, emulator, { server: { upstreamMaxBytes: limit } });
      for (const protocol of ['openai', 'anthropic'] as ClientProtocol[]) {
        const route = `${protocol} client → ${model}`;
        const small = await chat(gateway.url, protocol, MASTER_KEY, { model, maxTokens: 1, content: 'hi' });
        assert.equal(small.status, 200, `${route}: a small answer passes`);
        const large = await chat(gateway.url, protocol, MASTER_KEY, {
          model,
          maxTokens: 1_000,
          content: long,
        });
        assertErrorShape(large, protocol, 502, 'api_error');
        assert.match(large.text, new RegExp(`more than ${limit} bytes|larger than ${limit} bytes`), route);
      }
      const streamed = await chat(gateway.url, model === 'openai' ? 'openai' : 'anthropic', MASTER_KEY, {
        model,
        maxTokens: 1_000,
        content: long,
        stream: true,
      });
      assert.equal(streamed.status, 200, 'the stream began');
      assert.match(streamed.text, new RegExp(`"The provider's stream is larger than ${limit} bytes`));
      assert.doesNotMatch(streamed.text, /\[DONE\]|message_stop/, 'never a clean end');
    }
  });
});

describe('access logs of llmf serve', () => {
  test('a JSON line per request on stderr, with its id, status, key name and usage, and no key', async (t) => {
    const emulator = await startUpstream(t);
    const path = sqliteConfig(t, emulator.url);
    const gateway = await startServe(t, ['--config', path]);
    const name = 'logged-team';
    // Five calls reach a provider (count_tokens among them); the sixth is over the rpm.
    const { id, key } = await createKey(gateway.url, { name, rpm: 5, models: ['openai', 'anthropic'] });
    const expected: Array<{ requestId: string | null; endpoint: string; status: number; key: string }> = [];
    const expect = (
      answer: Awaited<ReturnType<typeof call>>,
      endpoint: string,
      status: number,
      who = name,
    ) => {
      assert.equal(answer.status, status, answer.text);
      expected.push({ requestId: answer.headers.get('x-request-id'), endpoint, status, key: who });
    };
    expect(await chat(gateway.url, 'openai', key, { model: 'openai' }), 'chat.completions', 200);
    expect(await chat(gateway.url, 'anthropic', key, { model: 'anthropic', stream: true }), 'messages', 200);
    expect(
      await chat(gateway.url, 'openai', `llmf-${'B'.repeat(43)}`, { model: 'openai' }),
      'chat.completions',
      401,
      'anonymous',
    );
    expect(await chat(gateway.url, 'openai', key, { model: 'gemini' }), 'chat.completions', 403);
    expect(
      await call(gateway.url, '/v1/embeddings', { key, body: { model: 'openai', input: 'a line' } }),
      'embeddings',
      200,
    );
    expect(await call(gateway.url, '/v1/models', { key }), 'models', 200);
    expect(
      await call(gateway.url, '/v1/messages/count_tokens', {
        key,
        body: { model: 'anthropic', messages: [{ role: 'user', content: 'count me' }] },
      }),
      'messages.count_tokens',
      200,
    );
    expect(await chat(gateway.url, 'openai', key, { model: 'openai' }), 'chat.completions', 200);
    expect(await chat(gateway.url, 'openai', key, { model: 'openai' }), 'chat.completions', 429);
    expect(await call(gateway.url, '/admin/keys', { key: MASTER_KEY }), 'admin.keys.list', 200, 'master');
    expect(await call(gateway.url, `/admin/keys/${id}/spend`, { key }), 'admin.keys.spend', 403, 'anonymous');
    expect(
      await call(gateway.url, `/admin/keys/${id}`, { method: 'DELETE', key: MASTER_KEY }),
      'admin.keys.revoke',
      200,
      'master',
    );

    gateway.child.kill('SIGTERM');
    assert.deepEqual(await gateway.exited, { code: 0, signal: null });
    const stderr = gateway.stderr();
    const lines = stderr.split('\n').filter(Boolean);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const requests = parsed.filter((line) => line.msg === 'request');
    // The key made first, through the admin API, is logged too.
    assert.equal(requests.length, expected.length + 1, stderr);
    assert.deepEqual(
      requests.slice(1).map(({ requestId, endpoint, status, key: who }) => ({
        requestId:
          typeof requestId === 'string' && expected.some((e) => e.requestId === requestId) ? requestId : null,
        endpoint,
        status,
        key: who,
      })),
      expected.map(({ requestId, endpoint, status, key: who }) => ({
        requestId,
        endpoint,
        status,
        key: who,
      })),
    );
    const created = requests[0]!;
    assert.equal(created.endpoint, 'admin.keys.create');
    assert.equal(created.status, 201);
    const first = requests[1]!;
    assert.equal(first.model, 'openai');
    assert.equal(first.deployment, 'openai');
    assert.ok(Number(first.inputTokens) > 0 && Number(first.outputTokens) > 0 && Number(first.costUsd) > 0);
    assert.equal(typeof first.ms, 'number');
    assert.equal(typeof first.pid, 'number');
    for (const secret of [key, MASTER_KEY, PROVIDER_KEY]) {
      assert.ok(!stderr.includes(secret.slice(-20)), 'no key in the log');
    }
  });

  test('--log-level silent logs nothing, --log-level warn no request lines', async (t) => {
    const emulator = await startUpstream(t);
    const path = sqliteConfig(t, emulator.url);
    for (const level of ['silent', 'warn']) {
      const gateway = await startServe(t, ['--config', path, '--log-level', level]);
      assert.equal((await chat(gateway.url, 'openai', MASTER_KEY, { model: 'openai' })).status, 200);
      assert.equal((await chat(gateway.url, 'openai', 'not-a-key', { model: 'openai' })).status, 401);
      gateway.child.kill('SIGTERM');
      await gateway.exited;
      assert.equal(gateway.stderr(), '', `--log-level ${level}`);
    }
  });
});
