/**
 * No layer leaks the key. With a distinctive key and every layer on (logger, metrics with an OpenTelemetry
 * meter provider, tracing with content capture, a memory cache and a SQLite cache), drive successes, every
 * fault the emulator injects (persistent and transient, streaming and not, OpenAI and Azure), retries,
 * cache hits and embeddings; then search every surface for the key: log lines, errors (message, stack,
 * JSON, body, request id, attempts, causes), metric labels and exposition text, span names, attributes and
 * statuses, cache keys and values, and the SQLite file's bytes.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { after, before, test } from 'node:test';
import { createClient } from '../client/factory.ts';
import type { LLMClient } from '../client/llm-client.ts';
import type { ClientOptions } from '../client/options.ts';
import { type Emulator, FAULT_KINDS, startEmulator } from '../emulator/index.ts';
import { isLLMError, type LLMError } from '../spec/errors.ts';
import { preloadTokenizer } from '../test-support/preload.ts';
import { MemoryStore } from './cache/memory-store.ts';
import { metricsRegistry, metricsText } from './metrics.ts';
import { collectingLogger, drain, RecordingStore, tempDir } from './test-support/harness.ts';
import { registerMeterProvider, registerTracerProvider } from './test-support/otel.ts';

const KEY = 'sk-proj-LEAKCANARY7f3a9c2e5b1d4f8a6c0e9b7d';
const CANARY = 'LEAKCANARY';

const spans = registerTracerProvider();
const meters = registerMeterProvider();
const logger = collectingLogger();
const memory = new RecordingStore(new MemoryStore());
const errors: unknown[] = [];
let emulator: Emulator;

before(async () => {
  preloadTokenizer();
  emulator = await startEmulator({ retryAfterMs: 5 });
});
after(async () => {
  await emulator.close();
  await meters.shutdown();
});

function layers(cache: ClientOptions['cache']): ClientOptions {
  return {
    apiKey: KEY,
    logger,
    metrics: true,
    tracing: { captureContent: true },
    cache,
    maxRetries: 1,
    timeoutMs: 150,
    streamIdleTimeoutMs: 100,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
  };
}

/** Every call a client can make, under `fault`, with the errors kept. */
async function exercise(client: LLMClient, label: string, fault?: string): Promise<void> {
  const headers: Record<string, string> = fault ? { 'x-emulator-fault': fault } : {};
  const prompt = `no leak ${label} ${fault ?? 'ok'}`;
  for (let round = 0; round < (fault ? 1 : 2); round++) {
    // The second round of a success is a cache hit.
    await client.complete({ prompt, headers }).catch((error: unknown) => errors.push(error));
    await drain(client.stream({ prompt, headers })).catch((error: unknown) => errors.push(error));
  }
}

/** Every string an error carries, its attempts and causes included. */
function errorSurfaces(error: unknown, depth = 0): string[] {
  if (depth > 4 || error === undefined || error === null) return [];
  if (typeof error !== 'object') return [String(error)];
  const e = error as Error & { body?: unknown; requestId?: unknown; attemptErrors?: unknown[] };
  const out = [String(e.message), String(e.stack), String(e.body), String(e.requestId), String(e)];
  try {
    out.push(JSON.stringify(e));
  } catch {
    // A cause that does not serialise still had its message and stack read above.
  }
  for (const attempt of e.attemptErrors ?? []) out.push(...errorSurfaces(attempt, depth + 1));
  out.push(...errorSurfaces(e.cause, depth + 1));
  return out;
}

function assertClean(surface: string, where: string): void {
  assert.ok(!surface.includes(CANARY), `the key leaked in ${where}: ${surface.slice(0, 300)}`);
}

