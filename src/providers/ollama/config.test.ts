/** Ollama's host, key and defaults: options, OLLAMA_HOST in its loose forms, OLLAMA_API_KEY. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { LLMConfigurationError } from '../../spec/errors.ts';
import { formatOllamaHost, resolveOllama } from './config.ts';

describe('formatOllamaHost, as the official client formats `host`', () => {
  const cases: Array<[string, string]> = [
    ['', 'http://127.0.0.1:11434'],
    ['127.0.0.1:11434', 'http://127.0.0.1:11434'],
    ['ollama.internal', 'http://ollama.internal:11434'],
    ['ollama.internal:8080', 'http://ollama.internal:8080'],
    [':9999', 'http://127.0.0.1:9999'],
    ['http://localhost', 'http://localhost:80'], // an explicit scheme keeps its own default port
    ['https://ollama.com', 'https://ollama.com:443'],
    ['https://ollama.com/', 'https://ollama.com:443'],
    ['http://gpu-box:11434/ollama/', 'http://gpu-box:11434/ollama'],
    ['  http://127.0.0.1:11434  ', 'http://127.0.0.1:11434'],
    // Wildcards a server listens on become loopback, where a client can connect.
    ['0.0.0.0', 'http://127.0.0.1:11434'],
    ['0.0.0.0:12345', 'http://127.0.0.1:12345'],
    ['http://0.0.0.0:11434', 'http://127.0.0.1:11434'],
    ['[::]:11434', 'http://[::1]:11434'],
    ['[::1]', 'http://[::1]:11434'],
  ];
  for (const [given, expected] of cases) {
    test(`${JSON.stringify(given)} → ${expected}`, () => {
      assert.equal(formatOllamaHost(given)?.url, expected);
    });
  }

  test('credentials in the URL are taken out and kept for basic auth', () => {
    assert.deepEqual(formatOllamaHost('https://me:p%40ss@ollama.example.com/'), {
      url: 'https://ollama.example.com:443',
      basicAuth: { username: 'me', password: 'p@ss' },
    });
  });

  test('what is not an http(s) host is refused', () => {
    for (const bad of ['ftp://host', 'unix:///var/run/ollama.sock', 'http://[bad']) {
      assert.equal(formatOllamaHost(bad), undefined, bad);
    }
  });
});

describe('resolveOllama', () => {
  const input = { headers: {} };
  const headersOf = (resolved: ReturnType<typeof resolveOllama>) =>
    resolved.adapter.completionRequest(
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] },
      false,
    ).headers;

  test('no key needed; the defaults are the local server, llama3.2 and nomic-embed-text', () => {
    const resolved = resolveOllama(input, {});
    assert.equal(resolved.adapter.origin, 'http://127.0.0.1:11434');
    assert.equal(resolved.model, 'llama3.2');
    assert.equal(resolved.embeddingModel, 'nomic-embed-text');
    assert.deepEqual(resolved.secrets, []);
    assert.equal(headersOf(resolved).authorization, undefined);
    assert.equal(resolved.adapter.tokenCountExact, false);
  });

  test('OLLAMA_HOST is normalised; baseURL wins over it', () => {
    const fromEnv = resolveOllama(input, { OLLAMA_HOST: '0.0.0.0' });
    const chat = fromEnv.adapter.completionRequest(
      { model: 'm', messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }] }] },
      true,
    );
    assert.equal(chat.url, 'http://127.0.0.1:11434/api/chat');
    assert.equal(chat.headers.accept, 'application/x-ndjson');
    const fromOption = resolveOllama(
      { ...input, baseURL: 'http://gpu-box:7000' },
      { OLLAMA_HOST: '0.0.0.0' },
    );
    assert.equal(fromOption.adapter.origin, 'http://gpu-box:7000');
  });

  test('a key (option or OLLAMA_API_KEY) is a bearer token and a secret; the option wins', () => {
    const fromEnv = resolveOllama(input, { OLLAMA_API_KEY: 'env-key' });
    assert.equal(headersOf(fromEnv).authorization, 'Bearer env-key');
    assert.deepEqual(fromEnv.secrets, ['env-key']);
    const fromOption = resolveOllama({ ...input, apiKey: 'opt-key' }, { OLLAMA_API_KEY: 'env-key' });
    assert.equal(headersOf(fromOption).authorization, 'Bearer opt-key');
  });

  test('credentials in the host become basic auth and their password a secret', () => {
    const resolved = resolveOllama(input, { OLLAMA_HOST: 'https://me:hunter2@proxy.example.com' });
    assert.equal(headersOf(resolved).authorization, `Basic ${Buffer.from('me:hunter2').toString('base64')}`);
    assert.deepEqual(resolved.secrets, ['hunter2']);
    assert.equal(resolved.adapter.origin, 'https://proxy.example.com');
  });

  test('a host that cannot be used fails at creation, naming where it came from', () => {
    assert.throws(
      () => resolveOllama(input, { OLLAMA_HOST: 'ftp://nas' }),
      (error: unknown) =>
        error instanceof LLMConfigurationError && /Invalid OLLAMA_HOST for ollama/.test(error.message),
    );
    assert.throws(
      () => resolveOllama({ ...input, baseURL: 'unix:///tmp/x' }, {}),
      /Invalid `baseURL` for ollama/,
    );
  });

  test('counts are labelled estimates: Ollama has no counting endpoint', () => {
    const { adapter } = resolveOllama(input, {});
    assert.equal(adapter.tokenCountEndpoint, undefined);
    const count = adapter.countRequestTokensLocally({
      model: 'm',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'hello there' }] }],
    });
    assert.deepEqual({ exact: count.exact, source: count.source }, { exact: false, source: 'estimate' });
    assert.ok(count.inputTokens > adapter.countTokens('hello there', 'm'));
  });
});
