/**
 * Timeouts never multiply a bill: a generation that timed out once the server had its request is sent
 * once (the provider is probably still generating, and bills a retry as a second answer), while calls whose
 * response starts at once (streams, embeddings) keep retrying a response that never came. Checked against
 * the emulator's slow replies by counting the requests it received, and the default waits by recording
 * what each attempt asked undici for.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Agent, type Dispatcher } from 'undici';
import { LLMClientFactory } from '../client/factory.ts';
import type { LLMClient } from '../client/llm-client.ts';
import type { ClientOptions } from '../client/options.ts';
import { generationTimeoutMs } from '../http/timeouts.ts';
import { isLLMError, type LLMError, LLMTimeoutError } from '../spec/errors.ts';
import { type Emulator, startEmulator } from './index.ts';

let emulator: Emulator;
const factory = new LLMClientFactory({ env: {} });
let counter = 0;

before(async () => {
  emulator = await startEmulator();
});
after(async () => {
  await factory.close();
  await emulator.close();
});

const FAST: ClientOptions = { maxRetries: 2, retry: { initialDelayMs: 5, maxDelayMs: 10 } };

function client(options: ClientOptions = {}): LLMClient {
  return factory.createClient('openai/gpt-4o-mini', {
    apiKey: 'test-key-not-real',
    baseURL: `${emulator.url}/v1`,
    ...FAST,
    ...options,
  });
}

/** Runs `call`, returning its typed error and how many requests reached `path`. */
async function attempt(
  path: string,
  call: (prompt: string) => Promise<unknown>,
): Promise<{ error: LLMError | undefined; requests: number }> {
  const prompt = `timeouts ${counter++}`;
  const before = emulator.requests.length;
  let error: LLMError | undefined;
  try {
    await call(prompt);
  } catch (caught) {
    assert.ok(isLLMError(caught), `a typed error, not ${String(caught)}`);
    error = caught;
  }
  const requests = emulator.requests.slice(before).filter((request) => request.path.startsWith(path));
  return { error, requests: requests.length };
}

/**
 * Later than any timeout here can fire: undici checks its header and body timers on a ~0.5 s tick, so a
 * 150 ms timeout may fire after more than a second on a busy machine.
 */
const LATE_MS = 5_000;
const slow = (ms: number) => ({ headers: { 'x-emulator-latency-ms': String(ms) } });
const silentAfterHeaders = (ms: number) => ({ headers: { 'x-emulator-ttft-ms': String(ms) } });

describe('a generation that timed out once the server had it is not retried', () => {
  test('a non-streaming completion slower than its timeout makes exactly one request, and says why', async () => {
    const llm = client({ timeoutMs: 150 });
    const { error, requests } = await attempt('/v1/chat/completions', (prompt) =>
      llm.complete({ prompt, ...slow(LATE_MS) }),
    );
    assert.equal(requests, 1, 'one upstream request: no retry');
    assert.ok(error instanceof LLMTimeoutError, `a timeout, not ${error?.name}`);
    assert.equal(error.phase, 'headers');
    assert.equal(error.retryable, false, 'marked not retryable, so outer layers agree');
    assert.equal(error.attempts, 1);
    assert.match(error.message, /Request timed out after 150 ms/);
    assert.match(
      error.message,
      /not retried: the request had been sent, so openai is probably still generating/,
    );
    assert.match(error.message, /bill a retry as a second one/);
    assert.match(error.message, /`retry\.generationTimeouts: true`/);
    await llm.close();
  });

  test('a per-request timeoutMs is held back the same way', async () => {
    const llm = client();
    const { error, requests } = await attempt('/v1/chat/completions', (prompt) =>
      llm.complete({ prompt, timeoutMs: 150, ...slow(LATE_MS) }),
    );
    assert.equal(requests, 1);
    assert.match(error?.message ?? '', /not retried/);
    await llm.close();
  });

  test('a stream that went silent after its headers, before any output, makes one request', async () => {
    const llm = client({ streamIdleTimeoutMs: 150 });
    const { error, requests } = await attempt('/v1/chat/completions', async (prompt) => {
      for await (const _event of llm.stream({ prompt, ...silentAfterHeaders(LATE_MS) })) {
        // nothing arrives
      }
    });
    assert.equal(requests, 1);
    assert.ok(error instanceof LLMTimeoutError);
    assert.equal(error.phase, 'body');
    assert.match(error.message, /not retried: the response had begun/);
    assert.match(error.message, /`streamIdleTimeoutMs`/);
    await llm.close();
  });

  test('retry.generationTimeouts: true opts into retrying them', async () => {
    const llm = client({ timeoutMs: 150, retry: { initialDelayMs: 5, generationTimeouts: true } });
    const { error, requests } = await attempt('/v1/chat/completions', (prompt) =>
      llm.complete({ prompt, ...slow(LATE_MS) }),
    );
    assert.equal(requests, 3, 'the first attempt and two retries');
    assert.ok(error instanceof LLMTimeoutError);
    assert.equal(error.attempts, 3);
    assert.doesNotMatch(error.message, /not retried/);
    await llm.close();
  });

  test('with no retries left, the message does not pretend a retry was held back', async () => {
    const llm = client({ timeoutMs: 150, maxRetries: 0 });
    const { error, requests } = await attempt('/v1/chat/completions', (prompt) =>
      llm.complete({ prompt, ...slow(LATE_MS) }),
    );
    assert.equal(requests, 1);
    assert.doesNotMatch(error?.message ?? '', /not retried/);
    await llm.close();
  });
});

