/**
 * Virtual keys end to end, against a gateway in front of the emulator: `llmf keys create | list | revoke` run
 * as child processes; every refusal (unknown, revoked, expired, wrong model, over rpm, tpm or budget) with its
 * status, its body in the client's protocol and `Retry-After` on 429s; the admin API for the master key only;
 * no key in a list, a log line, a metric label or the state file; and a spend ledger that adds up to the
 * usage the emulator itself reports for the calls made.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import { metricsText } from '../middleware/metrics.ts';
import { collectingLogger, RUN_ID } from '../middleware/test-support/harness.ts';
import { costOf } from '../pricing/pricing.ts';
import { gatewayConfigFrom } from './config.ts';
import { type Gateway, startGateway } from './server.ts';
import {
  assertErrorShape,
  type ClientProtocol,
  call,
  chat,
  childEnv,
  createKey,
  emulatorDeployments,
  MASTER_KEY,
  PROVIDER_KEY,
  retryAfterSeconds,
  runLlmf,
  tempFolder,
} from './test-support/keys-rig.ts';

interface Rig {
  emulator: Emulator;
  gateway: Gateway;
  dir: string;
  logger: ReturnType<typeof collectingLogger>;
}

async function setUp(t: TestContext, server: Record<string, number> = {}): Promise<Rig> {
  const dir = tempFolder(t);
  const emulator = await startEmulator();
  const logger = collectingLogger();
  const config = gatewayConfigFrom({
    masterKey: MASTER_KEY,
    state: { sqlite: join(dir, 'gateway.sqlite') },
    deployments: emulatorDeployments(emulator.url),
    groups: { chat: ['openai', 'anthropic'] },
    server,
  });
  const gateway = await startGateway({ config, port: 0, logger });
  t.after(async () => {
    await gateway.close();
    await emulator.close();
  });
  return { emulator, gateway, dir, logger };
}

const PROTOCOLS: ClientProtocol[] = ['openai', 'anthropic'];

/** Calls (16 tokens of answer each) until one is refused: how many were granted, and the refusal. */
async function untilRefused(url: string, protocol: ClientProtocol, key: string) {
  for (let granted = 0; granted < 100; granted++) {
    const answer = await chat(url, protocol, key, { model: 'openai', maxTokens: 16 });
    if (answer.status !== 200) return { granted, refused: answer };
  }
  return assert.fail('100 calls and none refused');
}

