/**
 * `llmf serve`: the gateway in the foreground until SIGINT/SIGTERM, which drain in-flight requests and
 * streams before exiting. `--workers N` runs N processes on one port (node:cluster) sharing the state
 * store. With no `--config`, the gateway serves the built-in emulator's models with a generated master key,
 * so the whole path works offline.
 */
import cluster from 'node:cluster';
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { DEFAULT_MODELS } from '../client/settings.ts';
import { type Emulator, emulatorClientOptions, startEmulator } from '../emulator/index.ts';
import { type GatewayConfig, gatewayConfigFrom, loadGatewayConfig } from '../gateway/config.ts';
import { tuneGatewayProcess } from '../gateway/process-tuning.ts';
import { startGateway } from '../gateway/server.ts';
import type { Logger } from '../middleware/logging.ts';
import { LLMConfigurationError } from '../spec/errors.ts';
import type { ProviderName } from '../spec/types.ts';

export interface ServeFlags {
  config?: string;
  port: number;
  host: string;
  workers?: number;
  quiet?: boolean;
  /** pino level of the JSON log on stderr (an access line per request at `info`); `silent` turns it off. */
  logLevel?: string;
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/** The JSON log: pino on stderr (stdout carries the banner), or none. */
function loggerFor(flags: ServeFlags): Logger | undefined {
  const level = flags.logLevel ?? 'info';
  if (!LOG_LEVELS.includes(level)) {
    throw new LLMConfigurationError(`--log-level: expected one of ${LOG_LEVELS.join(', ')}, got "${level}"`);
  }
  if (level === 'silent') return undefined;
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: false }));
}

interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

/** The emulator's models, one deployment per provider, and a `chat` group that falls back across two. */
export function emulatorGatewayConfig(
  emulator: Pick<Emulator, 'clientOptions'>,
  masterKey: string,
  statePath: string,
): unknown {
  const providers: ProviderName[] = ['openai', 'anthropic', 'gemini', 'bedrock', 'ollama'];
  return {
    masterKey,
    state: { sqlite: statePath },
    deployments: providers.map((provider) => ({
      id: provider,
      model: `${provider}/${DEFAULT_MODELS[provider].chat}`,
      options: emulator.clientOptions(provider),
    })),
    groups: { chat: ['openai', 'anthropic'] },
    defaultModel: 'chat',
    defaultEmbeddingModel: 'openai',
  };
}

async function runOne(
  flags: ServeFlags,
  io: Io,
  shared: { emulatorUrl?: string; masterKey?: string; statePath?: string },
) {
  // First, before anything is allocated: V8 set for a process that serves many short requests (without
  // --config the emulator shares it, and is served the same way). See gateway/process-tuning.ts.
  tuneGatewayProcess();
  let emulator: Emulator | undefined;
  let config: GatewayConfig;
  if (flags.config) config = loadGatewayConfig(flags.config, io.env);
  else {
    const masterKey =
      shared.masterKey ?? io.env.LLMF_MASTER_KEY ?? `llmf-master-${randomBytes(18).toString('base64url')}`;
    const statePath = shared.statePath ?? join(mkdtempSync(join(tmpdir(), 'llmf-serve-')), 'gateway.sqlite');
    // A server that runs for days must not keep every request it was sent (the emulator's test log).
    if (!shared.emulatorUrl) emulator = await startEmulator({ recordRequests: false });
    const emulatorUrl = shared.emulatorUrl;
    const target = emulatorUrl
      ? { clientOptions: (provider: ProviderName) => emulatorClientOptions(emulatorUrl, provider) }
      : emulator!;
    config = gatewayConfigFrom(emulatorGatewayConfig(target, masterKey, statePath), io.env);
  }
  const logger = loggerFor(flags);
  const gateway = await startGateway({
    config,
    port: flags.port,
    host: flags.host,
    ...(logger ? { logger } : {}),
  });
  if (!flags.quiet && (!cluster.isWorker || cluster.worker?.id === 1)) {
    io.stdout.write(
      `llm-factory gateway listening on ${gateway.url}${cluster.isWorker ? ` (${flags.workers} workers)` : ''}\n`,
    );
    io.stdout.write(`  models: ${gateway.router.models().join(', ')}\n`);
    if (!flags.config) {
      io.stdout.write(`  answering from the built-in emulator; master key: ${config.masterKey}\n`);
      io.stdout.write(
        `  curl ${gateway.url}/v1/chat/completions -H 'Authorization: Bearer ${config.masterKey}' -H 'content-type: application/json' -d '{"model":"chat","messages":[{"role":"user","content":"Hello"}]}'\n`,
      );
    }
  }
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await gateway.close();
  await emulator?.close();
  cluster.worker?.disconnect();
}

export async function runServe(flags: ServeFlags, io: Io): Promise<void> {
  const workers = flags.workers ?? 1;
  if (cluster.isWorker) {
    await runOne(flags, io, {
      emulatorUrl: io.env.LLMF_SERVE_EMULATOR_URL,
      masterKey: io.env.LLMF_SERVE_MASTER_KEY,
      statePath: io.env.LLMF_SERVE_STATE_PATH,
    });
    return;
  }
  if (workers <= 1) {
    await runOne(flags, io, {});
    return;
  }
  // The primary shares one emulator, one master key and one state file among its workers.
  let emulator: Emulator | undefined;
  const env: Record<string, string> = { LLMF_SERVE_WORKER: '1' };
  if (!flags.config) {
    emulator = await startEmulator({ recordRequests: false });
    env.LLMF_SERVE_EMULATOR_URL = emulator.url;
    env.LLMF_SERVE_MASTER_KEY =
      io.env.LLMF_MASTER_KEY ?? `llmf-master-${randomBytes(18).toString('base64url')}`;
    env.LLMF_SERVE_STATE_PATH = join(mkdtempSync(join(tmpdir(), 'llmf-serve-')), 'gateway.sqlite');
  }
  const alive = new Set<number>();
  for (let i = 0; i < workers; i++) alive.add(cluster.fork(env).id);
  const stopping = new Promise<void>((resolve) => {
    const stop = () => {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGTERM');
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await new Promise<void>((resolve) => {
    cluster.on('exit', (worker) => {
      alive.delete(worker.id);
      if (alive.size === 0) resolve();
    });
  });
  await stopping.catch(() => {});
  await emulator?.close();
}
