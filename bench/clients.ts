/**
 * The four clients, each driven the way its documentation shows: ours, the official `openai` package,
 * the Vercel AI SDK, and the floor (a bare undici request and the least parsing that still reads the
 * answer). Every one sends the same request and must hand back the same text.
 */
import { API_KEY, MESSAGES, MODEL, PROMPT, SYSTEM } from './canned.ts';

export const CLIENT_NAMES = ['floor', 'ours', 'openai', 'ai-sdk'] as const;
export type ClientName = (typeof CLIENT_NAMES)[number];

export const CLIENT_LABELS: Record<ClientName, string> = {
  floor: 'floor (undici + JSON.parse)',
  ours: 'llm-factory',
  openai: 'openai',
  'ai-sdk': 'ai + @ai-sdk/openai',
};

/** What one streamed request produced: the number of text deltas and the text's length. */
export interface StreamTally {
  deltas: number;
  characters: number;
  /** Only filled when asked for, so the measured loop does not pay for it. */
  text?: string;
}

export interface BenchClient {
  /** One non-streaming chat completion; resolves to its text. */
  complete(): Promise<string>;
  /** One streamed chat completion, consumed to the end. */
  stream(keepText: boolean): Promise<StreamTally>;
  close(): Promise<void>;
}

/**
 * A client of `name` for the OpenAI-style API root `baseURL` (the stub answers `…/complete/v1` with a
 * completion and `…/stream/v1` with a stream, so every client calls its usual `/chat/completions`).
 */
export async function createBenchClient(
  name: ClientName,
  baseURL: string,
  options: { oursEntry?: string; oursOptions?: Record<string, unknown> } = {},
): Promise<BenchClient> {
  switch (name) {
    case 'floor':
      return floorClient(baseURL);
    case 'ours':
      return oursClient(baseURL, options.oursEntry, options.oursOptions);
    case 'openai':
      return openaiClient(baseURL);
    case 'ai-sdk':
      return aiSdkClient(baseURL);
  }
}

function tally(keepText: boolean): StreamTally & { add(text: string): void } {
  const pieces: string[] = [];
  return {
    deltas: 0,
    characters: 0,
    add(text: string) {
      this.deltas++;
      this.characters += text.length;
      if (keepText) pieces.push(text);
    },
    get text() {
      return keepText ? pieces.join('') : undefined;
    },
  };
}

async function floorClient(baseURL: string): Promise<BenchClient> {
  const { Pool } = await import('undici');
  const { origin, pathname } = new URL(baseURL);
  const path = `${pathname}/chat/completions`;
  const pool = new Pool(origin, { connections: 128, pipelining: 1 });
  const headers = { 'content-type': 'application/json', authorization: `Bearer ${API_KEY}` };
  return {
    async complete() {
      const response = await pool.request({
        path,
        method: 'POST',
        headers,
        body: JSON.stringify({ model: MODEL, messages: MESSAGES }),
      });
      const body = JSON.parse(await response.body.text()) as {
        choices: Array<{ message: { content: string } }>;
      };
      return body.choices[0]!.message.content;
    },
    async stream(keepText) {
      const response = await pool.request({
        path,
        method: 'POST',
        headers,
        body: JSON.stringify({
          model: MODEL,
          messages: MESSAGES,
          stream: true,
          stream_options: { include_usage: true },
        }),
      });
      const result = tally(keepText);
      const decoder = new TextDecoder();
      let buffer = '';
      for await (const bytes of response.body) {
        buffer += decoder.decode(bytes as Uint8Array, { stream: true });
        let start = 0;
        for (let newline = buffer.indexOf('\n'); newline !== -1; newline = buffer.indexOf('\n', start)) {
          if (buffer.startsWith('data: {', start)) {
            const chunk = JSON.parse(buffer.slice(start + 6, newline)) as {
              choices: Array<{ delta?: { content?: string } }>;
            };
            const content = chunk.choices[0]?.delta?.content;
            if (content) result.add(content);
          }
          start = newline + 1;
        }
        buffer = buffer.slice(start);
      }
      return result;
    },
    close: () => pool.close(),
  };
}

/**
 * `entry`: the library's entry module; the TypeScript source unless a compiled build is being timed.
 * `extra`: client options beyond the defaults (the long-line benchmark raises `maxEventBytes`).
 */
async function oursClient(
  baseURL: string,
  entry?: string,
  extra: Record<string, unknown> = {},
): Promise<BenchClient> {
  const { createClient } = (
    entry ? await import(entry) : await import('../src/index.ts')
  ) as typeof import('../src/index.ts');
  const client = createClient(`openai/${MODEL}`, { apiKey: API_KEY, baseURL, ...extra });
  return {
    async complete() {
      return (await client.complete({ messages: MESSAGES })).text;
    },
    async stream(keepText) {
      const result = tally(keepText);
      for await (const event of client.stream({ messages: MESSAGES })) {
        if (event.type === 'text-delta') result.add(event.text);
      }
      return result;
    },
    close: () => client.close(),
  };
}

async function openaiClient(baseURL: string): Promise<BenchClient> {
  const { default: OpenAI } = await import('openai');
  const client = new OpenAI({ apiKey: API_KEY, baseURL });
  return {
    async complete() {
      const completion = await client.chat.completions.create({ model: MODEL, messages: MESSAGES });
      return completion.choices[0]!.message.content ?? '';
    },
    async stream(keepText) {
      const result = tally(keepText);
      const stream = await client.chat.completions.create({
        model: MODEL,
        messages: MESSAGES,
        stream: true,
        stream_options: { include_usage: true },
      });
      for await (const chunk of stream) {
        const content = chunk.choices[0]?.delta?.content;
        if (content) result.add(content);
      }
      return result;
    },
    close: async () => {},
  };
}

async function aiSdkClient(baseURL: string): Promise<BenchClient> {
  const { generateText, streamText } = await import('ai');
  const { createOpenAI } = await import('@ai-sdk/openai');
  const model = createOpenAI({ apiKey: API_KEY, baseURL }).chat(MODEL);
  return {
    async complete() {
      // The same two messages: the AI SDK takes the system turn as `instructions`.
      return (await generateText({ model, instructions: SYSTEM, prompt: PROMPT })).text;
    },
    async stream(keepText) {
      const result = tally(keepText);
      let failure: unknown;
      const stream = streamText({
        model,
        instructions: SYSTEM,
        prompt: PROMPT,
        onError: ({ error }) => {
          failure ??= error;
        },
      });
      for await (const text of stream.textStream) if (text) result.add(text);
      if (failure !== undefined) throw failure;
      await stream.finishReason;
      return result;
    },
    close: async () => {},
  };
}
