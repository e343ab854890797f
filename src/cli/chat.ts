/** `llmf chat`: one prompt, streamed to stdout, or a conversation when no prompt is given at a terminal. */
import { createInterface } from 'node:readline/promises';
import { LLMClientFactory } from '../client/factory.ts';
import type { LLMClient } from '../client/llm-client.ts';
import type { Env } from '../client/settings.ts';
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

async function answer(
  client: LLMClient,
  request: CompletionRequest,
  flags: ChatFlags,
  io: Io,
): Promise<string> {
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
      io.stderr.write(
        `[${event.model ?? client.model} · ${inputTokens} in / ${outputTokens} out${cost} · ${event.finishReason}${cached}]\n`,
      );
    }
  }
  return text;
}

export async function runChat(promptWords: string[], flags: ChatFlags, io: Io): Promise<void> {
  let prompt = promptWords.join(' ').trim();
  if (!prompt && !io.stdin.isTTY) prompt = (await readAll(io.stdin)).trim();
  const choice = await chooseProvider(flags, io.env, (line) => io.stderr.write(`${line}\n`));
  const factory = new LLMClientFactory({ env: io.env });
  try {
    const cache = cacheFlag(flags.cache);
    const client = factory.getClient(
      choice.provider,
      undefined,
      cache ? { ...choice.options, cache } : choice.options,
    );
    const base: Omit<CompletionRequest, 'messages'> = {};
    if (flags.temperature !== undefined) base.temperature = flags.temperature;
    if (flags.maxTokens !== undefined) base.maxTokens = flags.maxTokens;
    const history: ChatMessage[] = flags.system ? [{ role: 'system', content: flags.system }] : [];
    if (prompt) {
      await answer(client, { ...base, messages: [...history, { role: 'user', content: prompt }] }, flags, io);
      return;
    }
    const rl = createInterface({ input: io.stdin, output: io.stderr });
    io.stderr.write(`Chatting with ${client.provider}/${client.model}. Empty line or Ctrl-D to quit.\n`);
    try {
      for (;;) {
        const line = (await rl.question('> ').catch(() => '')).trim();
        if (!line) break;
        history.push({ role: 'user', content: line });
        const text = await answer(client, { ...base, messages: history }, flags, io);
        history.push({ role: 'assistant', content: text });
      }
    } finally {
      rl.close();
    }
  } finally {
    await factory.close();
    await choice.emulator?.close();
  }
}
