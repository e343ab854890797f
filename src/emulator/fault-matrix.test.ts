/**
 * The fault matrix: every fault kind the emulator injects, streaming and not, transient and persistent,
 * must end in a transparent retry or the right typed error, within the deadline, with no unhandled
 * rejection and no socket left open once everything is closed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientOptions } from '../client/options.ts';
import { isLLMError, LLMContentFilterError } from '../spec/errors.ts';
import { describeFaultMatrix, FAULT_CLIENT } from '../test-support/fault-rig.ts';

const CLIENT: ClientOptions = { ...FAULT_CLIENT, apiKey: 'sk-fault-matrix-000000000000' };

const rig = describeFaultMatrix({
  provider: 'openai',
  client: (factory, url, options) =>
    factory.createClient('openai/gpt-4o-mini', {
      apiKey: 'sk-fault-matrix-000000000000',
      ...options,
      baseURL: `${url}/v1`,
    }),
});
const run = rig.run;

describe('fault outcomes in detail', () => {
  test('content-filter on OpenAI gives an empty result with finish reason content-filter', async () => {
    const outcome = await run('content-filter', false);
    assert.ok(!isLLMError(outcome));
    assert.equal(outcome.finishReason, 'content-filter');
  });

  test('content-filter on Azure is a typed LLMContentFilterError', async () => {
    const client = rig.factory.createClient('azure', {
      ...CLIENT,
      endpoint: rig.emulator.url,
      model: 'gpt-4o-deployment',
    });
    await assert.rejects(
      client.complete({ prompt: 'filtered', headers: { 'x-emulator-fault': 'content-filter' } }),
      (error: unknown) =>
        error instanceof LLMContentFilterError && error.status === 400 && error.retryable === false,
    );
    await client.close();
  });

  test('rate-limit retries wait the retry-after-ms the server asked for', async () => {
    const before = rig.emulator.requests.length;
    const outcome = await run('rate-limit:2', false);
    assert.ok(!isLLMError(outcome));
    const attempts = rig.emulator.requests.slice(before);
    assert.equal(attempts.length, 3);
    for (let i = 1; i < attempts.length; i++) {
      assert.ok(
        attempts[i]!.receivedAt - attempts[i - 1]!.receivedAt >= 9,
        'waited about retry-after-ms (10 ms)',
      );
    }
  });
});
