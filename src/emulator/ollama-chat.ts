/**
 * The emulated Ollama's text endpoints: `/api/chat` (whole conversations: tools and tool results, images,
 * `format`, `think`, answered by the shared planner) and `/api/generate` (`prompt` in, `response` out).
 * Streams are NDJSON and are the default when `stream` is absent, as on the real server: thinking first,
 * then the text (a JSON answer in small pieces cut anywhere), then each tool call whole on its own line;
 * the last object carries `done_reason`, the counts and the durations in nanoseconds.
 */
import { createHash } from 'node:crypto';
import { isRecord, type Json } from '../spec/json.ts';
import { countOpenAIChatTokens, countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { jsonText, planReply, type Turn } from './conversation.ts';
import {
  corruptBody,
  type Exchange,
  headerOf,
  pace,
  sendJson,
  stallForever,
  wait,
  writeRaw,
} from './exchange.ts';
import { formatError, OllamaRequestError, readOllamaTurn } from './ollama-conversation.ts';
import { goJson, JSON_CONTENT_TYPE, modelInfo, sendOllamaError, sendOllamaJson } from './ollama-models.ts';
import { baseReply, shapeReply, streamPieces } from './replies.ts';

type Kind = 'chat' | 'generate';

/** What a model failing mid-answer says (Ollama's own wording). */
export const OLLAMA_RUN_ERROR = 'an error was encountered while running the model';
/** What a prompt longer than the context gets (Ollama's own wording, as for `truncate: false`). */
export const OLLAMA_CONTEXT_ERROR = 'the input length exceeds the context length';

/** What the model says, before it is framed as one object or a stream of lines. */
interface Answer {
  thinking: string;
  content: string;
  /** A JSON answer streams in pieces cut anywhere; text streams word by word. */
  json: boolean;
  toolCalls: Json[];
  doneReason: string;
}

/** The conversation as text, for counting (and, for `/api/generate`, the prompt as one user turn). */
function textMessages(kind: Kind, body: Json): Array<{ role: string; content: string }> {
  if (kind === 'generate') {
    const messages: Array<{ role: string; content: string }> = [];
    if (typeof body.system === 'string' && body.system)
      messages.push({ role: 'system', content: body.system });
    if (typeof body.prompt === 'string' && body.prompt) messages.push({ role: 'user', content: body.prompt });
    return messages;
  }
  if (!Array.isArray(body.messages)) return [];
  return body.messages.filter(isRecord).map((message) => ({
    role: String(message.role),
    content:
      (typeof message.content === 'string' ? message.content : '') +
      (Array.isArray(message.tool_calls) ? JSON.stringify(message.tool_calls) : ''),
  }));
}

/** An id as current servers give one: `call_` and 8 characters (derived, so replies are reproducible). */
function callId(turn: Turn, index: number): string {
  return `call_${createHash('sha256').update(`${turn.key}\0${index}`).digest('hex').slice(0, 8)}`;
}

function chatAnswer(
  exchange: Exchange,
  turn: Turn,
  model: string,
  limit: number | undefined,
  stop: string[],
): Answer {
  const plan = planReply(turn, headerOf(exchange, 'x-emulator-reply'));
  const thinking = plan.reasoning ?? '';
  if (plan.kind === 'tool-calls') {
    const toolCalls = plan.calls.map((call, index) => ({
      id: callId(turn, index),
      function: { index, name: call.name, arguments: call.arguments },
    }));
    return { thinking, content: '', json: false, toolCalls, doneReason: 'stop' };
  }
  const json = plan.kind === 'json';
  const shaped = shapeReply(json ? jsonText(plan.value) : plan.text, model, limit, json ? [] : stop);
  return { thinking, content: shaped.text, json, toolCalls: [], doneReason: shaped.finishReason };
}

const nanoseconds = (from: bigint, to: bigint) => Number(to - from);

/** Answers `/api/chat` or `/api/generate` for `model` (already checked to be served). */
export async function ollamaCompletion(exchange: Exchange, kind: Kind, body: Json, model: string) {
  const started = process.hrtime.bigint();
  const stream = body.stream !== false;
  const messages = textMessages(kind, body);
  const createdAt = () => new Date().toISOString();
  const output = (content: string, extra: Json = {}): Json =>
    kind === 'chat'
      ? { message: { role: 'assistant', content, ...extra } }
      : { response: content, ...(extra.thinking ? { thinking: extra.thinking } : {}) };

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
  let turn: Turn | undefined;
  try {
    if (kind === 'chat') turn = readOllamaTurn(body, model);
  } catch (error) {
    if (!(error instanceof OllamaRequestError)) throw error;
    return sendOllamaError(exchange, error.status, error.message);
  }
  const tools = Array.isArray(body.tools) && body.tools.length > 0 ? JSON.stringify(body.tools) : '';
  const promptTokens = countOpenAIChatTokens(messages, model) + (tools ? countOpenAITokens(tools, model) : 0);
  if (exchange.contextWindow !== undefined && promptTokens > exchange.contextWindow) {
    return sendOllamaError(exchange, 400, OLLAMA_CONTEXT_ERROR);
  }

  const options = isRecord(body.options) ? body.options : {};
  const stop = (
    typeof options.stop === 'string' ? [options.stop] : Array.isArray(options.stop) ? options.stop : []
  ).filter((sequence): sequence is string => typeof sequence === 'string');
  // num_predict -1 (no limit) and -2 (fill the context) are no limit here.
  const limit =
    typeof options.num_predict === 'number' && options.num_predict > 0 ? options.num_predict : undefined;
  let answer: Answer;
  if (turn) answer = chatAnswer(exchange, turn, model, limit, stop);
  else {
    const lastUser = messages.findLast((message) => message.role === 'user')?.content ?? '';
    const forced = headerOf(exchange, 'x-emulator-reply');
    const reply = forced ?? baseReply(JSON.stringify([model, messages]), lastUser);
    const shaped = shapeReply(reply, model, limit, stop);
    answer = {
      thinking: '',
      content: shaped.text,
      json: false,
      toolCalls: [],
      doneReason: shaped.finishReason,
    };
  }
  // Ollama has no content filter: a filtered answer is modelled as what a refusing model gives, an empty
  // message that stopped normally.
  if (exchange.fault === 'content-filter') {
    answer = { thinking: '', content: '', json: false, toolCalls: [], doneReason: 'stop' };
  }
  const invalidFormat = formatError(body.format);
  const outputTokens = countOpenAITokens(
    answer.thinking + answer.content + (answer.toolCalls.length > 0 ? JSON.stringify(answer.toolCalls) : ''),
    model,
  );

  await wait(exchange.timing.latencyMs);
  const loaded = process.hrtime.bigint();
  const final = (content: string, extra: Json, promptDone: bigint): Json => {
    const ended = process.hrtime.bigint();
    return {
      model,
      created_at: createdAt(),
      ...output(content, extra),
      done_reason: answer.doneReason,
      done: true,
      total_duration: nanoseconds(started, ended),
      load_duration: nanoseconds(started, loaded),
      prompt_eval_count: promptTokens,
      prompt_eval_duration: nanoseconds(loaded, promptDone),
      eval_count: outputTokens,
      eval_duration: nanoseconds(promptDone, ended),
    };
  };

  if (!stream) {
    // The model checks `format` when it starts: a failure there is the handler's 500.
    if (invalidFormat) return sendOllamaError(exchange, 500, invalidFormat);
    const extra: Json = {};
    if (answer.thinking) extra.thinking = answer.thinking;
    if (answer.toolCalls.length > 0) extra.tool_calls = answer.toolCalls;
    const json = goJson(final(answer.content, extra, process.hrtime.bigint()));
    const headers = { 'content-type': JSON_CONTENT_TYPE };
    if (corruptBody(exchange, json, headers)) return;
    return sendJson(exchange, 200, json, headers);
  }

  exchange.res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  exchange.res.flushHeaders();
  if (invalidFormat) {
    writeRaw(exchange, `${goJson({ error: invalidFormat })}\n`);
    exchange.res.end();
    return;
  }
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
  const lines: Json[] = [];
  for (const piece of streamPieces(answer.thinking)) lines.push(output('', { thinking: piece }));
  for (const piece of answer.json ? jsonPieces(answer.content) : streamPieces(answer.content)) {
    lines.push(output(piece));
  }
  for (const call of answer.toolCalls) lines.push(output('', { tool_calls: [call] }));
  const gap = exchange.timing.tokensPerSecond > 0 ? 1000 / exchange.timing.tokensPerSecond : 0;
  let sent = 0;
  for (const line of lines) {
    if (sent === 2 && exchange.fault === 'stall') return stallForever(exchange);
    if (sent === 2 && exchange.fault === 'stream-error') {
      writeRaw(exchange, `${goJson({ error: OLLAMA_RUN_ERROR })}\n`);
      exchange.res.end();
      return;
    }
    await pace(exchange, sent, gap);
    if (!writeRaw(exchange, `${goJson({ model, created_at: createdAt(), ...line, done: false })}\n`)) return;
    sent++;
  }
  writeRaw(exchange, `${goJson(final('', {}, promptDone))}\n`);
  exchange.res.end();
}

/** A JSON answer in small pieces cut anywhere, as a grammar-constrained model emits it. */
function jsonPieces(text: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 5) pieces.push(text.slice(i, i + 5));
  return pieces;
}