test('the key appears in no log, error, metric, span or cache entry', { timeout: 120_000 }, async (t) => {
  const dir = await tempDir(t);
  const sqlitePath = join(dir, 'leak.sqlite');
  const clients: LLMClient[] = [
    createClient('openai/gpt-4o-mini', { ...layers({ store: memory }), baseURL: `${emulator.url}/v1` }),
    createClient('openai/gpt-4o-mini', {
      ...layers({ store: 'sqlite', path: sqlitePath }),
      baseURL: `${emulator.url}/v1`,
    }),
  ];
  const azure = createClient('azure', {
    ...layers({ store: memory }),
    endpoint: emulator.url,
    model: 'leak-deployment',
    apiVersion: '2024-10-21',
  });
  try {
    for (const [index, client] of [...clients, azure].entries()) {
      const label = `client ${index}`;
      await exercise(client, label);
      for (const kind of FAULT_KINDS) {
        await exercise(client, label, kind); // every attempt fails
        await exercise(client, label, `${kind}:1`); // the retry recovers
      }
      for (let round = 0; round < 2; round++) {
        await client
          .generateEmbeddings([`leak vector ${label}`, 'shared vector'])
          .catch((error: unknown) => errors.push(error));
      }
      await client
        .generateEmbeddings(['leak vector failing'], { cache: { read: false } })
        .catch((error: unknown) => errors.push(error));
    }
  } finally {
    await Promise.all([...clients, azure].map((client) => client.close()));
  }

  // The run did exercise every surface. Per client, a persistent fault fails both the completion and
  // the stream (OpenAI's content filter is an answer, Azure's an error), and a transient one fails only
  // the streams that had delivered output (stall, stream-error), Azure's refusals, and the non-streaming
  // completions that timed out once the server had them (hang, stall): those are not retried, a retry
  // would be billed as a second answer (docs/decisions/0004). Timeouts: 2 hang + 2 stall + 1 stalled
  // stream + 2 held-back completions = 7.
  assert.ok(errors.every(isLLMError), 'every failure is a typed error');
  const produced: Record<string, number> = {};
  for (const error of errors as LLMError[]) {
    const key = `${error.provider} ${error.code}`;
    produced[key] = (produced[key] ?? 0) + 1;
  }
  const perClient = { rate_limit: 2, server_error: 9, timeout: 7, connection: 2, invalid_response: 2 };
  const expected: Record<string, number> = { 'azure content_filter': 4 };
  for (const [code, count] of Object.entries(perClient)) {
    expected[`openai ${code}`] = 2 * count;
    expected[`azure ${code}`] = count;
  }
  assert.deepEqual(produced, expected);
  assert.ok(
    logger.lines.some((line) => line.level === 'warn'),
    'retries were logged',
  );
  assert.ok(
    logger.lines.some((line) => line.object.cached === true),
    'cache hits were logged',
  );

  for (const error of errors) for (const surface of errorSurfaces(error)) assertClean(surface, 'an error');

  assert.ok(logger.lines.length > 50);
  for (const line of logger.lines)
    assertClean(`${line.message} ${JSON.stringify(line.object)}`, 'a log line');

  const text = await metricsText();
  assert.match(text, /llm_errors_total\{[^}]*code="timeout"/);
  assertClean(text, 'the Prometheus exposition');
  assertClean(JSON.stringify(await metricsRegistry().getMetricsAsJSON()), 'a Prometheus label');
  const otel = await meters.metrics();
  assert.ok(otel.length >= 2);
  assertClean(JSON.stringify(otel), 'an OpenTelemetry metric');

  const finished = spans.getFinishedSpans();
  assert.ok(finished.length > 50);
  assert.ok(finished.some((span) => span.status.message));
  for (const span of finished) {
    const { name, attributes, status, events, links, resource } = span;
    assertClean(JSON.stringify({ name, attributes, status, events, links }), `span ${name}`);
    assertClean(JSON.stringify(resource.attributes), 'the span resource');
  }

  assert.ok(memory.writes.length > 10);
  for (const write of memory.writes) assertClean(`${write.key} ${write.value}`, 'a memory cache entry');
  const db = new DatabaseSync(sqlitePath, { readOnly: true });
  const rows = db.prepare('SELECT key, value FROM llm_cache').all() as Array<{ key: string; value: string }>;
  db.close();
  assert.ok(rows.length > 5);
  for (const row of rows) assertClean(`${row.key} ${row.value}`, 'a SQLite cache row');
  for (const file of [sqlitePath, `${sqlitePath}-wal`]) {
    let bytes: Buffer;
    try {
      bytes = readFileSync(file);
    } catch {
      continue; // the WAL is folded back into the file when the last connection closes
    }
    assert.equal(bytes.indexOf(CANARY), -1, `the key is in the bytes of ${file}`);
  }
});
