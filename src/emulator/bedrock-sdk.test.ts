/**
 * The official `@aws-sdk/client-bedrock-runtime`, pointed at the emulator, works: Converse, ConverseStream,
 * InvokeModel, SigV4 checked (a wrong secret is InvalidSignatureException). So does our client, signed
 * with SigV4 or carrying a Bedrock API key.
 *
 * The SDK sends everything over HTTP/2 with prior knowledge (NodeHttp2Handler); the emulator accepts h2c
 * on its one port (see h2c.ts), so the client runs here unchanged, with its default handler.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import {
  BedrockRuntimeClient,
  type BedrockRuntimeClientConfig,
  ConverseCommand,
  ConverseStreamCommand,
  InvokeModelCommand,
} from '@aws-sdk/client-bedrock-runtime';
import { LLMClientFactory } from '../client/factory.ts';
import { createBedrockSigner, signBedrockRequest } from '../providers/bedrock/sigv4.ts';
import {
  LLMAuthenticationError,
  LLMContextWindowError,
  LLMNotFoundError,
  LLMUnsupportedError,
} from '../spec/errors.ts';
import { estimateTokens } from '../tokens/estimate.ts';
import { acceptHttp2PriorKnowledge } from './h2c.ts';
import { type Emulator, startEmulator } from './index.ts';

const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const CREDENTIALS = { accessKeyId: 'EMULATORKEYID', secretAccessKey: 'emulator-secret' };
let emulator: Emulator;
const sdkClients: BedrockRuntimeClient[] = [];
const factory = new LLMClientFactory({ env: {} });

/** The official client exactly as a user writes it: its default HTTP/2 handler, pointed at the emulator. */
function sdk(config: Partial<BedrockRuntimeClientConfig> = {}): BedrockRuntimeClient {
  const client = new BedrockRuntimeClient({
    region: 'us-east-1',
    endpoint: emulator.url,
    credentials: CREDENTIALS,
    ...config,
  });
  sdkClients.push(client);
  return client;
}

/** Adds the emulator's fault header to every request of `client`. */
function withFault(client: BedrockRuntimeClient, fault: string): BedrockRuntimeClient {
  client.middlewareStack.add(
    (next) => (args) => {
      (args.request as { headers: Record<string, string> }).headers['x-emulator-fault'] = fault;
      return next(args);
    },
    { step: 'build' },
  );
  return client;
}

const ask = (text: string) => ({
  modelId: MODEL,
  messages: [{ role: 'user' as const, content: [{ text }] }],
});

before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  for (const client of sdkClients) client.destroy();
  await factory.close();
  await emulator.close();
});

