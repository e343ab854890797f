/**
 * The gateway carries as many streams at once to one provider as its clients open. Regression: every
 * deployment kept the library's default pool of 128 sockets per origin, so the 129th concurrent stream to a
 * provider waited, headers and all, until one of the first 128 ended (bench/gateway.ts's 1,000 streams took
 * eight times as long as one).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Pool } from 'undici';
import { GATEWAY_UPSTREAM_CONNECTIONS, gatewayConfigFrom } from './config.ts';
import { startGateway } from './server.ts';

const MASTER = 'master-key-for-the-upstream-connection-tests';
const STREAMS = 200;
const CHUNK = (text: string) =>
  `data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":null}]}\n\n`;
const TAIL =
  'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}\n\ndata: [DONE]\n\n';

/**
 * An OpenAI-compatible upstream that starts every stream at once and ends them all only when `STREAMS` are
 * open together (or, so that a failing run ends, once no new one has arrived for a while).
 */
async function barrierUpstream(t: import('node:test').TestContext) {
  const open: ServerResponse[] = [];
  let mostAtOnce = 0;
  let stall: NodeJS.Timeout | undefined;
  const releaseAll = () => {
    clearTimeout(stall);
    for (const response of open.splice(0)) response.end(`${CHUNK('world')}${TAIL}`);
  };
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'text/event-stream' });
      response.write(CHUNK('hello'));
      open.push(response);
      mostAtOnce = Math.max(mostAtOnce, open.length);
      clearTimeout(stall);
      if (open.length === STREAMS) releaseAll();
      else stall = setTimeout(releaseAll, 3_000);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    releaseAll();
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, mostAtOnce: () => mostAtOnce };
}

test(`${STREAMS} streams at once through the gateway to one provider are all open upstream together`, async (t) => {
  const upstream = await barrierUpstream(t);
  const dir = mkdtempSync(join(tmpdir(), 'llmf-gw-upstream-'));
  const gateway = await startGateway({
    config: gatewayConfigFrom({
      masterKey: MASTER,
      state: { sqlite: join(dir, 'gateway.sqlite') },
      deployments: [
        {
          id: 'gpt-4o-mini',
          model: 'openai/gpt-4o-mini',
          options: { apiKey: 'test-key-not-real', baseURL: `${upstream.url}/v1` },
        },
      ],
    }),
    port: 0,
  });
  const client = new Pool(gateway.url, { connections: STREAMS });
  t.after(async () => {
    await client.close();
    await gateway.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const bodies = await Promise.all(
    Array.from({ length: STREAMS }, async () => {
      const response = await client.request({
        path: '/v1/chat/completions',
        method: 'POST',
        headers: { authorization: `Bearer ${MASTER}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          model: 'gpt-4o-mini',
          stream: true,
          messages: [{ role: 'user', content: 'hi' }],
        }),
      });
      assert.equal(response.statusCode, 200);
      return response.body.text();
    }),
  );

  assert.equal(upstream.mostAtOnce(), STREAMS);
  for (const body of bodies) {
    assert.match(body, /"content":"hello"[\s\S]*"content":"world"[\s\S]*data: \[DONE\]/);
  }
});

test('a deployment keeps the pool size its options give', () => {
  const config = gatewayConfigFrom({
    masterKey: MASTER,
    defaults: { pool: { keepAliveTimeoutMs: 5_000 } },
    deployments: [
      { id: 'a', model: 'openai/gpt-4o-mini', options: { apiKey: 'test-key-not-real' } },
      {
        id: 'b',
        model: 'openai/gpt-4o-mini',
        options: { apiKey: 'test-key-not-real', pool: { connections: 16 } },
      },
    ],
  });
  const [a, b] = config.router.deployments;
  assert.deepEqual(a?.options?.pool, {
    connections: GATEWAY_UPSTREAM_CONNECTIONS,
    keepAliveTimeoutMs: 5_000,
  });
  assert.deepEqual(b?.options?.pool, { connections: 16, keepAliveTimeoutMs: 5_000 });
});
