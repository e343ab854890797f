/**
 * Every "invalid response" error keeps its body redacted, like every other error body. A server echoes the
 * client's key inside bodies that are not the protocol (JSON that does not parse, JSON of the wrong shape, a
 * stream event that is not JSON), for every provider and every kind of call that reads one; each error must
 * be an `LLMInvalidResponseError` whose body holds `[REDACTED]` where the key was. The key is not shaped
 * like any known key, so only the client's own list of secrets can find it.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import type { LLMClient } from '../client/llm-client.ts';
import { createEventStreamCodec } from '../http/eventstream.ts';
import { isLLMError } from '../spec/errors.ts';
import { PROVIDERS, type ProviderName } from '../spec/types.ts';
import { type ReplayServer, type Reply, startReplayServer } from '../test-support/replay-server.ts';

const KEY = 'test-key-not-real-CANARY4417';
const CANARY = 'CANARY4417';

let server: ReplayServer;
let next: Reply = { body: '{}' };
const factory = new LLMClientFactory({ env: {} });

before(async () => {
  server = await startReplayServer(() => next);
});
after(async () => {
  await factory.close();
  await server.close();
});

function clientFor(provider: ProviderName): LLMClient {
  const common = { apiKey: KEY, maxRetries: 0 };
  switch (provider) {
    case 'azure':
      return factory.createClient('azure', { ...common, endpoint: server.url, model: 'deployment' });
    case 'openai':
    case 'openai-compatible':
      return factory.createClient(`${provider}/gpt-4o-mini`, {
        ...common,
        baseURL: `${server.url}/v1`,
        embeddingModel: 'text-embedding-3-small',
      });
    case 'bedrock':
      return factory.createClient('bedrock/amazon.titan-embed-text-v2:0', {
        ...common,
        region: 'us-east-1',
        baseURL: server.url,
      });
    default:
      return factory.createClient(provider, { ...common, baseURL: server.url });
  }
}

/** One event that is not JSON, framed as the provider frames its stream. */
function brokenStreamEvent(provider: ProviderName): Reply {
  const data = `{"text": "${KEY}`;
  switch (provider) {
    case 'anthropic':
      return { body: `event: message_start\ndata: ${data}\n\n` };
    case 'ollama':
      return { body: `${data}\n`, headers: { 'content-type': 'application/x-ndjson' } };
    case 'bedrock': {
      const frame = createEventStreamCodec().encode({
        headers: {
          ':event-type': { type: 'string', value: 'contentBlockDelta' },
          ':message-type': { type: 'string', value: 'event' },
        },
        body: new TextEncoder().encode(data),
      });
      return { body: Buffer.from(frame), headers: { 'content-type': 'application/vnd.amazon.eventstream' } };
    }
    default:
      return { body: `data: ${data}\n\n`, headers: { 'content-type': 'text/event-stream' } };
  }
}

async function invalidResponseBody(
  call: () => Promise<unknown>,
  reply: Reply,
  what: string,
): Promise<string> {
  next = reply;
  const error = await call().then(
    () => assert.fail(`${what}: expected a failure`),
    (caught: unknown) => caught,
  );
  assert.ok(isLLMError(error) && error.code === 'invalid_response', `${what}: ${String(error)}`);
  const body = error.body ?? '';
  assert.ok(!body.includes(CANARY), `${what}: the key leaked in the body: ${body}`);
  assert.ok(!error.message.includes(CANARY), `${what}: the key leaked in the message`);
  assert.match(body, /\[REDACTED\]/, `${what}: the body is kept, redacted`);
  return body;
}

const WRONG_SHAPE = JSON.stringify({ unexpected: KEY });

describe('an invalid response keeps its body redacted', () => {
  for (const provider of PROVIDERS) {
    test(provider, async () => {
      const client = clientFor(provider);
      const complete = () => client.complete({ prompt: 'hello' });
      await invalidResponseBody(complete, { body: `not json ${KEY}` }, 'a completion that is not JSON');
      await invalidResponseBody(complete, { body: WRONG_SHAPE }, 'a completion of the wrong shape');
      const stream = async () => {
        for await (const _event of client.stream({ prompt: 'hello' }));
      };
      await invalidResponseBody(stream, brokenStreamEvent(provider), 'a stream event that is not JSON');
      if (provider !== 'anthropic') {
        const embed = () => client.generateEmbeddings(['one']);
        await invalidResponseBody(embed, { body: WRONG_SHAPE }, 'embeddings of the wrong shape');
      }
      if (provider === 'anthropic' || provider === 'gemini') {
        const count = () => client.countRequestTokens({ prompt: 'hello' });
        await invalidResponseBody(count, { body: WRONG_SHAPE }, 'a token count of the wrong shape');
      }
      await client.close();
    });
  }
});
