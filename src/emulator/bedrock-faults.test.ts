/**
 * The fault matrix for Bedrock: every fault kind the emulator injects, streaming (binary eventstream) and
 * not, on every attempt and on the first attempt only, must end in a transparent retry or the right typed
 * error, with every attempt freshly SigV4-signed, no unhandled rejection and no socket left open.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ClientOptions } from '../client/options.ts';
import { isLLMError, LLMInvalidResponseError, LLMRateLimitError, LLMServerError } from '../spec/errors.ts';
import { describeFaultMatrix, FAULT_CLIENT } from '../test-support/fault-rig.ts';
import { GUARDRAIL_TEXT } from './bedrock-converse.ts';

const CLIENT: ClientOptions = {
  ...FAULT_CLIENT,
  region: 'us-east-1',
  credentials: { accessKeyId: 'EMULATORKEYID', secretAccessKey: 'emulator-secret' },
};

const rig = describeFaultMatrix({
  provider: 'bedrock',
  client: (factory, url, options) => factory.createClient('bedrock', { ...CLIENT, ...options, baseURL: url }),
});
const run = rig.run;

describe('bedrock fault outcomes in detail', () => {
  test('content-filter is the guardrail reply with stopReason guardrail_intervened, both ways', async () => {
    for (const stream of [false, true]) {
      const outcome = await run('content-filter', stream);
      assert.ok(!isLLMError(outcome));
      assert.deepEqual(outcome, {
        text: GUARDRAIL_TEXT,
        finishReason: 'content-filter',
        rawFinishReason: 'guardrail_intervened',
        requests: 1,
      });
    }
  });

  test('rate-limit is a ThrottlingException with retry-after in whole seconds', async () => {
    const outcome = await run('rate-limit', false, { maxRetries: 0 });
    assert.ok(outcome instanceof LLMRateLimitError);
    assert.equal(outcome.status, 429);
    assert.equal(outcome.providerCode, 'ThrottlingException');
    assert.equal(outcome.retryAfterMs, 1000, 'retryAfterMs 10 rounds up to retry-after: 1');
    assert.match(outcome.message, /Too many requests, please wait before trying again\./);
    assert.match(outcome.requestId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  });

  test('server-error, unavailable and overloaded carry their exception names', async () => {
    const cases: Array<[string, number, string]> = [
      ['server-error', 500, 'InternalServerException'],
      ['unavailable', 503, 'ServiceUnavailableException'],
      ['overloaded', 503, 'ServiceUnavailableException'],
      ['stream-error', 500, 'InternalServerException'],
    ];
    for (const [fault, status, name] of cases) {
      const outcome = await run(fault, false, { maxRetries: 0 });
      assert.ok(outcome instanceof LLMServerError, fault);
      assert.equal(outcome.status, status, fault);
      assert.equal(outcome.providerCode, name, fault);
    }
  });

  test('stream-error: two deltas, then a modelStreamErrorException frame', async () => {
    const client = rig.factory.createClient('bedrock', { ...CLIENT, baseURL: rig.emulator.url });
    const texts: string[] = [];
    const error = await (async () => {
      for await (const event of client.stream({
        prompt: 'stream error detail',
        headers: { 'x-emulator-fault': 'stream-error' },
      })) {
        if (event.type === 'text-delta') texts.push(event.text);
      }
    })().then(
      () => assert.fail('expected a stream error'),
      (caught: unknown) => caught,
    );
    await client.close();
    assert.equal(texts.length, 2);
    assert.ok(error instanceof LLMServerError);
    assert.equal(error.providerCode, 'modelStreamErrorException');
    assert.match(error.message, /^bedrock stream error modelStreamErrorException:/);
  });

  test('malformed stream: the first frame has a broken CRC', async () => {
    const outcome = await run('malformed', true, { maxRetries: 0 });
    assert.ok(outcome instanceof LLMInvalidResponseError);
    assert.match(outcome.message, /checksum/);
  });
});
