/**
 * `llmf embed --input in.jsonl|in.txt --output out.jsonl`: embeds a file line by line with a progress bar
 * (done, rate, ETA). Lines are processed in chunks and written in input order, each chunk appended and
 * flushed before the next starts, so an interrupted run (Ctrl-C, a crash, a kill) resumes where it
 * stopped: the next run reads the output, drops a half-written last line and skips the lines already
 * embedded.
 */
import { createReadStream, existsSync, readFileSync, truncateSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { SingleBar } from 'cli-progress';
import { LLMClientFactory } from '../client/factory.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import type { Io } from './chat.ts';
import { cacheFlag, chooseProvider } from './provider-choice.ts';

export interface EmbedFlags {
  input: string;
  output: string;
  provider?: string;
  model?: string;
  baseUrl?: string;
  batchSize?: number;
  concurrency?: number;
  chunk: number;
  cache?: string;
  progress: boolean;
}

interface InputLine {
  line: number;
  id?: unknown;
  text: string;
}

/** Reads the input: `.jsonl` lines are `{"text": …, "id"?: …}` or a JSON string; other files are plain text. */
async function readInput(path: string): Promise<InputLine[]> {
  const jsonl = /\.jsonl?$/i.test(path);
  const lines: InputLine[] = [];
  let number = 0;
  for await (const raw of createInterface({
    input: createReadStream(path, 'utf8'),
    crlfDelay: Number.POSITIVE_INFINITY,
  })) {
    number++;
    if (raw.trim() === '') continue;
    if (!jsonl) {
      lines.push({ line: number, text: raw });
      continue;
    }
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      throw new LLMBadRequestError(`${path}:${number}: not valid JSON`);
    }
    if (typeof value === 'string') lines.push({ line: number, text: value });
    else if (
      typeof value === 'object' &&
      value !== null &&
      typeof (value as { text?: unknown }).text === 'string'
    ) {
      const record = value as { text: string; id?: unknown };
      lines.push(
        record.id === undefined
          ? { line: number, text: record.text }
          : { line: number, id: record.id, text: record.text },
      );
    } else
      throw new LLMBadRequestError(`${path}:${number}: expected a string or an object with a "text" field`);
  }
  return lines;
}

/** Lines already in the output; a half-written last line (a crash mid-write) is cut off. */
function resumePoint(path: string): Set<number> {
  const done = new Set<number>();
  if (!existsSync(path)) return done;
  const content = readFileSync(path, 'utf8');
  let kept = 0;
  for (const line of content.split('\n')) {
    if (line === '') break;
    try {
      const record = JSON.parse(line) as { line?: unknown };
      if (typeof record.line !== 'number') break;
      done.add(record.line);
      kept += Buffer.byteLength(line) + 1;
    } catch {
      break;
    }
  }
  if (kept < Buffer.byteLength(content)) truncateSync(path, kept);
  return done;
}

export async function runEmbed(flags: EmbedFlags, io: Io): Promise<void> {
  const all = await readInput(flags.input);
  const done = resumePoint(flags.output);
  const todo = all.filter((item) => !done.has(item.line));
  const choice = await chooseProvider(flags, io.env, (line) => io.stderr.write(`${line}\n`));
  const factory = new LLMClientFactory({ env: io.env });
  const controller = new AbortController();
  const onSignal = () => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const bar = flags.progress
    ? new SingleBar({
        stream: io.stderr as NodeJS.WriteStream,
        format:
          'embedding [{bar}] {percentage}% | {value}/{total} lines | {speed} lines/s | ETA {eta_formatted}',
        hideCursor: true,
      })
    : undefined;
  const out = await open(flags.output, 'a');
  let written = done.size;
  const started = Date.now();
  try {
    const cache = cacheFlag(flags.cache);
    const client = factory.getClient(
      choice.provider,
      undefined,
      cache ? { ...choice.options, cache } : choice.options,
    );
    if (done.size > 0)
      io.stderr.write(`llmf: resuming: ${done.size} of ${all.length} lines already in ${flags.output}\n`);
    bar?.start(all.length, done.size, { speed: '0' });
    for (let start = 0; start < todo.length; start += flags.chunk) {
      const chunk = todo.slice(start, start + flags.chunk);
      const options: Parameters<typeof client.generateEmbeddings>[1] = {
        signal: controller.signal,
        onProgress: (inChunk) =>
          bar?.update(written + inChunk, { speed: rate(written + inChunk - done.size, started) }),
      };
      if (flags.batchSize !== undefined) options.batchSize = flags.batchSize;
      if (flags.concurrency !== undefined) options.concurrency = flags.concurrency;
      const vectors = await client.generateEmbeddings(
        chunk.map((item) => item.text),
        options,
      );
      const text = chunk
        .map((item, i) =>
          JSON.stringify(
            item.id === undefined
              ? { line: item.line, embedding: vectors[i] }
              : { line: item.line, id: item.id, embedding: vectors[i] },
          ),
        )
        .join('\n');
      await out.write(`${text}\n`);
      await out.sync();
      written += chunk.length;
      bar?.update(written, { speed: rate(written - done.size, started) });
    }
    bar?.stop();
    io.stderr.write(
      `llmf: ${written - done.size} lines embedded into ${flags.output} (${written}/${all.length} done)\n`,
    );
  } catch (error) {
    bar?.stop();
    if (controller.signal.aborted) {
      io.stderr.write(
        `llmf: interrupted after ${written} of ${all.length} lines; run the same command again to resume\n`,
      );
      process.exitCode = 130;
      return;
    }
    throw error;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await out.close();
    await factory.close();
    await choice.emulator?.close();
  }
}

function rate(count: number, started: number): string {
  const seconds = (Date.now() - started) / 1000;
  return seconds > 0 ? (count / seconds).toFixed(0) : '0';
}