describe('llmf keys, against a running gateway', () => {
  test('create, list and revoke: the key is printed once, listed by its prefix only, refused once revoked', async (t) => {
    const { gateway } = await setUp(t);
    const keys = (...args: string[]) => runLlmf(['keys', ...args, '--url', gateway.url]);

    const created = await keys(
      'create',
      '--name',
      'team-cli',
      '--models',
      'openai, chat',
      '--rpm',
      '60',
      '--budget-usd',
      '25',
      '--budget-period',
      'month',
    );
    assert.equal(created.code, 0, created.stderr);
    const [key, note] = created.stdout.trim().split('\n');
    assert.match(key!, /^llmf-[A-Za-z0-9_-]{43}$/);
    const id = /\(id (key_[A-Za-z0-9_-]+);/.exec(note!)?.[1];
    assert.ok(id, `the id is printed: ${note}`);

    const allowed = await chat(gateway.url, 'openai', key, { model: 'openai' });
    assert.equal(allowed.status, 200, allowed.text);

    const listed = await keys('list');
    assert.equal(listed.code, 0, listed.stderr);
    assert.ok(!listed.stdout.includes(key!), 'the list never shows the key');
    const line = listed.stdout.split('\n').find((row) => row.startsWith(id!));
    assert.ok(line, listed.stdout);
    const [, name, prefix, state, limits] = line.split('\t');
    assert.equal(name, 'team-cli');
    assert.equal(prefix, `${key!.slice(0, 9)}…`, 'the prefix: llmf- and four characters, one ellipsis');
    assert.equal(state, 'active');
    assert.equal(limits, 'rpm=60 budgetUsd=25 budgetPeriod=month');

    const json = await keys('list', '--json');
    const records = JSON.parse(json.stdout) as Array<Record<string, unknown>>;
    const record = records.find((row) => row.id === id)!;
    assert.deepEqual(record.models, ['openai', 'chat']);
    assert.equal(record.key, undefined);
    assert.ok(!json.stdout.includes(key!.slice(9)), 'no part of the key past its prefix');

    const revoked = await keys('revoke', id!);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(revoked.stdout, `revoked ${id}\n`);
    for (const protocol of PROTOCOLS) {
      const refused = await chat(gateway.url, protocol, key, { model: 'openai' });
      assertErrorShape(refused, protocol, 401, 'authentication_error');
      if (protocol === 'openai') assert.equal(refused.json.error.code, 'key_revoked');
    }
    const expiring = await keys(
      'create',
      '--name',
      'team-past',
      '--expires-at',
      '2000-01-01T00:00:00Z',
      '--json',
    );
    assert.equal(expiring.code, 0, expiring.stderr);
    const past = JSON.parse(expiring.stdout);
    assert.equal(past.expiresAt, Date.parse('2000-01-01T00:00:00Z'));
    const expired = await chat(gateway.url, 'openai', past.key, { model: 'openai' });
    assertErrorShape(expired, 'openai', 401, 'authentication_error');
    assert.equal(expired.json.error.code, 'key_expired');

    const after = await keys('list');
    assert.match(after.stdout, new RegExp(`^${id}\\tteam-cli\\t.*\\trevoked`, 'm'));
    assert.match(after.stdout, new RegExp(`^${past.id}\\tteam-past\\t.*\\texpired$`, 'm'));
  });

  test('create --json prints the whole record; a bad flag or a refusal is an error exit naming it', async (t) => {
    const { gateway } = await setUp(t);
    const keys = (args: string[], env = childEnv()) => runLlmf(['keys', ...args, '--url', gateway.url], env);

    const created = await keys(['create', '--name', 'json-team', '--tpm', '1000', '--json']);
    assert.equal(created.code, 0, created.stderr);
    const record = JSON.parse(created.stdout);
    assert.match(record.key, /^llmf-/);
    assert.equal(record.tpm, 1000);
    assert.equal(record.name, 'json-team');

    const noMaster = await keys(['list'], childEnv({ LLMF_MASTER_KEY: '' }));
    assert.equal(noMaster.code, 1);
    assert.match(noMaster.stderr, /No master key: pass --master-key or set LLMF_MASTER_KEY/);

    const virtual = await keys(['list', '--master-key', record.key]);
    assert.equal(virtual.code, 1);
    assert.match(virtual.stderr, /answered 403: The admin API takes the master key/);
    assert.ok(!virtual.stderr.includes(record.key), 'the error does not repeat the key');

    const unknown = await keys(['revoke', 'key_doesnotexist']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /answered 404: No key with id 'key_doesnotexist'/);

    const badPeriod = await keys(['create', '--name', 'x', '--budget-usd', '5', '--budget-period', 'week']);
    assert.equal(badPeriod.code, 1);
    assert.match(badPeriod.stderr, /answered 400: .*budgetPeriod/);

    const badDate = await keys(['create', '--name', 'x', '--expires-at', 'next tuesday']);
    assert.equal(badDate.code, 1);
    assert.match(badDate.stderr, /answered 400: .*expiresAt/);

    const unreachable = await runLlmf(['keys', 'list', '--url', 'http://127.0.0.1:9']);
    assert.equal(unreachable.code, 1);
    assert.match(unreachable.stderr, /Could not reach the gateway at http:\/\/127\.0\.0\.1:9/);
  });
});

describe('refusals, in the client protocol', () => {
  for (const protocol of PROTOCOLS) {
    test(`${protocol}: no key, an unknown key, a revoked and an expired key are 401s`, async (t) => {
      const { gateway } = await setUp(t);
      const missing = await chat(gateway.url, protocol, undefined, { model: 'openai' });
      assertErrorShape(missing, protocol, 401, 'authentication_error');

      // A well-formed key the gateway never issued, and one that is not even shaped like a key.
      for (const unknown of [`llmf-${'A'.repeat(43)}`, 'sk-not-a-gateway-key']) {
        const refused = await chat(gateway.url, protocol, unknown, { model: 'openai' });
        assertErrorShape(refused, protocol, 401, 'authentication_error');
        if (protocol === 'openai') assert.equal(refused.json.error.code, 'invalid_api_key');
        assert.ok(!refused.text.includes(unknown), 'the answer does not echo the key');
      }

      const revoked = await createKey(gateway.url, { name: `revoked-${protocol}` });
      assert.equal((await chat(gateway.url, protocol, revoked.key, { model: 'openai' })).status, 200);
      const revocation = await call(gateway.url, `/admin/keys/${revoked.id}`, {
        method: 'DELETE',
        key: MASTER_KEY,
      });
      assert.equal(revocation.status, 200, revocation.text);
      const afterRevoke = await chat(gateway.url, protocol, revoked.key, { model: 'openai' });
      assertErrorShape(afterRevoke, protocol, 401, 'authentication_error');
      assert.match(afterRevoke.text, /revoked/);

      const expired = await createKey(gateway.url, {
        name: `expired-${protocol}`,
        expiresAt: new Date(Date.now() - 60_000).toISOString(),
      });
      const afterExpiry = await chat(gateway.url, protocol, expired.key, { model: 'openai' });
      assertErrorShape(afterExpiry, protocol, 401, 'authentication_error');
      assert.match(afterExpiry.text, /expired/);
      if (protocol === 'openai') assert.equal(afterExpiry.json.error.code, 'key_expired');
    });

    test(`${protocol}: a model the key may not use is a 403 naming the models it may`, async (t) => {
      const { gateway } = await setUp(t);
      const { key } = await createKey(gateway.url, { name: 'only-openai', models: ['openai'] });
      assert.equal((await chat(gateway.url, protocol, key, { model: 'openai' })).status, 200);
      for (const model of ['anthropic', 'chat']) {
        const refused = await chat(gateway.url, protocol, key, { model });
        assertErrorShape(refused, protocol, 403, 'permission_error');
        assert.match(refused.text, new RegExp(`may not use model '${model}' \\(allowed: openai\\)`));
      }
      const models = await call(gateway.url, '/v1/models', { key });
      assert.deepEqual(
        models.json.data.map((model: { id: string }) => model.id),
        ['openai'],
        'the key sees only its models',
      );
    });

    test(`${protocol}: over rpm, over tpm and over budget are 429s with Retry-After`, async (t) => {
      const { gateway } = await setUp(t);

      const rpm = await createKey(gateway.url, { name: `rpm-${protocol}`, rpm: 2 });
      for (let i = 0; i < 2; i++)
        assert.equal((await chat(gateway.url, protocol, rpm.key, { model: 'openai' })).status, 200);
      const overRpm = await chat(gateway.url, protocol, rpm.key, { model: 'openai' });
      assertErrorShape(
        overRpm,
        protocol,
        429,
        protocol === 'openai' ? 'rate_limit_exceeded' : 'rate_limit_error',
      );
      if (protocol === 'openai') assert.equal(overRpm.json.error.code, 'rpm_limit_exceeded');
      assert.ok(retryAfterSeconds(overRpm) <= 61, 'the minute frees a request within 61 s');

      // Each call reserves its prompt's estimate and max_tokens (16): 400 tokens a minute allow a few.
      const tpm = await createKey(gateway.url, { name: `tpm-${protocol}`, tpm: 400 });
      const { granted, refused: overTpm } = await untilRefused(gateway.url, protocol, tpm.key);
      assert.ok(granted >= 3, `tpm 400 let ${granted} calls through, then refused`);
      assertErrorShape(
        overTpm,
        protocol,
        429,
        protocol === 'openai' ? 'rate_limit_exceeded' : 'rate_limit_error',
      );
      if (protocol === 'openai') assert.equal(overTpm.json.error.code, 'tpm_limit_exceeded');
      assert.ok(retryAfterSeconds(overTpm) <= 61);

      // gpt-4o-mini: $0.15 / $0.60 per million tokens; a call of ~15 tokens in and 16 out costs ~$0.000012.
      const budget = await createKey(gateway.url, {
        name: `budget-${protocol}`,
        budgetUsd: 0.00005,
        budgetPeriod: 'day',
      });
      const { granted: paid, refused: overBudget } = await untilRefused(gateway.url, protocol, budget.key);
      assert.ok(paid >= 2, `a $0.00005 budget paid for ${paid} calls, then refused`);
      assertErrorShape(
        overBudget,
        protocol,
        429,
        protocol === 'openai' ? 'insufficient_quota' : 'rate_limit_error',
      );
      if (protocol === 'openai') assert.equal(overBudget.json.error.code, 'budget_exceeded');
      const midnight = new Date();
      midnight.setUTCHours(24, 0, 0, 0);
      const toMidnight = Math.ceil((midnight.getTime() - Date.now()) / 1000);
      const wait = retryAfterSeconds(overBudget);
      assert.ok(wait <= toMidnight + 1 && wait >= toMidnight - 60, `Retry-After ${wait} s: the day's end`);
      const spend = await call(gateway.url, `/admin/keys/${budget.id}/spend`, { key: MASTER_KEY });
      assert.ok(spend.json.spendUsd <= 0.00005, `spent ${spend.json.spendUsd} of $0.00005`);
    });
  }
});

/** Sends an upstream request the emulator recorded to it again, whole (not streamed), and reads the usage it reports. */
async function usageFromEmulator(
  emulator: Emulator,
  recorded: Emulator['requests'][number],
): Promise<{
  provider: 'openai' | 'anthropic' | 'gemini';
  model: string;
  inputTokens: number;
  outputTokens: number;
}> {
  const headers: Record<string, string> = {};
  for (const name of ['authorization', 'x-api-key', 'x-goog-api-key', 'anthropic-version', 'content-type']) {
    const value = recorded.headers[name];
    if (typeof value === 'string') headers[name] = value;
  }
  const body = { ...(recorded.body as Record<string, unknown>) };
  delete body.stream;
  delete body.stream_options;
  const path = recorded.path.replace(':streamGenerateContent?alt=sse', ':generateContent');
  const response = await fetch(`${emulator.url}${path}`, {
    method: 'POST',
    headers,
    body: JSON.stringify(body),
  });
  // biome-ignore lint/suspicious/noExplicitAny: each provider's body is read as loosely typed JSON
  const answer = (await response.json()) as any;
  assert.equal(response.status, 200, JSON.stringify(answer));
  if (path.startsWith('/v1/chat/completions') || path.startsWith('/v1/embeddings'))
    return {
      provider: 'openai',
      model: body.model as string,
      inputTokens: answer.usage.prompt_tokens,
      outputTokens: answer.usage.completion_tokens ?? 0,
    };
  if (path.startsWith('/v1/messages'))
    return {
      provider: 'anthropic',
      model: body.model as string,
      inputTokens: answer.usage.input_tokens,
      outputTokens: answer.usage.output_tokens,
    };
  const model = /models\/([^:]+):/.exec(path)![1]!;
  const metadata = answer.usageMetadata;
  return {
    provider: 'gemini',
    model,
    inputTokens: metadata.promptTokenCount,
    outputTokens: (metadata.candidatesTokenCount ?? 0) + (metadata.thoughtsTokenCount ?? 0),
  };
}

const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** The usage and the price of each recorded upstream request, as the emulator reports it. */
async function emulatorUsage(emulator: Emulator, upstream: Emulator['requests']) {
  assert.notEqual(upstream, emulator.requests, 'a copy: each replay is recorded too');
  const usages = [];
  for (const request of upstream) usages.push(await usageFromEmulator(emulator, request));
  const costs = usages.map((usage) => {
    const cost = costOf(usage.provider, usage.model, {
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      totalTokens: usage.inputTokens + usage.outputTokens,
    });
    assert.ok(cost !== undefined, `${usage.provider}/${usage.model} has a price`);
    return cost;
  });
  return { usages, costs };
}

test('the spend ledger adds up to the usage the emulator reports for the calls made', async (t) => {
  const { emulator, gateway } = await setUp(t);
  const { id, key } = await createKey(gateway.url, {
    name: 'ledger-team',
    budgetUsd: 1,
    budgetPeriod: 'month',
  });
  const requestIds: string[] = [];
  const expectOk = (answer: Awaited<ReturnType<typeof call>>) => {
    assert.equal(answer.status, 200, answer.text);
    requestIds.push(answer.headers.get('x-request-id')!);
  };
  // Passed through and translated, whole and streamed, from both protocols.
  for (const [protocol, model] of [
    ['openai', 'openai'],
    ['openai', 'anthropic'],
    ['openai', 'gemini'],
    ['anthropic', 'anthropic'],
    ['anthropic', 'openai'],
    ['anthropic', 'gemini'],
  ] as const) {
    const content = `A ${protocol} client asks ${model} what the ledger is for`;
    expectOk(await chat(gateway.url, protocol, key, { model, content, maxTokens: 40 }));
    expectOk(
      await chat(gateway.url, protocol, key, { model, content: `${content}, streamed`, stream: true }),
    );
  }
  // A call that fails upstream is answered with an error and charged nothing.
  emulator.setFault('server-error');
  const failed = await chat(gateway.url, 'openai', key, { model: 'openai', content: 'this one fails' });
  assert.equal(failed.status, 502, failed.text);
  emulator.setFault(undefined);

  const upstream = emulator.requests.filter(
    (request) => request.method === 'POST' && !/this one fails/.test(JSON.stringify(request.body)),
  );
  assert.equal(upstream.length, requestIds.length, 'one upstream request per call');
  const { usages, costs } = await emulatorUsage(emulator, upstream);
  const spend = (await call(gateway.url, `/admin/keys/${id}/spend`, { key: MASTER_KEY })).json;
  assert.equal(spend.requests, requestIds.length);
  assert.equal(spend.inputTokens, sum(usages.map((usage) => usage.inputTokens)));
  assert.equal(spend.outputTokens, sum(usages.map((usage) => usage.outputTokens)));
  assert.equal(spend.unpricedRequests, 0);
  assert.ok(
    Math.abs(spend.spendUsd - sum(costs)) <= requestIds.length * 1e-9,
    `spent ${spend.spendUsd}, the emulator's usage prices at ${sum(costs)}`,
  );
  assert.equal(spend.reservedUsd, 0, 'nothing is still held');

  const ledger = await gateway.store.ledger(id, { limit: 1000 });
  assert.deepEqual(
    ledger.map((row) => row.requestId).sort(),
    [...requestIds].sort(),
    'a row per call answered',
  );
  assert.deepEqual(
    ledger.map((row) => `${row.inputTokens}+${row.outputTokens}`).sort(),
    usages.map((usage) => `${usage.inputTokens}+${usage.outputTokens}`).sort(),
    'each row is the usage of one call',
  );
});

test('embeddings are charged the tokens and the price the provider reports', {
  todo: "the router's generateEmbeddings returns vectors only, so the gateway charges its own estimate, unpriced",
}, async (t) => {
  const { emulator, gateway } = await setUp(t);
  const { id, key } = await createKey(gateway.url, { name: 'embeddings-team', budgetUsd: 1 });
  const answer = await call(gateway.url, '/v1/embeddings', {
    key,
    body: { model: 'openai', input: ['ledger lines', 'add up to the totals'] },
  });
  assert.equal(answer.status, 200, answer.text);
  const { usages, costs } = await emulatorUsage(emulator, [...emulator.requests]);
  const spend = (await call(gateway.url, `/admin/keys/${id}/spend`, { key: MASTER_KEY })).json;
  assert.equal(answer.json.usage.prompt_tokens, usages[0]!.inputTokens, 'the client sees the provider usage');
  assert.equal(spend.inputTokens, usages[0]!.inputTokens);
  assert.equal(spend.unpricedRequests, 0);
  assert.ok(Math.abs(spend.spendUsd - costs[0]!) <= 1e-9, `spent ${spend.spendUsd}, priced ${costs[0]}`);
});

test('the admin API takes the master key only, from either header', async (t) => {
  const { gateway } = await setUp(t);
  const virtual = await createKey(gateway.url, { name: 'not-an-admin' });
  const routes = [
    { method: 'POST', path: '/admin/keys', body: { name: 'made-by-whom' } },
    { method: 'GET', path: '/admin/keys' },
    { method: 'GET', path: `/admin/keys/${virtual.id}/spend` },
    { method: 'DELETE', path: `/admin/keys/${virtual.id}` },
  ];
  for (const { method, path, body } of routes) {
    const anonymous = await call(gateway.url, path, { method, body });
    assertErrorShape(anonymous, 'openai', 401, 'authentication_error');
    for (const key of [virtual.key, `${MASTER_KEY}x`]) {
      const refused = await call(gateway.url, path, { method, body, key });
      assertErrorShape(refused, 'openai', 403, 'permission_error');
      assert.match(refused.json.error.message, /takes the master key/);
    }
  }
  const listed = await call(gateway.url, '/admin/keys', { key: MASTER_KEY, keyHeader: 'x-api-key' });
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.json.data.map((record: { name: string }) => record.name),
    ['not-an-admin'],
    'nothing was created by a refused request',
  );
  assert.equal(listed.json.data[0].revokedAt, undefined, 'nor revoked');

  const typo = await call(gateway.url, '/admin/keys', { key: MASTER_KEY, body: { name: 'x', budget: 5 } });
  assertErrorShape(typo, 'openai', 400, 'invalid_request_error');
  assert.match(typo.json.error.message, /`budget` is not a key field/);
  const unknown = await call(gateway.url, '/admin/keys/key_nope/spend', { key: MASTER_KEY });
  assertErrorShape(unknown, 'openai', 404, 'invalid_request_error');
});