describe('calls whose response starts at once keep retrying a response that never came', () => {
  test('a stream that gets no headers in time is retried', async () => {
    const llm = client({ timeoutMs: 150 });
    const { error, requests } = await attempt('/v1/chat/completions', async (prompt) => {
      for await (const _event of llm.stream({ prompt, ...slow(LATE_MS) })) {
        // no headers come
      }
    });
    assert.equal(requests, 3);
    assert.ok(error instanceof LLMTimeoutError, `a timeout, not ${error?.name}: ${error?.message}`);
    assert.equal(error.phase, 'headers');
    assert.equal(error.attempts, 3);
    await llm.close();
  });

  test('an embeddings batch that gets no response in time is retried', async () => {
    // Embeddings take no per-call headers: an emulator slow for every request.
    const slowEmulator = await startEmulator({ latencyMs: LATE_MS });
    const llm = factory.createClient('openai/gpt-4o-mini', {
      ...FAST,
      apiKey: 'test-key-not-real',
      baseURL: `${slowEmulator.url}/v1`,
      timeoutMs: 150,
    });
    const error = await llm.generateEmbeddings(['slow']).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    assert.equal(slowEmulator.requests.filter((request) => request.path === '/v1/embeddings').length, 3);
    assert.ok(error instanceof LLMTimeoutError);
    assert.equal(error.attempts, 3);
    await llm.close();
    await slowEmulator.close();
  });

  test('a slow answer inside its timeout succeeds at once', async () => {
    const llm = client({ timeoutMs: 2_000 });
    const { error, requests } = await attempt('/v1/chat/completions', (prompt) =>
      llm.complete({ prompt, ...slow(200) }),
    );
    assert.equal(error, undefined);
    assert.equal(requests, 1);
    await llm.close();
  });
});

/** A real undici Agent that notes the headers timeout each attempt asked for. */
class RecordingAgent extends Agent {
  readonly headersTimeouts: Array<number | null | undefined> = [];
  override dispatch(options: Dispatcher.DispatchOptions, handler: Dispatcher.DispatchHandler): boolean {
    this.headersTimeouts.push(options.headersTimeout);
    return super.dispatch(options, handler);
  }
}

describe('default attempt timeouts', () => {
  test('generationTimeoutMs: 10 minutes, more for a large maxTokens at 128k tokens an hour, at most an hour', () => {
    assert.equal(generationTimeoutMs(undefined), 600_000);
    assert.equal(generationTimeoutMs(4_096), 600_000);
    assert.equal(generationTimeoutMs(21_333), 600_000);
    assert.equal(generationTimeoutMs(64_000), 1_800_000);
    assert.equal(generationTimeoutMs(128_000), 3_600_000);
    assert.equal(generationTimeoutMs(1_000_000), 3_600_000);
  });

  test('each operation waits its own default; timeoutMs, on the client or the request, replaces them all', async () => {
    const agent = new RecordingAgent();
    const llm = client({ dispatcher: agent });
    await llm.complete({ prompt: 'defaults' });
    await llm.complete({ prompt: 'defaults', maxTokens: 64_000 });
    for await (const _event of llm.stream({ prompt: 'defaults' })) {
      // drain
    }
    await llm.generateEmbeddings(['defaults']);
    await llm.complete({ prompt: 'defaults', timeoutMs: 7_000 });
    assert.deepEqual(agent.headersTimeouts, [600_000, 1_800_000, 60_000, 60_000, 7_000]);

    const fixed = new RecordingAgent();
    const set = client({ dispatcher: fixed, timeoutMs: 5_000 });
    await set.complete({ prompt: 'set' });
    for await (const _event of set.stream({ prompt: 'set' })) {
      // drain
    }
    await set.generateEmbeddings(['set']);
    assert.deepEqual(fixed.headersTimeouts, [5_000, 5_000, 5_000]);
    await llm.close();
    await set.close();
    await agent.close();
    await fixed.close();
  });
});
