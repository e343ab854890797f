/**
 * Helpers for the keys, scale-out and lifecycle tests: `llmf serve` and `llmf keys` as real child processes
 * (stopped when the test ends), gateway configs written to a temporary folder, and small HTTP helpers that
 * keep a response's status, headers and body together.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type Emulator, emulatorClientOptions, startEmulator } from '../../emulator/index.ts';
import type { DeploymentHealth } from '../../router/types.ts';
import type { ProviderName } from '../../spec/types.ts';

export const LLMF = fileURLToPath(new URL('../../cli/llmf.ts', import.meta.url));

/** The master key every test gateway takes (given to the children as LLMF_MASTER_KEY). */
export const MASTER_KEY = 'master-key-not-real-g-keys-0001';
/** The credential the gateway's deployments send to the emulator: it must never reach a client or a log. */
export const PROVIDER_KEY = 'provider-key-not-real-g-keys-0001';

/** A temporary folder, removed when the test ends. */
export function tempFolder(t: TestContext, name = 'llmf-gw-keys-'): string {
  const dir = mkdtempSync(join(tmpdir(), name));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** An emulator for this test, closed when it ends. */
export async function startUpstream(
  t: TestContext,
  options: Parameters<typeof startEmulator>[0] = {},
): Promise<Emulator> {
  const emulator = await startEmulator(options);
  t.after(() => emulator.close());
  return emulator;
}

/** One deployment per provider named after it, all answered by the emulator at `url`. */
export function emulatorDeployments(
  url: string,
  providers: ProviderName[] = ['openai', 'anthropic', 'gemini'],
): Array<{ id: string; model: string; options: object }> {
  const models: Partial<Record<ProviderName, string>> = {
    openai: 'openai/gpt-4o-mini',
    anthropic: 'anthropic/claude-sonnet-4-6',
    gemini: 'gemini/gemini-2.5-flash',
    bedrock: 'bedrock/us.anthropic.claude-sonnet-4-5-20250929-v1:0',
    ollama: 'ollama/llama3.2',
  };
  return providers.map((provider) => ({
    id: provider,
    model: models[provider]!,
    options: {
      ...emulatorClientOptions(url, provider, { apiKey: PROVIDER_KEY }),
      maxRetries: 0,
    },
  }));
}

/** Writes `document` as the gateway's config file (JSON, which YAML reads too); the master key from the env. */
export function writeConfig(dir: string, document: Record<string, unknown>, name = 'gateway.json'): string {
  const path = join(dir, name);
  writeFileSync(path, JSON.stringify({ masterKey: 'env:LLMF_MASTER_KEY', ...document }, null, 2));
  return path;
}

/** A config file for `llmf serve` in front of `upstreamUrl`, its SQLite state in a temporary folder. */
export function sqliteConfig(
  t: TestContext,
  upstreamUrl: string,
  server: Record<string, number> = {},
): string {
  const dir = tempFolder(t);
  return writeConfig(dir, {
    state: { sqlite: join(dir, 'gateway.sqlite') },
    deployments: emulatorDeployments(upstreamUrl),
    server,
  });
}

/** The environment of a child: this one's, without provider keys, with the master key. */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!/^(OPENAI_|AZURE_|ANTHROPIC_|GEMINI_|GOOGLE_|AWS_|OLLAMA_|LLMF_)/.test(name)) env[name] = value;
  }
  return { ...env, LLMF_MASTER_KEY: MASTER_KEY, ...extra };
}

