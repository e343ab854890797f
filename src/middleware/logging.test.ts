/**
 * Log lines read back from a pino-compatible logger that keeps them: one line per call, a warning per
 * retry, an error line per failure, and nothing for a level the logger says is off.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Emulator, startEmulator } from '../emulator/index.ts';
import type { FinishEvent } from '../spec/types.ts';
import { MemoryStore } from './cache/memory-store.ts';
import { collectingLogger, drain, openai } from './test-support/harness.ts';

let emulator: Emulator;
before(async () => {
  emulator = await startEmulator({ retryAfterMs: 5 });
});
after(() => emulator.close());

const fault = (kind: string) => ({ 'x-emulator-fault': kind });

describe('logging', () => {
  test('one info line per call, with provider, model, operation, request id and latency', async (t) => {
    const logger = collectingLogger();
    const client = openai(emulator, { logger });
    t.after(() => client.close());
    const result = await client.complete({ prompt: 'log me' });
    const events = await drain(client.stream({ prompt: 'log my stream' }));
    await client.generateEmbeddings(['log vector']);
    const finish = events.at(-1) as FinishEvent;

    assert.deepEqual(
      logger.lines.map((line) => [line.level, line.message, line.object.operation]),
      [
        ['info', 'llm call', 'complete'],
        ['info', 'llm call', 'stream'],
        ['info', 'llm call', 'embed'],
      ],
    );
    const [complete, stream, embed] = logger.lines.map((line) => line.object);
    assert.ok(result.requestId && finish.requestId, 'the emulator sends request ids');
    assert.deepEqual(
      { ...complete, latencyMs: 0 },
      {
        provider: 'openai',
        model: 'gpt-4o-mini',
        operation: 'complete',
        latencyMs: 0,
        requestId: result.requestId,
        inputTokens: result.usage.inputTokens,
        outputTokens: result.usage.outputTokens,
        costUsd: result.usage.costUsd,
        finishReason: result.finishReason,
        cached: false,
      },
    );
    assert.equal(stream?.requestId, finish.requestId);
    assert.equal(stream?.outputTokens, finish.usage.outputTokens);
    assert.equal(embed?.model, 'text-embedding-3-small');
    assert.equal(embed?.inputs, 1);
    for (const line of logger.lines) {
      assert.equal(line.object.provider, 'openai');
      assert.ok(Number.isInteger(line.object.latencyMs) && (line.object.latencyMs as number) >= 0);
    }
  });

  test('a warning per retry, then the call’s line', async (t) => {
    const logger = collectingLogger();
    const client = openai(emulator, { logger, maxRetries: 3 });
    t.after(() => client.close());
    const result = await client.complete({ prompt: 'log retries', headers: fault('rate-limit:2') });
    assert.deepEqual(
      logger.lines.map((line) => [line.level, line.message]),
      [
        ['warn', 'llm retry'],
        ['warn', 'llm retry'],
        ['info', 'llm call'],
      ],
    );
    const [first, second] = logger.lines.map((line) => line.object);
    assert.equal(first?.attempt, 1);
    assert.equal(second?.attempt, 2);
    for (const warning of [first, second]) {
      assert.equal(warning?.code, 'rate_limit');
      assert.equal(warning?.status, 429);
      assert.equal(warning?.operation, 'complete');
      assert.equal(typeof warning?.delayMs, 'number');
      assert.equal(typeof warning?.requestId, 'string');
    }
    assert.equal(logger.lines[2]?.object.requestId, result.requestId);
  });

  test('an error line per failure, and no success line', async (t) => {
    const logger = collectingLogger();
    const client = openai(emulator, { logger, maxRetries: 0 });
    t.after(() => client.close());
    const error = await client.complete({ prompt: 'log failure', headers: fault('server-error') }).then(
      () => assert.fail('expected a failure'),
      (caught: unknown) => caught as Error & { requestId?: string },
    );
    assert.equal(logger.lines.length, 1);
    const line = logger.lines[0]!;
    assert.equal(line.level, 'error');
    assert.equal(line.message, 'llm call failed');
    assert.equal(line.object.code, 'server_error');
    assert.equal(line.object.status, 500);
    assert.equal(line.object.attempts, 1);
    assert.equal(line.object.requestId, error.requestId);
    assert.equal(line.object.error, error.message);

    await drain(client.stream({ prompt: 'log broken stream', headers: fault('stream-error') })).catch(
      () => {},
    );
    assert.deepEqual(
      logger.lines.map((l) => [l.level, l.object.operation]),
      [
        ['error', 'complete'],
        ['error', 'stream'],
      ],
    );
  });

  test('a stream left early still gets its line; a cache hit says so', async (t) => {
    const logger = collectingLogger();
    const client = openai(emulator, { logger, cache: { store: new MemoryStore() } });
    t.after(() => client.close());
    for await (const _ of client.stream({ prompt: 'log and leave' })) break;
    const missed = await client.complete({ prompt: 'log cached' });
    await client.complete({ prompt: 'log cached' });
    assert.deepEqual(
      logger.lines.map((line) => [line.object.operation, line.object.cancelled, line.object.cached]),
      [
        ['stream', true, undefined],
        ['complete', undefined, false],
        ['complete', undefined, true],
      ],
    );
    const [, miss, hit] = logger.lines.map((line) => line.object);
    assert.ok(missed.usage.costUsd !== undefined, 'gpt-4o-mini is priced');
    assert.equal(miss?.costUsd, missed.usage.costUsd, 'the real call’s cost');
    assert.equal(hit?.costUsd, undefined, 'a hit cost nothing');
  });

  test('nothing is logged for a level the logger says is off', async (t) => {
    const errorsOnly = collectingLogger(['error']);
    const silent = collectingLogger([]);
    for (const logger of [errorsOnly, silent]) {
      const client = openai(emulator, { logger, maxRetries: 1 });
      t.after(() => client.close());
      await client.complete({ prompt: 'quiet' });
      await drain(client.stream({ prompt: 'quiet' }));
      await client.generateEmbeddings(['quiet']);
      await client.complete({ prompt: `quiet retry ${logger === silent}`, headers: fault('rate-limit:1') });
      await client.complete({ prompt: 'quiet failure', headers: fault('server-error') }).catch(() => {});
      assert.ok(
        logger.levelChecks.includes('info') && logger.levelChecks.includes('warn'),
        'levels were asked',
      );
    }
    assert.deepEqual(
      errorsOnly.lines.map((line) => [line.level, line.message]),
      [['error', 'llm call failed']],
      'only the failure, at error level',
    );
    assert.deepEqual(silent.lines, []);
  });
});
