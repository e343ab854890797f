/**
 * Bodies the providers accept, generated with fast-check for every gateway endpoint, leaning on what is odd
 * but allowed: unicode of every script, nulls where the API takes null, content as parts, a developer role,
 * tool loops, cache_control, every optional field at its edges. The gateway must answer each with a 2xx.
 */
import fc from 'fast-check';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

/** Deployments of `llmf serve`'s emulator mode, and the group that falls back across two of them. */
export const CHAT_MODELS = ['openai', 'anthropic', 'gemini', 'bedrock', 'ollama', 'chat'] as const;
/** Those whose deployment embeds (Anthropic has no embeddings API; the Bedrock one is a chat model). */
export const EMBEDDING_MODELS = ['openai', 'gemini', 'ollama'] as const;

/** Text that is odd but valid everywhere: scripts, emoji sequences, marks, controls a JSON string may carry. */
const ODD_TEXT = [
  'naïve café déjà vu',
  '日本語のテキストと漢字',
  'مرحبا بالعالم',
  'שלום עולם',
  '👩‍👩‍👧‍👦 family and 🏳️‍🌈 flag',
  'e\u0301\u0301\u0301 stacked accents',
  '\u202Eright-to-left override',
  'tab\tnew\nline\r\nreturn',
  'quote " backslash \\ slash / brace } bracket ]',
  'zero\u200Bwidth\u200Djoiner',
  'U+FFFD \uFFFD replacement',
  '𝔘𝔫𝔦𝔠𝔬𝔡𝔢 mathematical letters',
  '<|endoftext|> looks special',
  '{"looks": "like json"}',
  'null',
];

/** Non-blank text (Anthropic refuses blank text blocks): odd constants, arbitrary graphemes, or prose. */
export const text: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(...ODD_TEXT),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 24 }).map((value) => `say ${value}`),
  fc.lorem({ maxCount: 12 }).map((words) => `about ${words}`),
);

const word = fc.stringMatching(/^[a-z]{1,10}$/);

const WEATHER_SCHEMA: JsonObject = {
  type: 'object',
  properties: { city: { type: 'string', description: 'a city' }, days: { type: 'integer' } },
  required: ['city', 'days'],
  additionalProperties: false,
};

const ANSWER_SCHEMA: JsonObject = {
  type: 'object',
  properties: { answer: { type: 'string' } },
  required: ['answer'],
  additionalProperties: false,
};

/** Alternating user / assistant turns, ending with the user's. */
function alternate(turns: readonly string[]): Array<{ role: 'user' | 'assistant'; text: string }> {
  const roles = turns.map((_, index) => ((turns.length - 1 - index) % 2 === 0 ? 'user' : 'assistant'));
  return turns.map((value, index) => ({ role: roles[index] as 'user' | 'assistant', text: value }));
}

const optional = <T>(arbitrary: fc.Arbitrary<T>) => fc.option(arbitrary, { nil: undefined });

function withoutUndefined(value: Record<string, Json | undefined>): JsonObject {
  const out: JsonObject = {};
  for (const [key, field] of Object.entries(value)) if (field !== undefined) out[key] = field;
  return out;
}

/**
 * What a deployment cannot do, the library refuses with a 400 that names it (README: what each provider can
 * do): Ollama has no tool_choice; Anthropic and Bedrock's Claude have no JSON mode without a schema; Gemini
 * no JSON answer together with tools. A body OpenAI accepts is valid for those models only without them.
 */
function withinCapabilities<
  T extends {
    model: string;
    toolChoice?: string | undefined;
    format?: string | undefined;
    toolLoop: boolean;
  },
>(c: T): T {
  const out = { ...c };
  if (c.model === 'ollama' && (c.toolChoice === 'required' || c.toolChoice === 'named'))
    out.toolChoice = 'auto';
  if (['anthropic', 'bedrock', 'chat'].includes(c.model) && c.format === 'json_object')
    out.format = undefined;
  if (c.model === 'gemini' && (c.toolLoop || c.toolChoice !== undefined) && c.format !== 'text')
    out.format = undefined;
  return out;
}

