/**
 * Router configuration: YAML and JSON files with `env:VARIABLE` credentials, strict validation that names
 * the field, a part of a larger configuration validated on its own, and creation errors that name the
 * deployment.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { LLMClientFactory } from '../client/factory.ts';
import { openPoolCount } from '../http/transport.ts';
import { LLMConfigurationError } from '../spec/errors.ts';
import { validateRouterConfig } from './config.ts';
import { loadRouterConfig, readConfigFile } from './config-file.ts';
import { createRouter } from './router.ts';
import { emulators, TEST_KEY } from './test-support/rig.ts';

async function file(t: TestContext, name: string, text: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'llmf-router-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, name);
  await writeFile(path, text);
  return path;
}

const ONE = { deployments: [{ id: 'a', model: 'openai/gpt-4o-mini' }] };

function invalid(config: unknown, message: RegExp, options?: Parameters<typeof validateRouterConfig>[1]) {
  assert.throws(
    () => validateRouterConfig(config, options),
    (error: unknown) => error instanceof LLMConfigurationError && message.test(error.message),
  );
}

describe('router config: validation names the field', () => {
  test('deployments', () => {
    invalid({}, /`deployments`: expected a non-empty array/);
    invalid({ deployments: [{ id: 'a' }] }, /`deployments\[0\]\.model`: expected a non-empty string/);
    invalid(
      {
        deployments: [
          { id: 'a', model: 'openai/x' },
          { id: 'b', model: 'mystery-model' },
        ],
      },
      /`deployments\[1\]\.model`: Unknown provider 'mystery-model'/,
    );
    invalid(
      {
        deployments: [
          { id: 'a', model: 'openai/x' },
          { id: 'a', model: 'openai/y' },
        ],
      },
      /`deployments\[1\]\.id`: 'a' is the id of an earlier deployment/,
    );
    invalid(
      { deployments: [{ id: 'a', model: 'openai/x', wieght: 2 }] },
      /`deployments\[0\]\.wieght`: unknown field \(did you mean `weight`\?\)/,
    );
    invalid(
      { deployments: [{ id: 'a', model: 'openai/x', rpm: 1.5 }] },
      /`deployments\[0\]\.rpm`: expected a positive integer, got 1.5/,
    );
    invalid(
      { deployments: [{ id: 'a', model: 'openai/x', options: { timeout: 5 } }] },
      /`deployments\[0\]\.options`: Unknown option `timeout` \(did you mean `timeoutMs`\?\)/,
    );
  });

  test('groups, strategy, fallbacks, cooldown, hedge, state', () => {
    invalid(
      { ...ONE, groups: { chat: ['a', 'b'] } },
      /`groups\.chat\[1\]`: unknown deployment 'b'; known: a/,
    );
    invalid({ ...ONE, groups: { a: ['a'] } }, /`groups\.a`: a group cannot have the name of deployment 'a'/);
    invalid(
      { ...ONE, strategy: 'fastest' },
      /`strategy`: expected one of priority, weighted, least-busy, latency, usage, cost/,
    );
    invalid({ ...ONE, fallbacks: ['rate_limit', 'aborted'] }, /`fallbacks\[1\]`: expected one of/);
    invalid(
      { ...ONE, cooldown: { allowedFail: 2 } },
      /`cooldown\.allowedFail`: unknown field \(did you mean `allowedFails`\?\)/,
    );
    invalid({ ...ONE, hedge: { afterMs: 100, percentile: 90 } }, /`hedge`: expected exactly one of/);
    invalid({ ...ONE, hedge: { percentile: 100 } }, /`hedge\.percentile`: expected a number below 100/);
    invalid({ ...ONE, state: 'postgres://x' }, /`state`: expected 'memory', 'redis', a redis:\/\/ URL/);
    invalid({ ...ONE, state: { redis: 'redis://x', ttl: 1 } }, /`state\.ttl`: unknown field/);
    invalid(
      { ...ONE, defaultModel: 'chat' },
      /`defaultModel`: 'chat' is neither a group nor a deployment id/,
    );
    invalid({ ...ONE, stratgy: 'cost' }, /`stratgy`: unknown field \(did you mean `strategy`\?\)/);
    invalid({ ...ONE, logger: {} }, /`logger`: expected a pino-compatible logger/);
  });

  test('a larger configuration keeps its own fields; paths get its prefix', () => {
    const config = validateRouterConfig(
      { ...ONE, masterKey: 'k', state: 'sqlite:gw.db' },
      { ownKeys: ['masterKey', 'state'] },
    );
    assert.deepEqual(Object.keys(config), ['deployments']);
    invalid({ ...ONE, masterKey: 'k' }, /`masterKey`: unknown field/);
    invalid({ deployments: [] }, /`gateway\.deployments`/, { path: 'gateway.' });
  });

  test('a valid configuration comes back typed, holding only the router’s fields', () => {
    const config = validateRouterConfig({
      deployments: [
        {
          id: 'a',
          model: 'openai/gpt-4o-mini',
          weight: 2,
          priority: 1,
          rpm: 10,
          options: { apiKey: TEST_KEY },
        },
      ],
      groups: { chat: ['a'] },
      strategy: 'weighted',
      cooldown: { allowedFails: 0 },
      hedge: { percentile: 95 },
      state: { redis: 'redis://127.0.0.1:6379', prefix: 'test:' },
      fallbacks: ['rate_limit'],
      ttftTimeoutMs: 500,
      maxWaitMs: 0,
    });
    assert.equal(config.strategy, 'weighted');
    assert.deepEqual(config.hedge, { percentile: 95 });
    assert.equal(config.deployments[0]?.weight, 2);
  });
});

describe('router config: files', () => {
  test('YAML with env: credentials, through createRouter, answers', async (t) => {
    const [emulator] = await emulators(t, {});
    const path = await file(
      t,
      'router.yaml',
      `# a router in YAML
deployments:
  - id: main
    model: openai/gpt-4o-mini
    options:
      apiKey: env:ROUTER_TEST_KEY
      baseURL: env:ROUTER_TEST_URL
groups:
  chat: [main]
strategy: priority
cooldown: { allowedFails: 2, cooldownMs: 1000 }
`,
    );
    const env = { ROUTER_TEST_KEY: TEST_KEY, ROUTER_TEST_URL: `${emulator!.url}/v1` };
    const config = loadRouterConfig(path, { env });
    assert.equal(config.deployments[0]?.options?.apiKey, TEST_KEY);
    const router = createRouter({ ...config, factory: new LLMClientFactory({ env: {} }) });
    t.after(() => router.close());
    const result = await router.complete({ model: 'chat', prompt: 'from yaml' });
    assert.equal(result.route?.deployment, 'main');
  });

  test('JSON works the same; a missing variable names the field and the variable, never a value', async (t) => {
    const path = await file(
      t,
      'router.json',
      JSON.stringify({
        deployments: [
          { id: 'a', model: 'anthropic/claude-sonnet-4-6', options: { apiKey: 'env:NOT_SET_ROUTER_KEY' } },
        ],
      }),
    );
    assert.throws(
      () => loadRouterConfig(path, { env: {} }),
      /router\.json: Invalid router config: `deployments\[0\]\.options\.apiKey`: environment variable NOT_SET_ROUTER_KEY is not set/,
    );
    const document = readConfigFile(path, { env: { NOT_SET_ROUTER_KEY: TEST_KEY } });
    assert.deepEqual(document, {
      deployments: [{ id: 'a', model: 'anthropic/claude-sonnet-4-6', options: { apiKey: TEST_KEY } }],
    });
  });

  test('broken files fail with the file named', async (t) => {
    const yaml = await file(t, 'broken.yaml', 'deployments:\n  - id: a\n    model: [unclosed\n');
    assert.throws(() => loadRouterConfig(yaml, { env: {} }), /broken\.yaml is not valid YAML/);
    const json = await file(t, 'broken.json', '{"deployments": [');
    assert.throws(() => loadRouterConfig(json, { env: {} }), /broken\.json is not valid JSON/);
    const invalidFile = await file(
      t,
      'wrong.yaml',
      'deployments:\n  - id: a\n    model: openai/x\n    wieght: 3\n',
    );
    assert.throws(
      () => loadRouterConfig(invalidFile, { env: {} }),
      /wrong\.yaml: Invalid router config: `deployments\[0\]\.wieght`/,
    );
    assert.throws(
      () => loadRouterConfig(join(tmpdir(), 'no-such-router.yaml')),
      /Cannot read the config file/,
    );
  });

  test('a deployment without credentials fails at creation, naming it, and releases what was made', async () => {
    const factory = new LLMClientFactory({ env: {} });
    const pools = openPoolCount();
    assert.throws(
      () =>
        createRouter({
          deployments: [
            {
              id: 'fine',
              model: 'openai/gpt-4o-mini',
              options: { apiKey: TEST_KEY, baseURL: 'http://127.0.0.1:9/v1' },
            },
            { id: 'keyless', model: 'anthropic/claude-sonnet-4-6' },
          ],
          factory,
        }),
      /`deployments\[1\]` \('keyless'\): No API key for anthropic: pass `apiKey` or set ANTHROPIC_API_KEY/,
    );
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(openPoolCount(), pools, 'the first deployment’s pool was released');
  });
});
