/** Every recorded Azure OpenAI payload through the real Azure client, served on loopback. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { LLMClientFactory } from '../../client/factory.ts';
import type { LLMClient } from '../../client/llm-client.ts';
import { LLMAuthenticationError, LLMContentFilterError } from '../../spec/errors.ts';
import {
  oracleStreamText,
  type RecordedExchange,
  recordedPath,
  replyFromRecorded,
} from '../../test-support/exchanges.ts';
import { fixtureFiles, fixtureJson, fixtureText } from '../../test-support/fixtures.ts';
import { coverage, ReplayHarness } from '../../test-support/replay-harness.ts';
import type { Reply } from '../../test-support/replay-server.ts';

const P = 'azure-openai';
const KEY = 'azure-fixture-key-0123456789abcdef';
let harness: ReplayHarness;
const factory = new LLMClientFactory({ env: {} });
const { use, covered } = coverage();

function client(deployment = 'gpt-35-turbo', apiVersion = '2023-05-15'): LLMClient {
  return factory.createClient('azure', {
    apiKey: KEY,
    endpoint: harness.url,
    model: deployment,
    apiVersion,
    maxRetries: 0,
  });
}
const completeWith = (reply: Reply, deployment?: string) => harness.complete(client(deployment), reply);
const streamWith = (reply: Reply) => harness.stream(client(), reply);
const errorFrom = (reply: Reply) => harness.error(client(), reply);

before(async () => {
  harness = await ReplayHarness.start();
});
after(async () => {
  await factory.close();
  await harness.close();
});

describe('azure requests', () => {
  test('deployment URL, api-version and api-key header, no model in the body', async () => {
    await completeWith(
      { body: fixtureText(P, 'chat-completion.nonstream.prompt_filter_results.gpt-4.1.captured.json') },
      'my gpt-4.1',
    );
    const seen = harness.server.requests.at(-1)!;
    assert.equal(seen.url, '/openai/deployments/my%20gpt-4.1/chat/completions?api-version=2023-05-15');
    assert.equal(seen.headers['api-key'], KEY);
    assert.equal(seen.headers.authorization, undefined);
    assert.equal(JSON.parse(seen.body).model, undefined);
  });

  test('an Entra ID token is sent as a bearer token instead of the key', async () => {
    harness.next = {
      body: fixtureText(P, 'chat-completion.nonstream.prompt_filter_results.gpt-4.1.captured.json'),
    };
    const c = factory.createClient('azure', {
      azureADToken: 'entra-token-abcdef123456',
      endpoint: harness.url,
      model: 'd',
    });
    await c.complete({ prompt: 'x' });
    await c.close();
    const seen = harness.server.requests.at(-1)!;
    assert.equal(seen.headers.authorization, 'Bearer entra-token-abcdef123456');
    assert.equal(seen.headers['api-key'], undefined);
  });
});

describe('azure responses', () => {
  test(use('chat-completion.nonstream.prompt_filter_results.gpt-4.1.captured.json'), async () => {
    const result = await completeWith({
      body: fixtureText(P, 'chat-completion.nonstream.prompt_filter_results.gpt-4.1.captured.json'),
    });
    assert.equal(result.text, 'Hello! It looks like');
    assert.equal(result.finishReason, 'length');
    assert.equal(result.model, 'gpt-4.1-2025-04-14');
    assert.deepEqual(
      [result.usage.inputTokens, result.usage.outputTokens, result.usage.totalTokens],
      [8, 5, 13],
    );
  });

  test(
    use('chat-completion.nonstream.protected_material.latency_checkpoint.gpt-5.4.captured.json'),
    async () => {
      const file = 'chat-completion.nonstream.protected_material.latency_checkpoint.gpt-5.4.captured.json';
      const body = fixtureJson<{
        usage: { prompt_tokens: number; completion_tokens: number; latency_checkpoint: unknown };
      }>(P, file);
      const result = await completeWith({ body: fixtureText(P, file) });
      assert.equal(result.text, '你好！有什么我可以帮你的吗？');
      assert.equal(result.finishReason, 'stop');
      assert.equal(result.usage.inputTokens, body.usage.prompt_tokens);
      assert.equal(result.usage.outputTokens, body.usage.completion_tokens);
      assert.ok(body.usage.latency_checkpoint !== undefined, 'unknown usage fields tolerated');
    },
  );

  for (const file of [
    use('exchange.chat-completions.200.api-version-2023-05-15.json'),
    use('exchange.chat-completions.200.api-version-2023-05-15.sdk-v1.json'),
  ]) {
    test(file, async () => {
      for (const exchange of fixtureJson<RecordedExchange[]>(P, file)) {
        const reply = replyFromRecorded(exchange.response);
        const body = JSON.parse(reply.body as string) as { choices: Array<{ message: { content: string } }> };
        const result = await completeWith(reply);
        assert.equal(result.text, body.choices[0]!.message.content);
        assert.equal(
          result.requestId,
          reply.headers?.['apim-request-id'],
          'Azure request id from apim-request-id',
        );
        assert.equal(
          harness.server.requests.at(-1)!.url,
          recordedPath(exchange.request),
          'same URL as the official SDK',
        );
      }
    });
  }

  test(use('exchange.openai-and-azure.multiple-clients.json'), async () => {
    for (const exchange of fixtureJson<RecordedExchange[]>(
      P,
      'exchange.openai-and-azure.multiple-clients.json',
    )) {
      const reply = replyFromRecorded(exchange.response);
      const isAzure = (exchange.request.uri ?? exchange.request.url)!.includes('azure');
      harness.next = reply;
      const c = isAzure
        ? client()
        : factory.createClient('openai/gpt-3.5-turbo', {
            apiKey: 'sk-fixture-0000000000000000',
            baseURL: `${harness.url}/v1`,
            maxRetries: 0,
          });
      const result = await c.complete({ prompt: 'x' });
      await c.close();
      assert.equal(result.provider, isAzure ? 'azure' : 'openai');
      const body = JSON.parse(reply.body as string) as { choices: Array<{ message: { content: string } }> };
      assert.equal(result.text, body.choices[0]!.message.content);
      assert.equal(harness.server.requests.at(-1)!.url, recordedPath(exchange.request));
    }
  });

  test(use('chat-completion.stream.api-version-2023-05-15.raw.sse'), async () => {
    const sse = fixtureText(P, 'chat-completion.stream.api-version-2023-05-15.raw.sse');
    const { text, finish } = await streamWith({ body: sse, chunkSize: 5 });
    assert.equal(text, oracleStreamText(sse));
    assert.ok(text.length > 0);
    assert.equal(finish.finishReason, 'stop');
  });

  test(use('exchange.chat-completions.stream.200.api-version-2023-05-15.json'), async () => {
    const [exchange] = fixtureJson<RecordedExchange[]>(
      P,
      'exchange.chat-completions.stream.200.api-version-2023-05-15.json',
    );
    const reply = replyFromRecorded(exchange!.response);
    const { text, finish } = await streamWith(reply);
    assert.equal(text, oracleStreamText(reply.body as string));
    assert.equal(finish.requestId, reply.headers?.['apim-request-id']);
  });

  test(`${use('chat-completion.stream.model-router.prompt_filter_results.reframed.sse')} (choices: [] first chunk)`, async () => {
    const sse = fixtureText(P, 'chat-completion.stream.model-router.prompt_filter_results.reframed.sse');
    const { text, finish } = await streamWith({ body: sse, chunkSize: 11 });
    assert.equal(text, oracleStreamText(sse));
    assert.equal(finish.model, 'gpt-5-nano-2025-08-07');
    const usage = sse.match(/"usage":\{"completion_tokens":(\d+),.*?"prompt_tokens":(\d+)/);
    assert.ok(usage, 'the recording ends with a usage chunk');
    assert.deepEqual(
      [finish.usage.inputTokens, finish.usage.outputTokens],
      [Number(usage[2]), Number(usage[1])],
    );
  });

  test(`${use('chat-completion.stream.model-router.prompt_filter_results.chunks.jsonl')} agrees with its reframed SSE`, () => {
    const lines = fixtureText(P, 'chat-completion.stream.model-router.prompt_filter_results.chunks.jsonl')
      .trim()
      .split('\n');
    const sse = `${lines.map((line) => `data: ${line}\n\n`).join('')}data: [DONE]\n\n`;
    assert.equal(
      oracleStreamText(sse),
      oracleStreamText(
        fixtureText(P, 'chat-completion.stream.model-router.prompt_filter_results.reframed.sse'),
      ),
    );
  });
});

describe('azure content filtering', () => {
  for (const file of [
    use('error.400.content_filter.inner_error-variant.body.json'),
    use('error.400.content_filter.jailbreak.body.captured.json'),
    use('error.400.content_filter.prompt.sexual-high.body.json'),
  ]) {
    test(file, async () => {
      const error = await errorFrom({ status: 400, body: fixtureText(P, file) });
      assert.ok(error instanceof LLMContentFilterError, `${error.name}: ${error.message}`);
      assert.equal(error.code, 'content_filter');
      assert.equal(error.status, 400);
      assert.equal(error.retryable, false);
      assert.equal(error.body, fixtureText(P, file));
    });
  }

  test(`${use('chat-completion.finish_reason-content_filter.foundry-kimi.http400.captured.json')}: a 400 carrying a filtered completion`, async () => {
    const captured = fixtureJson<{ status: number; body: unknown }>(
      P,
      'chat-completion.finish_reason-content_filter.foundry-kimi.http400.captured.json',
    );
    const error = await errorFrom({ status: captured.status, body: JSON.stringify(captured.body) });
    assert.ok(error instanceof LLMContentFilterError);
    assert.match(error.message, /ResponsibleAI result indicated block action/);
  });

  test('a 200 whose finish_reason is content_filter is a result, not an error', async () => {
    const captured = fixtureJson<{ body: unknown }>(
      P,
      'chat-completion.finish_reason-content_filter.foundry-kimi.http400.captured.json',
    );
    const result = await completeWith({ status: 200, body: JSON.stringify(captured.body) });
    assert.equal(result.finishReason, 'content-filter');
  });

  test('a 401 with Azure’s own body shape is an authentication error with the text kept', async () => {
    const body =
      '{"error":{"code":"401","message":"Access denied due to invalid subscription key or wrong API endpoint."}}';
    const error = await errorFrom({ status: 401, body });
    assert.ok(error instanceof LLMAuthenticationError);
    assert.match(error.message, /Access denied/);
  });
});

test('every azure fixture is covered', () => {
  assert.deepEqual(
    fixtureFiles(P).filter((file) => !covered.has(file)),
    [],
  );
});