/** Every file of the state folder (the SQLite file, its WAL and shared memory), as bytes. */
function stateBytes(dir: string): Buffer {
  return Buffer.concat(readdirSync(dir).map((name) => readFileSync(join(dir, name))));
}

test('a key is never in a list, a log line, a metric label, an answer or the state file', async (t) => {
  const { gateway, dir, logger } = await setUp(t);
  const name = (role: string) => `leak-${role}-${RUN_ID}`;
  const busy = await createKey(gateway.url, { name: name('busy'), rpm: 3, models: ['openai', 'anthropic'] });
  const revoked = await createKey(gateway.url, { name: name('revoked') });
  const keys = [busy.key, revoked.key];
  const answers: string[] = [];
  const keep = (answer: Awaited<ReturnType<typeof call>>) => {
    answers.push(answer.text, JSON.stringify([...answer.headers]));
    return answer;
  };
  for (const protocol of PROTOCOLS) keep(await chat(gateway.url, protocol, busy.key, { model: 'anthropic' }));
  keep(await chat(gateway.url, 'openai', busy.key, { model: 'openai', stream: true, includeUsage: true }));
  assert.equal(keep(await chat(gateway.url, 'openai', busy.key, { model: 'openai' })).status, 429);
  assert.equal(keep(await chat(gateway.url, 'openai', busy.key, { model: 'gemini' })).status, 403);
  keep(await call(gateway.url, `/admin/keys/${revoked.id}`, { method: 'DELETE', key: MASTER_KEY }));
  assert.equal(keep(await chat(gateway.url, 'anthropic', revoked.key, { model: 'openai' })).status, 401);
  keep(await call(gateway.url, '/admin/keys', { key: MASTER_KEY }));
  keep(await call(gateway.url, `/admin/keys/${busy.id}/spend`, { key: MASTER_KEY }));
  keep(await call(gateway.url, '/v1/models', { key: busy.key }));

  const logs = JSON.stringify(logger.lines);
  const metrics = await metricsText();
  const state = stateBytes(dir);
  // Each place is checked for something it must hold, so that a search that cannot find anything fails.
  assert.match(logs, new RegExp(name('busy')), 'the log names the key');
  assert.match(metrics, new RegExp(`key="${name('busy')}"`), 'metrics are labelled by key name');
  assert.ok(state.includes(name('revoked')), 'the state file holds the key names');
  for (const secret of [...keys, MASTER_KEY, PROVIDER_KEY]) {
    const random = secret.slice(-20);
    assert.ok(!logs.includes(random), 'no key in a log line');
    assert.ok(!metrics.includes(random), 'no key in a metric');
    assert.ok(!state.includes(random), 'no key in the state file');
    assert.ok(!answers.some((text) => text.includes(random)), 'no key in an answer');
  }
});
