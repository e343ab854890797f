/**
 * Helpers for the router's tests: one emulator per deployment, deployments that point at them with short
 * timeouts and backoff, and counters of what each emulator received.
 */
import type { TestContext } from 'node:test';
import type { ClientOptions } from '../../client/options.ts';
import { type Emulator, type EmulatorOptions, startEmulator } from '../../emulator/index.ts';
import { isLLMError, type LLMError } from '../../spec/errors.ts';
import type { StreamEvent } from '../../spec/types.ts';
import { createRouter, type Router } from '../router.ts';
import type { DeploymentConfig, RouterConfig } from '../types.ts';

export const TEST_KEY = 'test-key-not-real';

/** Short timeouts and backoff, so that faults resolve in milliseconds. */
export const FAST: ClientOptions = {
  maxRetries: 2,
  timeoutMs: 500,
  streamIdleTimeoutMs: 300,
  retry: { initialDelayMs: 5, maxDelayMs: 20 },
};

let warmed: Promise<void> | undefined;

/**
 * Pays this process's one-time costs (loading the tokenizer the emulator counts with, the first
 * connection) before a test measures latencies, so that they are not charged to a deployment.
 */
export function warmUp(t: TestContext): Promise<void> {
  warmed ??= (async () => {
    const [emulator] = await emulators(t, {});
    const router = createRouter({ deployments: [openaiAt('warm-up', emulator!)] });
    await router.complete({ prompt: 'warm up' });
    await drain(router.stream({ prompt: 'warm up' }));
    await router.close();
  })();
  return warmed;
}

/** Starts one emulator per options object; all are closed when the test ends. */
export async function emulators(t: TestContext, ...options: EmulatorOptions[]): Promise<Emulator[]> {
  const started = await Promise.all(options.map((each) => startEmulator(each)));
  t.after(() => Promise.all(started.map((emulator) => emulator.close())));
  return started;
}

/** A deployment of `model` served by `emulator`, reached with `where` (its base URL or endpoint). */
function servedBy(
  id: string,
  model: string,
  where: ClientOptions,
  extra: Partial<DeploymentConfig>,
  options: ClientOptions,
) {
  return { id, model, ...extra, options: { apiKey: TEST_KEY, ...where, ...FAST, ...options } };
}

/** An OpenAI deployment served by `emulator`. */
export function openaiAt(
  id: string,
  emulator: Emulator,
  extra: Partial<DeploymentConfig> = {},
  options: ClientOptions = {},
): DeploymentConfig {
  return servedBy(id, 'openai/gpt-4o-mini', { baseURL: `${emulator.url}/v1` }, extra, options);
}

/** An Azure deployment served by `emulator`. */
export function azureAt(
  id: string,
  emulator: Emulator,
  extra: Partial<DeploymentConfig> = {},
): DeploymentConfig {
  return servedBy(id, 'azure/gpt-4o-mini', { endpoint: emulator.url, apiVersion: '2024-10-21' }, extra, {});
}

/** An Anthropic deployment served by `emulator`. */
export function anthropicAt(
  id: string,
  emulator: Emulator,
  extra: Partial<DeploymentConfig> = {},
): DeploymentConfig {
  return servedBy(id, 'anthropic/claude-sonnet-4-6', { baseURL: emulator.url }, extra, {});
}

/** A router closed when the test ends. */
export function routerFor(t: TestContext, config: RouterConfig): Router {
  const router = createRouter(config);
  t.after(() => router.close());
  return router;
}

/** Chat requests `emulator` received (every protocol's chat path). */
export function chats(emulator: Emulator): number {
  return emulator.requests.filter((request) =>
    /chat\/completions|\/messages$|Content|\/api\/chat|converse/.test(request.path),
  ).length;
}

/** Waits until `condition` holds; fails naming `what` after `timeoutMs` (a bound, not a measurement). */
export async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

export async function drain(stream: AsyncIterable<StreamEvent>): Promise<StreamEvent[]> {
  const events: StreamEvent[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

/** The typed error `promise` rejects with (fails the test when it resolves or throws something else). */
export async function rejection(promise: Promise<unknown>): Promise<LLMError> {
  try {
    await promise;
  } catch (error) {
    if (isLLMError(error)) return error;
    throw error;
  }
  throw new Error('expected the call to fail');
}

/** The events a stream yielded before it threw, and the typed error it threw. */
export async function streamFailure(
  stream: AsyncIterable<StreamEvent>,
): Promise<{ events: StreamEvent[]; error: LLMError }> {
  const events: StreamEvent[] = [];
  try {
    for await (const event of stream) events.push(event);
  } catch (error) {
    if (isLLMError(error)) return { events, error };
    throw error;
  }
  throw new Error('expected the stream to fail');
}