describe('official @aws-sdk/client-bedrock-runtime against the emulator', () => {
  test('Converse: text, stop reason, usage, request id', async () => {
    const response = await sdk().send(
      new ConverseCommand({ ...ask('Explain quantum computing'), inferenceConfig: { maxTokens: 12 } }),
    );
    assert.equal(response.stopReason, 'max_tokens');
    assert.equal(response.usage?.outputTokens, 12);
    assert.ok(response.output?.message?.content?.[0]?.text?.startsWith('You asked'));
    assert.match(response.$metadata.requestId ?? '', /^[0-9a-f-]{36}$/);
    const sent = emulator.requests.at(-1)!;
    assert.equal(sent.path, `/model/${encodeURIComponent(MODEL)}/converse`);
  });

  test('ConverseStream: the binary eventstream decodes into the SDK events', async () => {
    const response = await sdk().send(new ConverseStreamCommand(ask('Explain quantum computing')));
    const seen: string[] = [];
    let text = '';
    let usage: { inputTokens?: number; outputTokens?: number } | undefined;
    for await (const event of response.stream!) {
      seen.push(Object.keys(event).find((key) => key !== '$unknown')!);
      text += event.contentBlockDelta?.delta?.text ?? '';
      if (event.metadata) usage = event.metadata.usage;
    }
    assert.deepEqual(
      [seen[0], ...seen.slice(-3)],
      ['messageStart', 'contentBlockStop', 'messageStop', 'metadata'],
    );
    assert.ok(text.startsWith('You asked: “Explain quantum computing”.'));
    assert.ok(usage && usage.inputTokens! > 0 && usage.outputTokens! > 0);
  });

  test('InvokeModel: Titan v2 (1024, or 256 with dimensions) and Cohere v3 (1024)', async () => {
    const client = sdk();
    const invoke = async (modelId: string, body: unknown) => {
      const response = await client.send(
        new InvokeModelCommand({ modelId, body: JSON.stringify(body), contentType: 'application/json' }),
      );
      return JSON.parse(new TextDecoder().decode(response.body)) as {
        embedding: number[];
        embeddings: number[][];
      };
    };
    const titan = await invoke('amazon.titan-embed-text-v2:0', { inputText: 'hello' });
    assert.equal(titan.embedding.length, 1024);
    assert.ok(Math.abs(Math.hypot(...titan.embedding) - 1) < 1e-5, 'normalized');
    assert.equal(
      (await invoke('amazon.titan-embed-text-v2:0', { inputText: 'hello', dimensions: 256 })).embedding
        .length,
      256,
    );
    const cohere = await invoke('cohere.embed-english-v3', {
      texts: ['a', 'b'],
      input_type: 'search_document',
    });
    assert.deepEqual(
      cohere.embeddings.map((vector) => vector.length),
      [1024, 1024],
    );
    await assert.rejects(
      invoke('amazon.titan-embed-text-v2:0', { inputText: 'x', dimensions: 100 }),
      (error: Error) => error.name === 'ValidationException',
    );
  });

  test('SigV4 is checked: a wrong secret is InvalidSignatureException, an unknown key UnrecognizedClientException', async () => {
    await assert.rejects(
      sdk({ credentials: { accessKeyId: 'EMULATORKEYID', secretAccessKey: 'wrong' } }).send(
        new ConverseCommand(ask('hi')),
      ),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) =>
        error.name === 'InvalidSignatureException' &&
        error.$metadata?.httpStatusCode === 403 &&
        /signature we calculated does not match/.test(error.message),
    );
    await assert.rejects(
      sdk({ credentials: { accessKeyId: 'SOMEONEELSE', secretAccessKey: 'emulator-secret' } }).send(
        new ConverseCommand(ask('hi')),
      ),
      (error: Error) => error.name === 'UnrecognizedClientException',
    );
  });

  test('faults reach the SDK as its own exceptions', async () => {
    await assert.rejects(
      withFault(sdk({ maxAttempts: 1 }), 'rate-limit').send(new ConverseCommand(ask('throttled'))),
      (error: Error & { $metadata?: { httpStatusCode?: number } }) =>
        error.name === 'ThrottlingException' && error.$metadata?.httpStatusCode === 429,
    );
    const failing = withFault(sdk({ maxAttempts: 1 }), 'stream-error');
    const response = await failing.send(new ConverseStreamCommand(ask('stream error')));
    let deltas = 0;
    await assert.rejects(
      (async () => {
        for await (const event of response.stream!) if (event.contentBlockDelta) deltas++;
      })(),
      (error: Error) => error.name === 'ModelStreamErrorException',
    );
    assert.equal(deltas, 2);
  });

  test('the unchanged client (default HTTP/2 handler)', async () => {
    const response = await sdk({ maxAttempts: 1 }).send(new ConverseCommand(ask('over HTTP/2')));
    assert.ok(response.output?.message?.content?.[0]?.text?.includes('over HTTP/2'));
  });
});

describe('acceptHttp2PriorKnowledge', () => {
  test('one port answers HTTP/1.1 and h2c with the same handler', async () => {
    const server = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`${req.httpVersion} ${req.method} ${req.url}`);
    });
    acceptHttp2PriorKnowledge(server, (req, res) => server.emit('request', req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    assert.equal(await (await fetch(`${origin}/one`)).text(), '1.1 GET /one');
    const session = connect(origin);
    const text = await new Promise<string>((resolve, reject) => {
      const stream = session.request({ ':path': '/two', ':method': 'POST' });
      let body = '';
      stream.on('data', (chunk: Buffer) => (body += chunk));
      stream.on('end', () => resolve(body));
      stream.on('error', reject);
      stream.end('x');
    });
    assert.equal(text, '2.0 POST /two');
    session.close();
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });
});