export interface ServeProcess {
  url: string;
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** The JSON lines the gateway logged on stderr so far. */
  logLines(): Array<Record<string, unknown>>;
  /** Resolves with the exit code (or signal) once the process has ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Starts `llmf serve <args>` (add `--config`), resolves once it prints the address it listens on, and stops it
 * (SIGTERM, then SIGKILL if it lingers) when the test ends.
 */
export function startServe(
  t: TestContext,
  args: string[],
  env: NodeJS.ProcessEnv = childEnv(),
): Promise<ServeProcess> {
  return startProcess(t, [LLMF, 'serve', '--port', '0', ...args], env, false);
}

/** The runner script: a gateway from a config file that answers `health` over IPC with its router's view. */
export const GATEWAY_CHILD = fileURLToPath(new URL('./keys-gateway-child.ts', import.meta.url));

/** Starts the runner script on `configPath` (for what `llmf serve` does not show: the router's health). */
export function startGatewayChild(t: TestContext, configPath: string): Promise<ServeProcess> {
  return startProcess(t, [GATEWAY_CHILD, configPath], childEnv(), true);
}

/** Asks a runner child for its router's health. */
export function healthOf(gateway: ServeProcess): Promise<DeploymentHealth[]> {
  return new Promise((resolve) => {
    gateway.child.once('message', (message) => resolve(message as DeploymentHealth[]));
    gateway.child.send('health');
  });
}

async function startProcess(
  t: TestContext,
  argv: string[],
  env: NodeJS.ProcessEnv,
  ipc: boolean,
): Promise<ServeProcess> {
  const child = spawn(process.execPath, argv, {
    env,
    stdio: ipc ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  t.after(async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const look = () => {
      const match = /listening on (http:\/\/\S+)/.exec(stdout);
      if (match) {
        child.stdout!.off('data', look);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', look);
    void exited.then(({ code }) =>
      reject(
        new Error(`${argv.slice(0, 2).join(' ')} ended (code ${code}) before listening:\n${stderr}${stdout}`),
      ),
    );
  });
  return {
    url,
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    logLines: () =>
      stderr
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    exited,
  };
}

/** Runs `llmf <args>` to its end (the `keys` commands). */
export function runLlmf(
  args: string[],
  env: NodeJS.ProcessEnv = childEnv(),
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [LLMF, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

export interface Answer {
  status: number;
  headers: Headers;
  text: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  // biome-ignore lint/suspicious/noExplicitAny: a test reads answers as loosely typed JSON
  json: any;
}

/** One HTTP exchange with the gateway. `key` goes in `Authorization: Bearer`, or `x-api-key` when asked. */
export async function call(
  url: string,
  path: string,
  options: {
    method?: string;
    key?: string | undefined;
    keyHeader?: 'authorization' | 'x-api-key';
    body?: unknown;
    headers?: Record<string, string>;
  } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.key !== undefined) {
    if (options.keyHeader === 'x-api-key') headers['x-api-key'] = options.key;
    else headers.authorization = `Bearer ${options.key}`;
  }
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}${path}`, {
    method: options.method ?? (options.body === undefined ? 'GET' : 'POST'),
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  const text = await response.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, text, json };
}

/** Creates a virtual key through the admin API; resolves with its id and the key (shown this once). */
export async function createKey(
  url: string,
  spec: Record<string, unknown>,
): Promise<{ id: string; key: string }> {
  const answer = await call(url, '/admin/keys', { key: MASTER_KEY, body: spec });
  assert.equal(answer.status, 201, answer.text);
  return { id: answer.json.id, key: answer.json.key };
}

export type ClientProtocol = 'openai' | 'anthropic';

/** A chat request in the client's protocol: `/v1/chat/completions` or `/v1/messages`. */
export function chat(
  url: string,
  protocol: ClientProtocol,
  key: string | undefined,
  body: { model: string; content?: string; maxTokens?: number; stream?: boolean; includeUsage?: boolean },
): Promise<Answer> {
  const messages = [{ role: 'user', content: body.content ?? 'Hello from the keys tests' }];
  if (protocol === 'openai') {
    return call(url, '/v1/chat/completions', {
      key,
      body: {
        model: body.model,
        messages,
        ...(body.maxTokens === undefined ? {} : { max_tokens: body.maxTokens }),
        ...(body.stream ? { stream: true } : {}),
        ...(body.includeUsage ? { stream_options: { include_usage: true } } : {}),
      },
    });
  }
  return call(url, '/v1/messages', {
    key,
    keyHeader: 'x-api-key',
    headers: { 'anthropic-version': '2023-06-01' },
    body: {
      model: body.model,
      messages,
      max_tokens: body.maxTokens ?? 64,
      ...(body.stream ? { stream: true } : {}),
    },
  });
}

/** Checks an error answer's status and shape in the client's protocol; returns its OpenAI `code` or Anthropic type. */
export function assertErrorShape(
  answer: Answer,
  protocol: ClientProtocol,
  status: number,
  type: string,
): void {
  assert.equal(answer.status, status, answer.text);
  assert.match(answer.headers.get('content-type') ?? '', /application\/json/);
  if (protocol === 'openai') {
    assert.deepEqual(Object.keys(answer.json ?? {}), ['error'], answer.text);
    const { message, type: given, code } = answer.json.error;
    assert.equal(typeof message, 'string');
    assert.ok(message.length > 0);
    assert.equal(given, type, answer.text);
    assert.equal(typeof code, 'string');
    return;
  }
  assert.equal(answer.json?.type, 'error', answer.text);
  assert.equal(answer.json.error.type, type, answer.text);
  assert.equal(typeof answer.json.error.message, 'string');
}

/** Seconds of a `Retry-After` header (a positive integer), or a failure. */
export function retryAfterSeconds(answer: Answer): number {
  const value = answer.headers.get('retry-after');
  assert.ok(value !== null, `a ${answer.status} carries Retry-After`);
  assert.match(value, /^\d+$/, 'Retry-After is whole seconds');
  const seconds = Number(value);
  assert.ok(seconds >= 1, `Retry-After ${seconds} is at least a second`);
  return seconds;
}

/** Polls `check` every `everyMs` until it returns a value that is not undefined. */
export async function until<T>(check: () => Promise<T | undefined>, everyMs = 25): Promise<T> {
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