/** `POST /v1/chat/completions` bodies OpenAI accepts. */
export const validChat: fc.Arbitrary<JsonObject> = fc
  .record({
    model: fc.constantFrom(...CHAT_MODELS),
    system: optional(fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 2 }))),
    systemRole: fc.constantFrom('system', 'developer'),
    turns: fc
      .array(text, { minLength: 1, maxLength: 3 })
      .map((turns) => (turns.length % 2 ? turns : turns.slice(1))),
    userAsParts: fc.boolean(),
    userName: optional(fc.stringMatching(/^[a-zA-Z0-9_-]{1,16}$/)),
    toolLoop: fc.boolean(),
    toolResult: text,
    toolChoice: optional(fc.constantFrom('auto', 'none', 'required', 'named')),
    parallel: optional(fc.boolean()),
    format: optional(fc.constantFrom('text', 'json_object', 'json_schema', 'json_schema_strict')),
    temperature: optional(fc.oneof(fc.constant(null), fc.double({ min: 0, max: 2, noNaN: true }))),
    topP: optional(fc.oneof(fc.constant(null), fc.double({ min: 0, max: 1, noNaN: true }))),
    maxTokens: optional(fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 4096 }))),
    maxField: fc.constantFrom('max_tokens', 'max_completion_tokens'),
    stop: optional(fc.oneof(fc.constant(null), word, fc.array(word, { minLength: 1, maxLength: 4 }))),
    seed: optional(fc.oneof(fc.constant(null), fc.integer())),
    n: optional(fc.constantFrom(null, 1)),
    user: optional(word),
    penalty: optional(fc.double({ min: -2, max: 2, noNaN: true })),
    stream: fc.boolean(),
    includeUsage: optional(fc.boolean()),
  })
  .map((generated) => {
    const c = withinCapabilities(generated);
    const messages: Json[] = [];
    if (c.system !== undefined) {
      const content = Array.isArray(c.system)
        ? c.system.map((value) => ({ type: 'text', text: value }))
        : c.system;
      messages.push({ role: c.systemRole, content });
    }
    for (const turn of alternate(c.turns)) {
      if (turn.role === 'assistant') messages.push({ role: 'assistant', content: turn.text, refusal: null });
      else {
        const content = c.userAsParts ? [{ type: 'text', text: turn.text }] : turn.text;
        messages.push(withoutUndefined({ role: 'user', content, name: c.userName }));
      }
    }
    if (c.toolLoop) {
      messages.push({
        role: 'assistant',
        content: null,
        tool_calls: [
          {
            id: 'call_1',
            type: 'function',
            function: { name: 'get_weather', arguments: '{"city":"Paris","days":2}' },
          },
        ],
      });
      messages.push({ role: 'tool', tool_call_id: 'call_1', content: c.toolResult });
    }
    const tools = c.toolLoop || c.toolChoice !== undefined;
    const format: Json | undefined =
      c.format === undefined
        ? undefined
        : c.format === 'text' || c.format === 'json_object'
          ? { type: c.format }
          : {
              type: 'json_schema',
              json_schema: {
                name: 'answer',
                schema: ANSWER_SCHEMA,
                strict: c.format === 'json_schema_strict',
              },
            };
    // OpenAI asks for the word JSON in the messages when json_object is on.
    if (c.format === 'json_object') messages.push({ role: 'user', content: 'Reply in JSON.' });
    return withoutUndefined({
      model: c.model,
      messages,
      tools: tools
        ? [
            {
              type: 'function',
              function: {
                name: 'get_weather',
                description: 'the weather',
                parameters: WEATHER_SCHEMA,
                strict: true,
              },
            },
          ]
        : undefined,
      tool_choice: !tools
        ? undefined
        : c.toolChoice === 'named'
          ? { type: 'function', function: { name: 'get_weather' } }
          : c.toolChoice,
      parallel_tool_calls: tools ? c.parallel : undefined,
      response_format: format,
      temperature: c.temperature,
      top_p: c.topP,
      [c.maxField]: c.maxTokens,
      stop: c.stop,
      seed: c.seed,
      n: c.n,
      user: c.user,
      presence_penalty: c.penalty,
      stream: c.stream,
      stream_options:
        c.stream && c.includeUsage !== undefined ? { include_usage: c.includeUsage } : undefined,
    });
  });

const anthropicTools = [{ name: 'get_weather', description: 'the weather', input_schema: WEATHER_SCHEMA }];

/** The conversation of a Messages body: alternating turns, optionally ending with a tool loop. */
const anthropicConversation = fc
  .record({
    turns: fc
      .array(text, { minLength: 1, maxLength: 3 })
      .map((turns) => (turns.length % 2 ? turns : turns.slice(1))),
    asBlocks: fc.boolean(),
    cacheControl: fc.boolean(),
    toolLoop: fc.boolean(),
    toolResult: fc.oneof(
      text,
      text.map((value) => [{ type: 'text', text: value }]),
    ),
    isError: optional(fc.boolean()),
    system: optional(fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 2 }))),
  })
  .map((c) => {
    const messages: Json[] = alternate(c.turns).map((turn) => ({
      role: turn.role,
      content: c.asBlocks
        ? [
            withoutUndefined({
              type: 'text',
              text: turn.text,
              cache_control: c.cacheControl ? { type: 'ephemeral' } : undefined,
            }),
          ]
        : turn.text,
    }));
    if (c.toolLoop) {
      messages.push({
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'toolu_01', name: 'get_weather', input: { city: 'Paris', days: 2 } },
        ],
      });
      messages.push({
        role: 'user',
        content: [
          withoutUndefined({
            type: 'tool_result',
            tool_use_id: 'toolu_01',
            content: c.toolResult,
            is_error: c.isError,
          }),
        ],
      });
    }
    const system =
      c.system === undefined || typeof c.system === 'string'
        ? c.system
        : c.system.map((value) => ({ type: 'text', text: value }));
    return { messages, system, tools: c.toolLoop };
  });

