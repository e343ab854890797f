/**
 * `llmf chat`: one prompt, streamed to stdout, or a conversation when no prompt is given at a terminal;
 * through one provider, or through a router loaded from a config file (`--router router.yaml`).
 */
import { createInterface } from 'node:readline/promises';
import { LLMClientFactory } from '../client/factory.ts';
import type { Env } from '../client/settings.ts';
import { loadRouterConfig } from '../router/config-file.ts';
import { createRouter } from '../router/router.ts';
import type { ClientMethods } from '../router/types.ts';
import { LLMConfigurationError } from '../spec/errors.ts';
import type { ChatMessage, CompletionRequest } from '../spec/types.ts';
import { cacheFlag, chooseProvider } from './provider-choice.ts';

export interface ChatFlags {
  provider?: string;
  model?: string;
  baseUrl?: string;
  system?: string;
  temperature?: number;
  maxTokens?: number;
  stream: boolean;
  json?: boolean;
  cache?: string;
  /** A router config file (YAML or JSON); `model` then names one of its groups or deployments. */
  router?: string;
}

/** What the command talks to: a client or a router, and how to name it on stderr. */
interface Target {
  llm: Pick<ClientMethods, 'complete' | 'stream'>;
  /** `provider/model`, or the router's group. */
  name: string;
  /** The model for requests (a router's group or deployment), when one was asked for. */
  model?: string;
  close(): Promise<void>;
}

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Env;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function answer(target: Target, request: CompletionRequest, flags: ChatFlags, io: Io): Promise<string> {
  const client = target.llm;
  if (flags.json) {
    const result = await client.complete(request);
    io.stdout.write(`${JSON.stringify({ ...result, raw: undefined }, null, 2)}\n`);
    return result.text;
  }
  if (!flags.stream) {
    const result = await client.complete(request);
    io.stdout.write(`${result.text}\n`);
    return result.text;
  }
  let text = '';
  for await (const event of client.stream(request)) {
    if (event.type === 'text-delta') {
      text += event.text;
      io.stdout.write(event.text);
    } else if (event.type === 'finish') {
      io.stdout.write('\n');
      const { inputTokens, outputTokens, costUsd } = event.usage;
      const cost = costUsd === undefined ? '' : ` · $${costUsd.toFixed(6)}`;
      const cached = event.cached ? ' · cached' : '';
      const via = event.route ? `${event.route.deployment} · ` : '';
      io.stderr.write(
        `[${via}${event.model ?? target.name} · ${inputTokens} in / ${outputTokens} out${cost} · ${event.finishReason}${cached}]\n`,
      );
    }
  }
  return text;
}

async function openTarget(flags: ChatFlags, io: Io): Promise<Target> {
  const factory = new LLMClientFactory({ env: io.env });
  const cache = cacheFlag(flags.cache);
  if (flags.router) {
    if (flags.provider || flags.baseUrl)
      throw new LLMConfigurationError('--router cannot be combined with --provider or --base-url');
    const config = loadRouterConfig(flags.router, { env: io.env });
    const router = createRouter({
      ...config,
      factory,
      ...(cache ? { defaults: { ...config.defaults, cache } } : {}),
    });
    return {
      llm: router,
      name: flags.model ?? router.model,
      ...(flags.model ? { model: flags.model } : {}),
      close: () => router.close().finally(() => factory.close()),
    };
  }
  const choice = await chooseProvider(flags, io.env, (line) => io.stderr.write(`${line}\n`));
  try {
    const client = factory.getClient(
      choice.provider,
      undefined,
      cache ? { ...choice.options, cache } : choice.options,
    );
    return {
      llm: client,
      name: `${client.provider}/${client.model}`,
      close: async () => {
        await factory.close();
        await choice.emulator?.close();
      },
    };
  } catch (error) {
    await factory.close();
    await choice.emulator?.close();
    throw error;
  }
}

export async function runChat(promptWords: string[], flags: ChatFlags, io: Io): Promise<void> {
  let prompt = promptWords.join(' ').trim();
  if (!prompt && !io.stdin.isTTY) prompt = (await readAll(io.stdin)).trim();
  const target = await openTarget(flags, io);
  try {
    const base: Omit<CompletionRequest, 'messages'> = {};
    if (target.model !== undefined) base.model = target.model;
    if (flags.temperature !== undefined) base.temperature = flags.temperature;
    if (flags.maxTokens !== undefined) base.maxTokens = flags.maxTokens;
    const history: ChatMessage[] = flags.system ? [{ role: 'system', content: flags.system }] : [];
    if (prompt) {
      await answer(target, { ...base, messages: [...history, { role: 'user', content: prompt }] }, flags, io);
      return;
    }
    const rl = createInterface({ input: io.stdin, output: io.stderr });
    io.stderr.write(`Chatting with ${target.name}. Empty line or Ctrl-D to quit.\n`);
    try {
      for (;;) {
        const line = (await rl.question('> ').catch(() => '')).trim();
        if (!line) break;
        history.push({ role: 'user', content: line });
        const text = await answer(target, { ...base, messages: history }, flags, io);
        history.push({ role: 'assistant', content: text });
      }
    } finally {
      rl.close();
    }
  } finally {
    await target.close();
  }
}
