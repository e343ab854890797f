/**
 * Builds Gemini (Generative Language API) bodies from our request shape: `generateContent`,
 * `countTokens` and `batchEmbedContents`. System turns become `systemInstruction`, assistant turns
 * `model` turns, and tool results `functionResponse` parts in a user turn.
 */

import type { Json } from '../../spec/json.ts';
import type { ChatMessage, EmbeddingInputType, EmbeddingOptions } from '../../spec/types.ts';
import type { NormalizedRequest } from '../provider.ts';

const isPlainObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** A `Part` as we send it: text, or a function's result. */
export interface GeminiPart {
  text?: string;
  functionResponse?: { id?: string; name: string; response: Json };
}

/** One turn of `contents`. */
export interface GeminiContent {
  role: 'user' | 'model';
  parts: GeminiPart[];
}

/** `contents` and the optional `systemInstruction` of a request. */
export interface GeminiConversation {
  contents: GeminiContent[];
  systemInstruction?: { parts: GeminiPart[] };
}

/**
 * The resource name of a model: `gemini-2.5-flash` and `models/gemini-2.5-flash` both give
 * `models/gemini-2.5-flash`; a name with its own collection (`tunedModels/…`) is kept as it is.
 */
export function modelResource(model: string): string {
  return model.includes('/') ? model : `models/${model}`;
}

/**
 * A tool result as a `functionResponse` part. The API wants an object: a JSON object is sent as it is,
 * anything else is wrapped as `{ output }` (the key the API documents for a function's output).
 */
function functionResponsePart(message: ChatMessage & { name: string }): GeminiPart {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message.content);
  } catch {
    parsed = message.content;
  }
  const functionResponse: NonNullable<GeminiPart['functionResponse']> = {
    name: message.name,
    response: isPlainObject(parsed) ? parsed : { output: parsed },
  };
  if (message.toolCallId !== undefined) functionResponse.id = message.toolCallId;
  return { functionResponse };
}

/**
 * Our messages → `contents` and `systemInstruction`. A tool message needs the function's `name` to be a
 * `functionResponse`; without one it goes back as text. Consecutive tool results share one user turn,
 * as the API expects answers to parallel calls. `name` on other turns has no Gemini equivalent and is
 * dropped. A conversation our messages cannot express (function calls with their thought signatures,
 * images) goes as native `contents` in `providerOptions`, which replace these.
 */
export function geminiConversation(messages: readonly ChatMessage[]): GeminiConversation {
  const contents: GeminiContent[] = [];
  const system: GeminiPart[] = [];
  let previousWasTool = false;
  for (const message of messages) {
    if (message.role === 'system') {
      system.push({ text: message.content });
      continue;
    }
    if (message.role === 'tool') {
      const part =
        message.name !== undefined && message.name !== ''
          ? functionResponsePart(message as ChatMessage & { name: string })
          : { text: message.content };
      const last = contents.at(-1);
      if (previousWasTool && last) last.parts.push(part);
      else contents.push({ role: 'user', parts: [part] });
      previousWasTool = true;
      continue;
    }
    previousWasTool = false;
    contents.push({
      role: message.role === 'assistant' ? 'model' : 'user',
      parts: [{ text: message.content }],
    });
  }
  const conversation: GeminiConversation = { contents };
  if (system.length > 0) conversation.systemInstruction = { parts: system };
  return conversation;
}

/**
 * The `generateContent` body (the streaming endpoint takes the same). `providerOptions` are merged last;
 * `generationConfig` is merged field by field, so `{ generationConfig: { thinkingConfig } }` keeps the
 * temperature and token limit built from the options.
 */
export function generateContentBody(request: NormalizedRequest): string {
  const body: Json = { ...geminiConversation(request.messages) };
  const config: Json = {};
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens;
  if (request.topP !== undefined) config.topP = request.topP;
  if (request.stop !== undefined)
    config.stopSequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.seed !== undefined) config.seed = request.seed;
  if (Object.keys(config).length > 0) body.generationConfig = config;
  if (request.providerOptions) {
    for (const [key, value] of Object.entries(request.providerOptions)) {
      const current = body[key];
      body[key] =
        key === 'generationConfig' && isPlainObject(current) && isPlainObject(value)
          ? { ...current, ...value }
          : value;
    }
  }
  return JSON.stringify(body);
}

/**
 * The `countTokens` body: `{ contents }`, or the whole `generateContentRequest` when the request has a
 * system turn or tools (the short form cannot carry them, and they count).
 */
export function countTokensBody(request: NormalizedRequest): string {
  const { contents, systemInstruction } = geminiConversation(request.messages);
  const tools = request.providerOptions?.tools;
  if (!systemInstruction && tools === undefined) return JSON.stringify({ contents });
  const generateContentRequest: Json = { model: modelResource(request.model), contents };
  if (systemInstruction) generateContentRequest.systemInstruction = systemInstruction;
  if (tools !== undefined) generateContentRequest.tools = tools;
  return JSON.stringify({ generateContentRequest });
}

/** Gemini's `taskType` for each `inputType` (unset: no task type, the model's general-purpose vectors). */
const GEMINI_TASK_TYPES: Readonly<Record<EmbeddingInputType, string>> = {
  query: 'RETRIEVAL_QUERY',
  document: 'RETRIEVAL_DOCUMENT',
};

/** The `batchEmbedContents` body: one request per text, each naming the model and the task type. */
export function batchEmbedContentsBody(
  texts: readonly string[],
  model: string,
  options: EmbeddingOptions,
): string {
  const resource = modelResource(model);
  return JSON.stringify({
    requests: texts.map((text) => {
      const entry: Json = { model: resource, content: { parts: [{ text }] } };
      if (options.dimensions !== undefined) entry.outputDimensionality = options.dimensions;
      if (options.inputType !== undefined) entry.taskType = GEMINI_TASK_TYPES[options.inputType];
      return entry;
    }),
  });
}