/** `POST /v1/messages` bodies Anthropic accepts. */
export const validMessages: fc.Arbitrary<JsonObject> = fc
  .record({
    model: fc.constantFrom(...CHAT_MODELS),
    conversation: anthropicConversation,
    maxTokens: fc.integer({ min: 1, max: 4096 }),
    sampling: optional(fc.constantFrom('temperature', 'top_p', 'top_k')),
    temperature: fc.double({ min: 0, max: 1, noNaN: true }),
    topK: fc.integer({ min: 1, max: 500 }),
    stop: optional(fc.array(word, { maxLength: 4 })),
    toolChoice: optional(fc.constantFrom('auto', 'any', 'tool', 'none')),
    disableParallel: optional(fc.boolean()),
    userId: optional(word),
    stream: fc.boolean(),
  })
  .map((generated) => {
    // Ollama has no tool_choice: only auto and none are valid for it.
    const forced = generated.toolChoice === 'any' || generated.toolChoice === 'tool';
    const c =
      generated.model === 'ollama' && forced ? { ...generated, toolChoice: 'auto' as const } : generated;
    const tools = c.conversation.tools || c.toolChoice !== undefined;
    return withoutUndefined({
      model: c.model,
      max_tokens: c.maxTokens,
      messages: c.conversation.messages,
      system: c.conversation.system,
      temperature: c.sampling === 'temperature' ? c.temperature : undefined,
      top_p: c.sampling === 'top_p' ? c.temperature : undefined,
      top_k: c.sampling === 'top_k' ? c.topK : undefined,
      stop_sequences: c.stop,
      tools: tools ? anthropicTools : undefined,
      tool_choice:
        tools && c.toolChoice !== undefined
          ? withoutUndefined({
              type: c.toolChoice,
              name: c.toolChoice === 'tool' ? 'get_weather' : undefined,
              disable_parallel_tool_use: c.toolChoice === 'none' ? undefined : c.disableParallel,
            })
          : undefined,
      metadata: c.userId === undefined ? undefined : { user_id: c.userId },
      stream: c.stream,
    });
  });

/** `POST /v1/messages/count_tokens` bodies (no max_tokens: counting takes none). */
export const validCountTokens: fc.Arbitrary<JsonObject> = fc
  .record({
    model: fc.constantFrom(...CHAT_MODELS),
    conversation: anthropicConversation,
    withTools: fc.boolean(),
  })
  .map((c) =>
    withoutUndefined({
      model: c.model,
      messages: c.conversation.messages,
      system: c.conversation.system,
      tools: c.conversation.tools || c.withTools ? anthropicTools : undefined,
    }),
  );

/** `POST /v1/embeddings` bodies OpenAI accepts. */
export const validEmbeddings: fc.Arbitrary<JsonObject> = fc
  .record({
    model: fc.constantFrom(...EMBEDDING_MODELS),
    input: fc.oneof(text, fc.array(text, { minLength: 1, maxLength: 4 })),
    encoding: optional(fc.constantFrom('float', 'base64')),
    dimensions: optional(fc.integer({ min: 1, max: 512 })),
    user: optional(word),
  })
  .map((c) =>
    withoutUndefined({
      model: c.model,
      input: c.input,
      encoding_format: c.encoding,
      dimensions: c.dimensions,
      user: c.user,
    }),
  );

/** `POST /admin/keys` bodies: every field at its edges, expiry as an ISO date or epoch milliseconds. */
export const validAdminKey: fc.Arbitrary<JsonObject> = fc
  .record({
    name: fc.oneof(
      text.map((value) => value.slice(0, 200)),
      word,
    ),
    models: optional(fc.subarray([...CHAT_MODELS])),
    rpm: optional(fc.integer({ min: 1, max: 1_000_000 })),
    tpm: optional(fc.integer({ min: 1, max: 2 ** 40 })),
    budgetUsd: optional(fc.double({ min: 0, max: 1e6, noNaN: true })),
    budgetPeriod: optional(fc.constantFrom('day', 'month')),
    expiresInMs: optional(fc.integer({ min: 60_000, max: 10 * 365 * 86_400_000 })),
    expiryAsDate: fc.boolean(),
  })
  .map((c) => {
    const at = c.expiresInMs === undefined ? undefined : Date.now() + c.expiresInMs;
    return withoutUndefined({
      name: c.name.trim() === '' ? 'blank-name' : c.name,
      models: c.models,
      rpm: c.rpm,
      tpm: c.tpm,
      budgetUsd: c.budgetUsd,
      budgetPeriod: c.budgetUsd === undefined ? undefined : c.budgetPeriod,
      expiresAt: at === undefined ? undefined : c.expiryAsDate ? new Date(at).toISOString() : at,
    });
  });
