/**
 * The Ollama native API in the emulator, at Ollama's paths: `POST /api/chat`, `/api/generate`,
 * `/api/embed`, `/api/embeddings` (legacy), `/api/show`, `GET /api/tags`, `/api/version` and `/`. Bodies
 * are written as Go writes them; errors are `{"error": "…"}`; unknown `/api/` paths get gin's plain-text
 * `404 page not found`. No auth unless the emulator was given keys (then a bearer key, as Ollama's hosted
 * service asks). Whole conversations (tools, images, `format`, `think`) are read by `ollama-conversation.ts`
 * with the real server's rules and answered by `ollama-chat.ts`.
 *
 * Faults apply to chat, generate and embed (not to listings, `show` or the version). `content-filter` has no
 * Ollama equivalent (Ollama filters nothing), so it is answered as a model that declines: an empty message
 * with `done_reason: "stop"`, which the client sees as an empty answer. `stream-error` is an
 * `{"error": …}` line after two pieces (a 500 when not streaming), as the real server fails mid-answer.
 * A prompt over `contextWindow` gets Ollama's `the input length exceeds the context length` (400): a real
 * server would silently cut a chat prompt to `num_ctx` unless asked not to truncate.
 */

import type { Json } from '../spec/json.ts';
import { countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { embedText } from './embeddings.ts';
import { corruptBody, type Exchange, headerOf, sendJson, wait } from './exchange.ts';
import { OLLAMA_CONTEXT_ERROR, OLLAMA_RUN_ERROR, ollamaCompletion } from './ollama-chat.ts';
import {
  detailsOf,
  fullModelName,
  goJson,
  isServed,
  JSON_CONTENT_TYPE,
  listedModels,
  MODIFIED_AT,
  modelInfo,
  ollamaEmbeddingDimension,
  sendOllamaError,
  sendOllamaJson,
  tagEntry,
} from './ollama-models.ts';

/** The version `/api/version` reports: a real release, so clients that gate features on it work. */
const OLLAMA_VERSION = '0.12.6';

function sendText(exchange: Exchange, status: number, text: string): void {
  sendJson(exchange, status, text, { 'content-type': 'text/plain; charset=utf-8' });
}

/** Answers the request if its path is Ollama's (`/` or `/api/…`); false otherwise. */
export async function handleOllamaProtocol(exchange: Exchange): Promise<boolean> {
  const { pathname } = exchange.url;
  const method = exchange.req.method ?? 'GET';
  if (pathname === '/') {
    if (method !== 'GET' && method !== 'HEAD') return false;
    sendText(exchange, 200, 'Ollama is running');
    return true;
  }
  if (!pathname.startsWith('/api/')) return false;
  if (!authorized(exchange)) return true;

  const route = `${method} ${pathname}`;
  if (route === 'GET /api/version') {
    sendOllamaJson(exchange, 200, { version: OLLAMA_VERSION });
    return true;
  }
  if (route === 'GET /api/tags') {
    sendOllamaJson(exchange, 200, { models: listedModels(exchange).map(tagEntry) });
    return true;
  }
  const operation = ['chat', 'generate', 'embed', 'embeddings', 'show'].find(
    (name) => route === `POST /api/${name}`,
  );
  if (!operation) {
    sendText(exchange, 404, '404 page not found'); // gin's answer for a route it does not have
    return true;
  }
  const body = parseBody(exchange);
  if (!body) return true;
  const model =
    typeof body.model === 'string' && body.model
      ? body.model
      : typeof body.name === 'string' && body.name
        ? body.name
        : undefined;
  if (!model) {
    sendOllamaError(exchange, 400, 'model is required');
    return true;
  }
  if (operation === 'show') {
    show(exchange, model);
    return true;
  }
  if (!isServed(exchange, model)) {
    sendOllamaError(exchange, 404, `model ${JSON.stringify(model)} not found, try pulling it first`);
    return true;
  }
  const streaming = (operation === 'chat' || operation === 'generate') && body.stream !== false;
  if (answerFault(exchange, model, streaming)) return true;
  if (operation === 'chat' || operation === 'generate')
    await ollamaCompletion(exchange, operation, body, model);
  else await embed(exchange, body, model, operation === 'embeddings');
  return true;
}

function authorized(exchange: Exchange): boolean {
  if (!exchange.apiKeys) return true;
  const key = headerOf(exchange, 'authorization')?.replace(/^Bearer\s+/i, '');
  if (key && exchange.apiKeys.includes(key)) return true;
  sendOllamaError(exchange, 401, 'unauthorized');
  return false;
}

/** The JSON object of the request, or undefined after answering Go's decoding error. */
function parseBody(exchange: Exchange): Json | undefined {
  if (exchange.rawBody.trim() === '') {
    sendOllamaError(exchange, 400, 'missing request body');
    return undefined;
  }
  try {
    const body = JSON.parse(exchange.rawBody) as unknown;
    if (typeof body === 'object' && body !== null && !Array.isArray(body)) return body as Json;
    sendOllamaError(exchange, 400, 'json: cannot unmarshal into Go value of type api.Request');
  } catch {
    const first = exchange.rawBody.trim()[0] ?? '';
    sendOllamaError(exchange, 400, `invalid character '${first}' looking for beginning of value`);
  }
  return undefined;
}

/** Answers the faults that replace the whole response; true when it did. */
function answerFault(exchange: Exchange, model: string, streaming: boolean): boolean {
  switch (exchange.fault) {
    case 'rate-limit': {
      const seconds = Math.max(1, Math.ceil(exchange.retryAfterMs / 1000));
      sendOllamaError(exchange, 429, `too many requests for ${model}, please retry in ${seconds}s`, {
        'retry-after': String(seconds),
      });
      return true;
    }
    case 'server-error':
      sendOllamaError(exchange, 500, 'the model failed to generate a response');
      return true;
    case 'unavailable':
      // Ollama's answer when its request queue (OLLAMA_MAX_QUEUE) is full.
      sendOllamaError(exchange, 503, 'server busy, please try again.  maximum pending requests exceeded');
      return true;
    case 'overloaded':
      sendOllamaError(exchange, 529, 'server overloaded, please try again later');
      return true;
    case 'stream-error':
      if (streaming) return false;
      sendOllamaError(exchange, 500, OLLAMA_RUN_ERROR);
      return true;
    default:
      return false;
  }
}

function show(exchange: Exchange, model: string): void {
  if (!isServed(exchange, model)) {
    sendOllamaError(exchange, 404, `model '${model}' not found`);
    return;
  }
  const info = modelInfo(model);
  const contextLength = exchange.contextWindow ?? info.contextLength;
  sendOllamaJson(exchange, 200, {
    license: '',
    modelfile: `# Modelfile generated by the llm-factory emulator\nFROM ${fullModelName(model)}\n`,
    parameters: '',
    template: '{{ .Prompt }}',
    details: detailsOf(info),
    model_info: {
      'general.architecture': info.family,
      'general.basename': model.split(':')[0],
      [`${info.family}.context_length`]: contextLength,
      [`${info.family}.embedding_length`]: info.embeddingLength,
    },
    capabilities: info.capabilities,
    modified_at: MODIFIED_AT,
  });
}

/** `/api/embed` (`input`, a string or a list → `embeddings`) and legacy `/api/embeddings` (`prompt`). */
async function embed(exchange: Exchange, body: Json, model: string, legacy: boolean) {
  const started = process.hrtime.bigint();
  const input = legacy ? body.prompt : body.input;
  let texts: string[];
  if (input === undefined) texts = [];
  else if (typeof input === 'string') texts = input === '' ? [] : [input];
  else if (Array.isArray(input) && input.every((item) => typeof item === 'string')) texts = input;
  else {
    sendOllamaError(exchange, 400, 'invalid input type');
    return;
  }
  const counts = texts.map((text) => countOpenAITokens(text, model));
  // The server cuts each input to the context unless told not to; then an over-long one is an error.
  const limit = exchange.contextWindow ?? modelInfo(model).contextLength;
  if (body.truncate === false && counts.some((count) => count > limit)) {
    sendOllamaError(exchange, 400, OLLAMA_CONTEXT_ERROR);
    return;
  }
  const requested = typeof body.dimensions === 'number' && body.dimensions > 0 ? body.dimensions : undefined;
  const native = ollamaEmbeddingDimension(model);
  // Vectors can be shortened, never lengthened (a huge value made a vector of gigabytes here).
  if (requested !== undefined && (!Number.isInteger(requested) || requested > native)) {
    sendOllamaError(exchange, 400, `dimensions must be between 1 and ${native}, got ${requested}`);
    return;
  }
  const dimensions = requested ?? native;
  await wait(exchange.timing.latencyMs);
  const vectors = texts.map((text) => Array.from(embedText(text, dimensions)));
  const ended = process.hrtime.bigint();
  const answer = legacy
    ? { embedding: vectors[0] ?? [] }
    : {
        model,
        embeddings: vectors,
        total_duration: Number(ended - started),
        load_duration: 0,
        prompt_eval_count: counts.reduce((sum, count) => sum + count, 0),
      };
  const json = goJson(answer);
  const headers = { 'content-type': JSON_CONTENT_TYPE };
  if (corruptBody(exchange, json, headers)) return;
  sendJson(exchange, 200, json, headers);
}
