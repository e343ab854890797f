/**
 * The emulated Ollama's text endpoints: `/api/chat` (messages in, `message` out) and `/api/generate`
 * (`prompt` in, `response` out). Streams are NDJSON and are the default when `stream` is absent, as on the
 * real server; the last object carries `done_reason`, the counts and the durations in nanoseconds.
 */

import { isRecord, type Json } from '../spec/json.ts';
import { countOpenAIChatTokens, countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { corruptBody, type Exchange, headerOf, sendJson, stallForever, wait, writeRaw } from './exchange.ts';
import { goJson, JSON_CONTENT_TYPE, modelInfo, sendOllamaError, sendOllamaJson } from './ollama-models.ts';
import { baseReply, shapeReply, streamPieces } from './replies.ts';

type Kind = 'chat' | 'generate';
interface Message {
  role: 'system' | 'user' | 'assistant' | 'tool';
  content: string;
}

/** What a model failing mid-answer says (Ollama's own wording). */
export const OLLAMA_RUN_ERROR = 'an error was encountered while running the model';
/** What a prompt longer than the context gets (Ollama's own wording, as for `truncate: false`). */
export const OLLAMA_CONTEXT_ERROR = 'the input length exceeds the context length';

function conversation(kind: Kind, body: Json): Message[] {
  if (kind === 'generate') {
    const messages: Message[] = [];
    if (typeof body.system === 'string' && body.system)
      messages.push({ role: 'system', content: body.system });
    if (typeof body.prompt === 'string' && body.prompt) messages.push({ role: 'user', content: body.prompt });
    return messages;
  }
  if (!Array.isArray(body.messages)) return [];
  return body.messages.filter(isRecord).map((message) => ({
    role: String(message.role) as Message['role'],
    content: typeof message.content === 'string' ? message.content : '',
  }));
}

const nanoseconds = (from: bigint, to: bigint) => Number(to - from);

/** Answers `/api/chat` or `/api/generate` for `model` (already checked to be served). */
export async function ollamaCompletion(exchange: Exchange, kind: Kind, body: Json, model: string) {
  const started = process.hrtime.bigint();
  const stream = body.stream !== false;
  const messages = conversation(kind, body);
  const createdAt = () => new Date().toISOString();
  const output = (text: string): Json =>
    kind === 'chat' ? { message: { role: 'assistant', content: text } } : { response: text };

  // An empty request only loads the model (or, with keep_alive 0, unloads it): one final object.
  if (messages.length === 0) {
    const reason = body.keep_alive === 0 || body.keep_alive === '0' ? 'unload' : 'load';
    await wait(exchange.timing.latencyMs);
    const answer = { model, created_at: createdAt(), ...output(''), done_reason: reason, done: true };
    if (!stream) return sendOllamaJson(exchange, 200, answer);
    exchange.res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    exchange.res.end(`${goJson(answer)}\n`);
    return;
  }
  if (!modelInfo(model).capabilities.includes('completion')) {
    return sendOllamaError(exchange, 400, `${JSON.stringify(model)} does not support ${kind}`);
  }
  const promptTokens = countOpenAIChatTokens(messages, model);
  if (exchange.contextWindow !== undefined && promptTokens > exchange.contextWindow) {
    return sendOllamaError(exchange, 400, OLLAMA_CONTEXT_ERROR);
  }

  const options = isRecord(body.options) ? body.options : {};
  const stop =
    typeof options.stop === 'string' ? [options.stop] : Array.isArray(options.stop) ? options.stop : [];
  // num_predict -1 (no limit) and -2 (fill the context) are no limit here.
  const limit =
    typeof options.num_predict === 'number' && options.num_predict > 0 ? options.num_predict : undefined;
  const lastUser = [...messages].reverse().find((message) => message.role === 'user')?.content ?? '';
  const forced = headerOf(exchange, 'x-emulator-reply');
  const reply = shapeReply(
    forced ?? baseReply(JSON.stringify([model, messages]), lastUser),
    model,
    limit,
    stop.filter((sequence): sequence is string => typeof sequence === 'string'),
  );
  // Ollama has no content filter: a filtered answer is modelled as what a refusing model gives, an empty
  // message that stopped normally.
  const text = exchange.fault === 'content-filter' ? '' : reply.text;
  const doneReason = exchange.fault === 'content-filter' ? 'stop' : reply.finishReason;

  await wait(exchange.timing.latencyMs);
  const loaded = process.hrtime.bigint();
  const final = (content: string, promptDone: bigint): Json => {
    const ended = process.hrtime.bigint();
    return {
      model,
      created_at: createdAt(),
      ...output(content),
      done_reason: doneReason,
      done: true,
      total_duration: nanoseconds(started, ended),
      load_duration: nanoseconds(started, loaded),
      prompt_eval_count: promptTokens,
      prompt_eval_duration: nanoseconds(loaded, promptDone),
      eval_count: countOpenAITokens(text, model),
      eval_duration: nanoseconds(promptDone, ended),
    };
  };

  if (!stream) {
    const json = goJson(final(text, process.hrtime.bigint()));
    const headers = { 'content-type': JSON_CONTENT_TYPE };
    if (corruptBody(exchange, json, headers)) return;
    return sendJson(exchange, 200, json, headers);
  }

  exchange.res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  exchange.res.flushHeaders();
  if (exchange.fault === 'malformed') {
    writeRaw(
      exchange,
      `{"model":${JSON.stringify(model)},"created_at":"${createdAt()}","message":{"role":"assis\n`,
    );
    exchange.res.end();
    return;
  }
  await wait(exchange.timing.timeToFirstTokenMs);
  const promptDone = process.hrtime.bigint();
  const gap = exchange.timing.tokensPerSecond > 0 ? 1000 / exchange.timing.tokensPerSecond : 0;
  let sent = 0;
  for (const piece of streamPieces(text)) {
    if (sent === 2 && exchange.fault === 'stall') return stallForever(exchange);
    if (sent === 2 && exchange.fault === 'stream-error') {
      writeRaw(exchange, `${goJson({ error: OLLAMA_RUN_ERROR })}\n`);
      exchange.res.end();
      return;
    }
    if (sent > 0 && gap > 0) await wait(gap);
    const line = { model, created_at: createdAt(), ...output(piece), done: false };
    if (!writeRaw(exchange, `${goJson(line)}\n`)) return;
    sent++;
  }
  writeRaw(exchange, `${goJson(final('', promptDone))}\n`);
  exchange.res.end();
}
