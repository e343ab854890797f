/**
 * The bytes the stub server answers with, and what every client must make of them. Shaped like current
 * OpenAI Chat Completions responses (see test/fixtures/openai: `chat-completion.nonstream.gpt-4o-mini.json`
 * and `chat-completion.stream.include-usage.gpt-4.1-nano.reframed.sse`), so every client parses the same,
 * realistic payload.
 */

export const MODEL = 'gpt-4o-mini';
export const API_KEY = 'sk-bench-0000000000000000000000000000000000000000';

/** The request every client sends: a system instruction and one user turn. */
export const SYSTEM = 'You are a concise assistant.';
export const PROMPT = 'Explain what a large language model is in two sentences.';
export const MESSAGES = [
  { role: 'system' as const, content: SYSTEM },
  { role: 'user' as const, content: PROMPT },
];

const ANSWER =
  'A large language model is a neural network trained on vast amounts of text to predict the next token, which lets it generate fluent language. It can answer questions, summarise documents and write code when prompted.';

/** A non-streaming completion, pretty-printed as the API sends it. */
export const COMPLETION_BODY = `${JSON.stringify(
  {
    id: 'chatcmpl-BenchE1pM8f3R7mTNOR0nc3JsNVewLODyz',
    object: 'chat.completion',
    created: 1784104448,
    model: 'gpt-4o-mini-2024-07-18',
    choices: [
      {
        index: 0,
        message: { role: 'assistant', content: ANSWER, refusal: null, annotations: [] },
        logprobs: null,
        finish_reason: 'stop',
      },
    ],
    usage: {
      prompt_tokens: 31,
      completion_tokens: 45,
      total_tokens: 76,
      prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
      completion_tokens_details: {
        reasoning_tokens: 0,
        audio_tokens: 0,
        accepted_prediction_tokens: 0,
        rejected_prediction_tokens: 0,
      },
    },
    service_tier: 'default',
    system_fingerprint: 'fp_844ddd95ff',
  },
  null,
  2,
)}\n`;

export const COMPLETION_TEXT = ANSWER;

/** Chunk events in one stream: STREAM_TEXT_CHUNKS text deltas, then one finish chunk. */
export const STREAM_CHUNKS = 1000;
export const STREAM_TEXT_CHUNKS = STREAM_CHUNKS - 1;

const WORDS = ANSWER.split(' ');
const CHUNK_HEAD =
  '{"id":"chatcmpl-D8Z5oo6uDh67AD85p73ksdT1KxhE0","object":"chat.completion.chunk","created":1770933892,"model":"gpt-4o-mini-2024-07-18","service_tier":"default","system_fingerprint":"fp_de604bd877","choices":[';

function obfuscation(index: number): string {
  return 'Qup1BsQ3yhjoJbEF'.slice(0, 4 + (index % 9));
}

/** The text deltas of one stream, in order. */
export const STREAM_PIECES: readonly string[] = Array.from({ length: STREAM_TEXT_CHUNKS }, (_, index) =>
  index === 0 ? WORDS[0]! : ` ${WORDS[index % WORDS.length]!}`,
);
export const STREAM_TEXT = STREAM_PIECES.join('');

/** One SSE event per element, each sent as its own HTTP chunk, as the API flushes them. */
export const STREAM_EVENTS: readonly string[] = (() => {
  const events: string[] = [];
  STREAM_PIECES.forEach((piece, index) => {
    const delta = index === 0 ? { role: 'assistant', content: piece, refusal: null } : { content: piece };
    const choice = JSON.stringify({ index: 0, delta, logprobs: null, finish_reason: null });
    events.push(`data: ${CHUNK_HEAD}${choice}],"usage":null,"obfuscation":"${obfuscation(index)}"}\n\n`);
  });
  events.push(
    `data: ${CHUNK_HEAD}{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null,"obfuscation":"zap0"}\n\n`,
  );
  events.push(
    `data: ${CHUNK_HEAD}],"usage":{"prompt_tokens":31,"completion_tokens":${STREAM_CHUNKS},"total_tokens":${31 + STREAM_CHUNKS},"prompt_tokens_details":{"cached_tokens":0,"audio_tokens":0},"completion_tokens_details":{"reasoning_tokens":0,"audio_tokens":0,"accepted_prediction_tokens":0,"rejected_prediction_tokens":0}},"obfuscation":"h9RiQLL"}\n\n`,
  );
  events.push('data: [DONE]\n\n');
  return events;
})();

export const STREAM_BYTES = STREAM_EVENTS.reduce((sum, event) => sum + Buffer.byteLength(event), 0);

/**
 * The long-line stream (`/long-line/<bytes>/v1`): one text delta whose content is `<bytes>` of `x`, its SSE
 * line sent in 64 KiB pieces and ended only after the last, then the usual finish, usage and `[DONE]`.
 */
export const LONG_LINE_HEAD = `data: ${CHUNK_HEAD}{"index":0,"delta":{"role":"assistant","content":"`;
export const LONG_LINE_TAIL = [
  `"},"logprobs":null,"finish_reason":null}],"usage":null}\n\n`,
  STREAM_EVENTS.at(-3)!,
  STREAM_EVENTS.at(-2)!,
  STREAM_EVENTS.at(-1)!,
].join('');

/**
 * The same answer as Anthropic's Messages API sends it (shaped like test/fixtures/anthropic
 * `messages.nonstream.text.claude-sonnet-4-5.json`): what the stub's `/anthropic/v1/messages` answers.
 */
export const ANTHROPIC_MESSAGE_BODY = `${JSON.stringify(
  {
    model: 'claude-sonnet-4-5-20250929',
    id: 'msg_01BenchjxAP5ahtHKrrRdNBte',
    type: 'message',
    role: 'assistant',
    content: [{ type: 'text', text: ANSWER }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: {
      input_tokens: 31,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
      output_tokens: 45,
      service_tier: 'standard',
    },
  },
  null,
  2,
)}\n`;
