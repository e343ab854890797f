/**
 * Bedrock's configuration, request building and signing, without a server: where region, endpoint and
 * credentials come from (and the errors when they are missing), how our messages become a Converse body,
 * and what SigV4 adds to each attempt.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, test } from 'node:test';
import { normalizeRequest } from '../../client/request.ts';
import type { PreparedRequest } from '../../http/transport.ts';
import { LLMConfigurationError } from '../../spec/errors.ts';
import type { Env, ProviderInput } from '../provider.ts';
import { resolveBedrock } from './config.ts';
import { converseBody, encodeModelId } from './request.ts';

const KEYS = { AWS_ACCESS_KEY_ID: 'TESTENVKEYID00000000', AWS_SECRET_ACCESS_KEY: 'env-secret-000000' };
const input = (extra: Partial<ProviderInput> = {}): ProviderInput => ({ headers: {}, ...extra });
const resolve = (extra: Partial<ProviderInput>, env: Env) => resolveBedrock(input(extra), env);

describe('bedrock configuration', () => {
  test('region: the option, then AWS_REGION, then AWS_DEFAULT_REGION; the endpoint follows it', () => {
    const env = { ...KEYS, AWS_REGION: 'eu-west-1', AWS_DEFAULT_REGION: 'ap-south-1' };
    assert.equal(
      resolve({ region: 'us-west-2' }, env).adapter.origin,
      'https://bedrock-runtime.us-west-2.amazonaws.com',
    );
    assert.equal(resolve({}, env).adapter.origin, 'https://bedrock-runtime.eu-west-1.amazonaws.com');
    assert.equal(
      resolve({}, { ...KEYS, AWS_DEFAULT_REGION: 'ap-south-1' }).adapter.origin,
      'https://bedrock-runtime.ap-south-1.amazonaws.com',
    );
  });

  test('a missing region names the option and the variable', () => {
    assert.throws(
      () => resolve({}, KEYS),
      (error: unknown) =>
        error instanceof LLMConfigurationError &&
        /`region`/.test(error.message) &&
        /AWS_REGION/.test(error.message),
    );
    assert.throws(() => resolve({ region: 'us-east-1/../x' }, KEYS), /Invalid region for bedrock/);
  });

  test('missing credentials name every way to give them', () => {
    assert.throws(
      () => resolve({ region: 'us-east-1' }, {}),
      (error: unknown) =>
        error instanceof LLMConfigurationError &&
        [
          '`credentials`',
          '`apiKey`',
          'AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY',
          'AWS_BEARER_TOKEN_BEDROCK',
        ].every((name) => error.message.includes(name)),
    );
  });

  test('credentials: options before the environment; every secret (and the key id) is scrubbed', () => {
    const env = {
      ...KEYS,
      AWS_SESSION_TOKEN: 'env-session-token',
      AWS_BEARER_TOKEN_BEDROCK: 'ABSKenv-bearer',
    };
    const fromOption = resolve({ region: 'us-east-1', apiKey: 'ABSKoption-key' }, env);
    assert.deepEqual(fromOption.secrets, ['ABSKoption-key']);
    assert.equal(fromOption.adapter.authorize, undefined, 'an API key needs no signing');
    const credentials = {
      accessKeyId: 'TESTOPTIONKEYID00000',
      secretAccessKey: 'option-secret',
      sessionToken: 'option-token',
    };
    const signed = resolve({ region: 'us-east-1', credentials }, env);
    assert.deepEqual(signed.secrets, ['option-secret', 'option-token', 'TESTOPTIONKEYID00000']);
    assert.equal(typeof signed.adapter.authorize, 'function');
    assert.deepEqual(resolve({ region: 'us-east-1' }, env).secrets, ['ABSKenv-bearer']);
    const { AWS_BEARER_TOKEN_BEDROCK: _, ...keysOnly } = env;
    assert.deepEqual(resolve({ region: 'us-east-1' }, keysOnly).secrets, [
      'env-secret-000000',
      'env-session-token',
      'TESTENVKEYID00000000',
    ]);
  });

  test('baseURL: the option, then AWS_ENDPOINT_URL_BEDROCK_RUNTIME, then AWS_ENDPOINT_URL; models default', () => {
    const env = { ...KEYS, AWS_REGION: 'us-east-1', AWS_ENDPOINT_URL: 'http://global:1' };
    assert.equal(resolve({ baseURL: 'http://127.0.0.1:9' }, env).adapter.origin, 'http://127.0.0.1:9');
    assert.equal(
      resolve({}, { ...env, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: 'http://runtime:2' }).adapter.origin,
      'http://runtime:2',
    );
    assert.equal(resolve({}, env).adapter.origin, 'http://global:1');
    const resolved = resolve({}, { ...KEYS, AWS_REGION: 'us-east-1' });
    assert.equal(resolved.model, 'us.anthropic.claude-sonnet-4-5-20250929-v1:0');
    assert.equal(resolved.embeddingModel, 'amazon.titan-embed-text-v2:0');
    assert.equal(resolved.adapter.tokenCountExact, false);
  });
});

describe('bedrock Converse body', () => {
  test('system to `system`, same-role turns merged, stop as stopSequences, options last; seed is a warning', () => {
    const { body, warnings } = converseBody(
      normalizeRequest(
        {
          messages: [
            { role: 'system', content: 'Be brief.' },
            { role: 'user', content: 'Weather?' },
            { role: 'assistant', content: 'Checking.' },
            { role: 'user', content: 'And tomorrow?' },
            { role: 'user', content: 'In Oslo.' },
          ],
          stop: 'END',
          seed: 7,
          providerOptions: { bedrock: { additionalModelRequestFields: { top_k: 5 } } },
        },
        'm',
      ),
    );
    assert.deepEqual(JSON.parse(body), {
      messages: [
        { role: 'user', content: [{ text: 'Weather?' }] },
        { role: 'assistant', content: [{ text: 'Checking.' }] },
        { role: 'user', content: [{ text: 'And tomorrow?' }, { text: 'In Oslo.' }] },
      ],
      system: [{ text: 'Be brief.' }],
      inferenceConfig: { stopSequences: ['END'] },
      additionalModelRequestFields: { top_k: 5 },
    });
    assert.deepEqual(
      warnings.map((warning) => warning.code),
      ['setting-ignored'],
    );
    assert.match(warnings[0]!.message, /seed/);
  });

  test('model ids and ARNs are one encoded path segment', () => {
    assert.equal(encodeModelId('amazon.titan-embed-text-v2:0'), 'amazon.titan-embed-text-v2%3A0');
    assert.equal(
      encodeModelId("arn:aws:bedrock:us-east-1:1:inference-profile/x(1)!'*"),
      'arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx%281%29%21%27%2A',
    );
  });
});

describe('bedrock SigV4 per attempt', () => {
  const credentials = {
    accessKeyId: 'TESTSIGNKEYID0000000',
    secretAccessKey: 'sign-secret',
    sessionToken: 'sign-token',
  };
  const adapter = resolve(
    { region: 'eu-central-1', credentials, baseURL: 'http://127.0.0.1:8080' },
    {},
  ).adapter;
  const prepared: PreparedRequest = adapter.completionRequest(
    { model: 'anthropic.claude-v2:1', messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }] },
    false,
  );

  test('signs host, x-amz-date, x-amz-content-sha256 and the session token, with the scope of the region', async () => {
    const signed = await adapter.authorize!(prepared);
    const headers = signed.headers;
    assert.equal(signed.url, 'http://127.0.0.1:8080/model/anthropic.claude-v2%3A1/converse');
    assert.equal(headers.host, '127.0.0.1:8080');
    assert.match(headers['x-amz-date']!, /^\d{8}T\d{6}Z$/);
    assert.equal(
      headers['x-amz-content-sha256'],
      createHash('sha256').update(String(prepared.body)).digest('hex'),
    );
    assert.equal(headers['x-amz-security-token'], 'sign-token');
    const scope = `TESTSIGNKEYID0000000/${headers['x-amz-date']!.slice(0, 8)}/eu-central-1/bedrock/aws4_request`;
    assert.match(
      headers.authorization!,
      new RegExp(
        `^AWS4-HMAC-SHA256 Credential=${scope}, SignedHeaders=accept;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$`,
      ),
    );
    assert.equal(
      prepared.headers.authorization,
      undefined,
      'the prepared request is left unsigned for the next attempt',
    );
  });

  test('each attempt is signed with its own time', async (t) => {
    t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(2026, 0, 2, 3, 4, 5) });
    const first = await adapter.authorize!(prepared);
    t.mock.timers.tick(61_000);
    const second = await adapter.authorize!(prepared);
    assert.equal(first.headers['x-amz-date'], '20260102T030405Z');
    assert.equal(second.headers['x-amz-date'], '20260102T030506Z');
    assert.notEqual(first.headers.authorization, second.headers.authorization);
  });
});
