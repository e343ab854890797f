/**
 * Shapes the emulator's Gemini routes share: `google.rpc.Status` error bodies, the response headers of
 * Google's front end, the models served, and reading a request's conversation back into text.
 */

import { isRecord, type Json } from '../spec/json.ts';
import { countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { type Exchange, sendJson } from './exchange.ts';

/** HTTP status of each canonical code the emulator sends. */
const HTTP_STATUS: Readonly<Record<string, number>> = {
  INVALID_ARGUMENT: 400,
  FAILED_PRECONDITION: 400,
  PERMISSION_DENIED: 403,
  NOT_FOUND: 404,
  RESOURCE_EXHAUSTED: 429,
  INTERNAL: 500,
  UNAVAILABLE: 503,
};

/** What Google's front end sends with every answer (it sends no request id). */
export const GEMINI_RESPONSE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'application/json; charset=UTF-8',
  vary: 'Origin, X-Origin, Referer',
  server: 'scaffolding on HTTPServer2',
  'x-xss-protection': '0',
  'x-frame-options': 'SAMEORIGIN',
  'x-content-type-options': 'nosniff',
};

/** A `google.rpc.Status` body. */
export function googleError(status: string, message: string, details?: Json[], code?: number): Json {
  const error: Json = { code: code ?? HTTP_STATUS[status] ?? 500, message, status };
  if (details) error.details = details;
  return { error };
}

/** Sends a `google.rpc.Status` with the HTTP status its code calls for (or `httpStatus`). */
export function sendGoogleError(
  exchange: Exchange,
  status: string,
  message: string,
  options: { details?: Json[]; httpStatus?: number; headers?: Record<string, string> } = {},
): void {
  const httpStatus = options.httpStatus ?? HTTP_STATUS[status] ?? 500;
  sendJson(exchange, httpStatus, googleError(status, message, options.details, httpStatus), {
    ...GEMINI_RESPONSE_HEADERS,
    ...options.headers,
  });
}

/** A model the emulator lists by default. */
export interface GeminiModel {
  name: string;
  displayName: string;
  inputTokenLimit: number;
  outputTokenLimit: number;
  methods: string[];
  /** Embedding models: the vector size. */
  dimensions?: number;
}

const CHAT_METHODS = ['generateContent', 'countTokens', 'createCachedContent', 'batchGenerateContent'];
const EMBED_METHODS = ['embedContent', 'countTextTokens', 'countTokens', 'asyncBatchEmbedContent'];

/** The models `GET /v1beta/models` lists when the emulator was given no `models`. */
export const GEMINI_MODELS: readonly GeminiModel[] = [
  {
    name: 'gemini-2.5-flash',
    displayName: 'Gemini 2.5 Flash',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    methods: CHAT_METHODS,
  },
  {
    name: 'gemini-2.5-pro',
    displayName: 'Gemini 2.5 Pro',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    methods: CHAT_METHODS,
  },
  {
    name: 'gemini-2.5-flash-lite',
    displayName: 'Gemini 2.5 Flash-Lite',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 65_536,
    methods: CHAT_METHODS,
  },
  {
    name: 'gemini-2.0-flash',
    displayName: 'Gemini 2.0 Flash',
    inputTokenLimit: 1_048_576,
    outputTokenLimit: 8_192,
    methods: CHAT_METHODS,
  },
  {
    name: 'gemini-embedding-001',
    displayName: 'Gemini Embedding 001',
    inputTokenLimit: 2_048,
    outputTokenLimit: 1,
    methods: EMBED_METHODS,
    dimensions: 3072,
  },
  {
    name: 'text-embedding-004',
    displayName: 'Text Embedding 004',
    inputTokenLimit: 2_048,
    outputTokenLimit: 1,
    methods: EMBED_METHODS,
    dimensions: 768,
  },
];

/** The vector size of an embedding model: 3072 for gemini-embedding-*, 768 for the older text-embedding/embedding-001. */
export function geminiEmbeddingDimension(model: string): number {
  const known = GEMINI_MODELS.find((entry) => entry.name === model)?.dimensions;
  if (known !== undefined) return known;
  return /^(?:text-embedding|embedding-)/.test(model) ? 768 : 3072;
}

/** The `Model` resource the API lists. */
export function modelResourceOf(model: string): Json {
  const known = GEMINI_MODELS.find((entry) => entry.name === model);
  const isEmbedding = known?.dimensions !== undefined || /embedding/.test(model);
  return {
    name: `models/${model}`,
    version: '001',
    displayName: known?.displayName ?? model,
    description: `${known?.displayName ?? model}, served by the llm-factory emulator`,
    inputTokenLimit: known?.inputTokenLimit ?? (isEmbedding ? 2_048 : 1_048_576),
    outputTokenLimit: known?.outputTokenLimit ?? (isEmbedding ? 1 : 65_536),
    supportedGenerationMethods: known?.methods ?? (isEmbedding ? EMBED_METHODS : CHAT_METHODS),
    ...(isEmbedding ? {} : { temperature: 1, topP: 0.95, topK: 64, maxTemperature: 2 }),
  };
}

/** One turn of a request's conversation, as plain text. */
export interface ConversationText {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The text a part carries for the emulator: text, or a function response as JSON. */
function partText(part: unknown): string {
  if (!isRecord(part)) return '';
  if (typeof part.text === 'string') return part.text;
  if (isRecord(part.functionResponse)) return JSON.stringify(part.functionResponse.response ?? {});
  if (isRecord(part.functionCall)) return JSON.stringify(part.functionCall);
  return '';
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  const parts = isRecord(content) ? content.parts : undefined;
  return Array.isArray(parts) ? parts.map(partText).join('') : '';
}

/**
 * A `GenerateContentRequest`'s conversation as text turns (system first), or undefined when `contents` is
 * missing or empty.
 */
export function conversationOf(request: Json): ConversationText[] | undefined {
  const contents = request.contents;
  if (!Array.isArray(contents) || contents.length === 0) return undefined;
  const turns: ConversationText[] = [];
  if (request.systemInstruction !== undefined) {
    turns.push({ role: 'system', content: contentText(request.systemInstruction) });
  }
  for (const content of contents) {
    const role = isRecord(content) && content.role === 'model' ? 'assistant' : 'user';
    turns.push({ role, content: contentText(content) });
  }
  return turns;
}

/** Prompt tokens as the emulator counts them: the real (OpenAI) tokenizer over every turn's text. */
export function promptTokensOf(turns: readonly ConversationText[], model: string): number {
  let total = 0;
  for (const turn of turns) total += countOpenAITokens(turn.content, model);
  return total;
}

/** `{usageMetadata}` with the counts the API reports (thinking apart from the candidates, in the total). */
export function usageMetadata(promptTokens: number, candidatesTokens?: number, thoughtsTokens = 0): Json {
  const usage: Json = { promptTokenCount: promptTokens };
  if (candidatesTokens !== undefined) usage.candidatesTokenCount = candidatesTokens;
  usage.totalTokenCount = promptTokens + (candidatesTokens ?? 0) + thoughtsTokens;
  usage.promptTokensDetails = [{ modality: 'TEXT', tokenCount: promptTokens }];
  if (candidatesTokens !== undefined)
    usage.candidatesTokensDetails = [{ modality: 'TEXT', tokenCount: candidatesTokens }];
  if (thoughtsTokens > 0) usage.thoughtsTokenCount = thoughtsTokens;
  return usage;
}

/** `"0.1s"` for 100 ms: a protobuf Duration as JSON. */
export function durationOf(ms: number): string {
  return `${Number((ms / 1000).toFixed(3))}s`;
}