describe('our client against the emulator', () => {
  const signed = () =>
    factory.createClient(`bedrock/${MODEL}`, {
      region: 'us-east-1',
      baseURL: emulator.url,
      credentials: CREDENTIALS,
    });

  test('complete, stream and generateCompletion agree with the SDK', async () => {
    const client = signed();
    const result = await client.complete({ system: 'Be brief.', prompt: 'What is an LLM?' });
    const theirs = await sdk().send(
      new ConverseCommand({ ...ask('What is an LLM?'), system: [{ text: 'Be brief.' }] }),
    );
    assert.equal(result.text, theirs.output?.message?.content?.[0]?.text);
    assert.deepEqual(
      [result.usage.inputTokens, result.usage.outputTokens, result.usage.totalTokens],
      [theirs.usage?.inputTokens, theirs.usage?.outputTokens, theirs.usage?.totalTokens],
    );
    assert.equal(result.finishReason, 'stop');
    assert.equal(result.rawFinishReason, 'end_turn');
    assert.equal(result.requestId, result.id);
    let text = '';
    for await (const event of client.stream({ system: 'Be brief.', prompt: 'What is an LLM?' }))
      if (event.type === 'text-delta') text += event.text;
    assert.equal(text, result.text);
    assert.equal(await client.generateCompletion('What is an LLM?', { system: 'Be brief.' }), result.text);
    assert.match(
      String(emulator.requests.at(-1)!.headers.authorization),
      /^AWS4-HMAC-SHA256 Credential=EMULATORKEYID\//,
    );
  });

  test('generateEmbeddings through InvokeModel: Titan one text a call, Cohere in batches', async () => {
    const titan = factory.createClient('bedrock', {
      region: 'us-east-1',
      baseURL: emulator.url,
      credentials: CREDENTIALS,
    });
    const before = emulator.requests.length;
    const vectors = await titan.generateEmbeddings(['First document', 'Second document', 'Third']);
    assert.deepEqual(
      vectors.map((vector) => vector.length),
      [1024, 1024, 1024],
    );
    assert.equal(emulator.requests.length - before, 3, 'one InvokeModel call per text');
    assert.notDeepEqual(vectors[0], vectors[1]);
    const [short] = await titan.generateEmbeddings(['First document'], { dimensions: 256 });
    assert.equal(short?.length, 256);
    const cohere = factory.createClient('bedrock', {
      region: 'us-east-1',
      baseURL: emulator.url,
      credentials: CREDENTIALS,
      embeddingModel: 'cohere.embed-english-v3',
    });
    const batched = await cohere.generateEmbeddings(Array.from({ length: 100 }, (_, i) => `text ${i}`));
    assert.equal(batched.length, 100);
    assert.equal(batched[0]?.length, 1024);
    await assert.rejects(
      titan.generateEmbeddings(['x'], { model: 'meta.llama3-8b-instruct-v1:0' }),
      (error: unknown) => error instanceof LLMUnsupportedError,
    );
  });

  test('stop sequences and maxTokens end the reply as Bedrock says', async () => {
    const client = signed();
    const headers = { 'x-emulator-reply': 'one two STOP three four five six seven' };
    const stopped = await client.complete({ prompt: 'stop', stop: 'STOP', headers });
    assert.deepEqual(
      [stopped.text, stopped.finishReason, stopped.rawFinishReason],
      ['one two ', 'stop', 'stop_sequence'],
    );
    const cut = await client.complete({ prompt: 'cut', maxTokens: 3, headers });
    assert.deepEqual(
      [cut.text, cut.finishReason, cut.rawFinishReason],
      ['one two STOP', 'length', 'max_tokens'],
    );
    const body = emulator.requests.at(-1)!.body as { inferenceConfig: unknown };
    assert.deepEqual(body.inferenceConfig, { maxTokens: 3 });
  });

  test('countTokens and countRequestTokens are labelled estimates', async () => {
    const client = signed();
    assert.equal(
      client.countTokens('Explain quantum computing'),
      estimateTokens('Explain quantum computing'),
    );
    const count = await client.countRequestTokens({ prompt: 'Explain quantum computing' });
    assert.equal(count.exact, false);
    assert.equal(count.source, 'estimate');
    assert.ok(count.inputTokens > estimateTokens('Explain quantum computing'));
  });

  test('a Bedrock API key (bearer) works, and apiKeys restricts it', async () => {
    const withKey = factory.createClient(`bedrock/${MODEL}`, {
      region: 'us-east-1',
      baseURL: emulator.url,
      apiKey: 'ABSKbedrock-key-000',
    });
    assert.ok((await withKey.complete({ prompt: 'hello' })).text.includes('hello'));
    assert.equal(emulator.requests.at(-1)!.headers.authorization, 'Bearer ABSKbedrock-key-000');
    const strict = await startEmulator({ apiKeys: ['ABSKright'] });
    const wrong = factory.createClient(`bedrock/${MODEL}`, {
      region: 'us-east-1',
      baseURL: strict.url,
      apiKey: 'ABSKwrong-key-123',
      maxRetries: 0,
    });
    await assert.rejects(
      wrong.complete({ prompt: 'hello' }),
      (error: unknown) =>
        error instanceof LLMAuthenticationError &&
        error.providerCode === 'AccessDeniedException' &&
        !error.message.includes('ABSKwrong-key-123'),
    );
    await wrong.close();
    await strict.close();
  });

  test('wrong secret and a stale signature are LLMAuthenticationErrors with AWS messages', async () => {
    const wrong = factory.createClient(`bedrock/${MODEL}`, {
      region: 'us-east-1',
      baseURL: emulator.url,
      credentials: { ...CREDENTIALS, secretAccessKey: 'nope-secret' },
      maxRetries: 0,
    });
    await assert.rejects(
      wrong.complete({ prompt: 'hi' }),
      (error: unknown) =>
        error instanceof LLMAuthenticationError && error.providerCode === 'InvalidSignatureException',
    );
    const signer = createBedrockSigner({ credentials: CREDENTIALS, region: 'us-east-1' });
    const stale = await signBedrockRequest(
      signer,
      {
        url: `${emulator.url}/model/m/converse`,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(ask('hi')),
      },
      new Date(Date.now() - 10 * 60_000),
    );
    const response = await fetch(stale.url, {
      method: 'POST',
      headers: stale.headers,
      body: stale.body as string,
    });
    assert.equal(response.status, 403);
    assert.equal(response.headers.get('x-amzn-errortype')?.split(':')[0], 'InvalidSignatureException');
    assert.match(((await response.json()) as { message: string }).message, /^Signature expired: /);
  });

  test('model ids that are ARNs are encoded, signed and routed', async () => {
    const arn =
      'arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-sonnet-4-5-20250929-v1:0';
    const client = factory.createClient('bedrock', {
      region: 'us-east-1',
      baseURL: emulator.url,
      credentials: CREDENTIALS,
      model: arn,
    });
    const ours = await client.complete({ prompt: 'hello arn' });
    assert.equal(emulator.requests.at(-1)!.path, `/model/${encodeURIComponent(arn)}/converse`);
    const theirs = await sdk().send(new ConverseCommand({ ...ask('hello arn'), modelId: arn }));
    assert.equal(ours.text, theirs.output?.message?.content?.[0]?.text);
  });

  test('context window and unknown models get their typed errors', async () => {
    const small = await startEmulator({ contextWindow: 20, models: [MODEL] });
    const client = factory.createClient(`bedrock/${MODEL}`, {
      region: 'us-east-1',
      baseURL: small.url,
      credentials: CREDENTIALS,
      maxRetries: 0,
    });
    await assert.rejects(
      client.complete({ prompt: 'word '.repeat(50) }),
      (error: unknown) => error instanceof LLMContextWindowError && /Input is too long/.test(error.message),
    );
    await assert.rejects(
      client.complete({ prompt: 'hi', model: 'amazon.nova-pro-v1:0' }),
      (error: unknown) =>
        error instanceof LLMNotFoundError && error.providerCode === 'ResourceNotFoundException',
    );
    await client.close();
    await small.close();
  });
});
