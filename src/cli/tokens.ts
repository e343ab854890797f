/** `llmf tokens`: counts tokens of text given as arguments, in a file, or on stdin. */
import { readFile } from 'node:fs/promises';
import { countOpenAITokens, encodingForModel } from '../tokens/openai-tokenizer.ts';

export async function runTokens(
  words: string[],
  flags: { model: string; file?: string },
  io: { stdout: NodeJS.WritableStream; stdin: NodeJS.ReadableStream & { isTTY?: boolean } },
): Promise<void> {
  let text = words.join(' ');
  if (flags.file) text = await readFile(flags.file, 'utf8');
  else if (!text && !io.stdin.isTTY) {
    const chunks: Buffer[] = [];
    for await (const chunk of io.stdin) chunks.push(Buffer.from(chunk as Buffer));
    text = Buffer.concat(chunks).toString('utf8');
  }
  const count = countOpenAITokens(text, flags.model);
  io.stdout.write(`${count}\t(${encodingForModel(flags.model)}, ${flags.model})\n`);
}
