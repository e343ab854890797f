/**
 * The caller's signal ends a non-streaming call wherever it is: waiting for the response's headers, or
 * halfway through its body. The server here never finishes, so a call the abort did not reach would hang
 * (and fail on the test timeout); the server also sees its connection closed, so nothing is left reading.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { LLMAbortError } from '../spec/errors.ts';
import { LLMClientFactory } from './factory.ts';

type Mode = 'hold-headers' | 'hold-body';

async function stallingServer(t: import('node:test').TestContext, mode: Mode) {
  let arrived!: () => void;
  let closed!: () => void;
  const requestArrived = new Promise<void>((resolve) => (arrived = resolve));
  const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    request.resume();
    request.on('end', () => {
      response.socket?.once('close', closed);
      if (mode === 'hold-body') {
        response.writeHead(200, { 'content-type': 'application/json', 'content-length': 1_000 });
        response.write('{"id":"chatcmpl-stalled","object":"chat.completion","choices":[');
      }
      arrived();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const client = new LLMClientFactory({ env: {} }).createClient('openai/gpt-4o-mini', {
    apiKey: 'test-key-not-real',
    baseURL: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    maxRetries: 0,
    timeoutMs: 60_000,
  });
  t.after(() => client.close());
  return { client, requestArrived, connectionClosed };
}

for (const mode of ['hold-headers', 'hold-body'] as const) {
  test(`an abort ends a non-streaming call ${mode === 'hold-headers' ? 'before its headers' : 'in the middle of its body'}`, async (t) => {
    const { client, requestArrived, connectionClosed } = await stallingServer(t, mode);
    const controller = new AbortController();
    const call = client.complete({ prompt: 'x', signal: controller.signal }).catch((error: unknown) => error);
    await requestArrived;
    controller.abort();
    const error = await call;
    assert.ok(error instanceof LLMAbortError, String(error));
    await connectionClosed;
  });
}
