/**
 * The emulator's `generateContent` and `streamGenerateContent`: the request read with Gemini's rules
 * (`gemini-conversation.ts`), answered by the shared planner (text, tool calls, JSON for a response schema,
 * thinking with a signature) in Gemini's shapes (`gemini-render.ts`), cut by `maxOutputTokens` and
 * `stopSequences`, usage counted with the real tokenizer, and the stream framed as the API frames it:
 * `data: {…}\r\n\r\n` with `alt=sse`, one JSON array without.
 */

import { isRecord, type Json } from '../spec/json.ts';
import { planReply } from './conversation.ts';
import {
  corruptBody,
  type Exchange,
  headerOf,
  nextRequestId,
  pace,
  sendJson,
  stallForever,
  wait,
  writeRaw,
} from './exchange.ts';
import { GeminiRequestError, type GeminiTurn, readGeminiTurn } from './gemini-conversation.ts';
import { renderAnswer } from './gemini-render.ts';
import {
  conversationOf,
  GEMINI_RESPONSE_HEADERS,
  googleError,
  promptTokensOf,
  sendGoogleError,
  usageMetadata,
} from './gemini-wire.ts';

/** How the answer goes out: one JSON body, SSE (`alt=sse`), or a streamed JSON array (no `alt`). */
export type GenerateMode = 'unary' | 'sse' | 'array';

const SAFETY_BLOCKED = [
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'HIGH', blocked: true },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'NEGLIGIBLE' },
];

const INTERNAL_MESSAGE =
  'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting';

/** A response id in the API's style (22 URL-safe characters), unique per answer. */
function responseIdOf(): string {
  return Buffer.from(nextRequestId('gemini-emulator')).toString('base64url').slice(-22);
}

function stopSequencesOf(config: Json): string[] {
  const stop = config.stopSequences;
  return Array.isArray(stop) ? stop.filter((item): item is string => typeof item === 'string') : [];
}

/** Answers `generateContent` (mode `unary`) or `streamGenerateContent` (`sse` or `array`). */
export async function generateContent(
  exchange: Exchange,
  body: Json,
  model: string,
  mode: GenerateMode,
): Promise<void> {
  const turns = conversationOf(body);
  if (!turns) {
    sendGoogleError(
      exchange,
      'INVALID_ARGUMENT',
      '* GenerateContentRequest.contents: contents is not specified\n',
    );
    return;
  }
  const promptTokens = promptTokensOf(turns, model);
  if (exchange.contextWindow !== undefined && promptTokens > exchange.contextWindow) {
    sendGoogleError(
      exchange,
      'INVALID_ARGUMENT',
      `The input token count (${promptTokens}) exceeds the maximum number of tokens allowed (${exchange.contextWindow}).`,
    );
    return;
  }
  let request: GeminiTurn;
  try {
    request = readGeminiTurn(body, model);
  } catch (error) {
    if (!(error instanceof GeminiRequestError)) throw error;
    sendGoogleError(
      exchange,
      'INVALID_ARGUMENT',
      error.message,
      error.details ? { details: error.details } : {},
    );
    return;
  }
  const config = isRecord(body.generationConfig) ? body.generationConfig : {};
  const maxTokens = typeof config.maxOutputTokens === 'number' ? config.maxOutputTokens : undefined;
  const plan = planReply(request.turn, headerOf(exchange, 'x-emulator-reply'));
  const answer = renderAnswer(plan, request, model, maxTokens, stopSequencesOf(config));
  const filtered = exchange.fault === 'content-filter';
  const common = { modelVersion: model, responseId: responseIdOf() };
  const candidateOf = (parts: Json[], last: boolean): Json => {
    const candidate: Json = { content: parts.length > 0 ? { parts, role: 'model' } : { role: 'model' } };
    if (last) {
      candidate.finishReason = answer.finishReason;
      if (answer.finishMessage) candidate.finishMessage = answer.finishMessage;
    }
    candidate.index = 0;
    return candidate;
  };
  const finalUsage = usageMetadata(promptTokens, answer.candidatesTokens, answer.thoughtsTokens);
  const blocked = {
    candidates: [{ finishReason: 'SAFETY', index: 0, safetyRatings: SAFETY_BLOCKED }],
    usageMetadata: usageMetadata(promptTokens),
    ...common,
  };
  await wait(exchange.timing.latencyMs);

  if (mode === 'unary') {
    const response = filtered
      ? blocked
      : { candidates: [candidateOf(answer.parts, true)], usageMetadata: finalUsage, ...common };
    const json = JSON.stringify(response);
    if (corruptBody(exchange, json, GEMINI_RESPONSE_HEADERS)) return;
    sendJson(exchange, 200, json, GEMINI_RESPONSE_HEADERS);
    return;
  }

  const frames = new Framing(exchange, mode);
  if (exchange.fault === 'malformed') {
    frames.broken();
    return;
  }
  await wait(exchange.timing.timeToFirstTokenMs);
  if (filtered) {
    frames.send(blocked);
    frames.end();
    return;
  }
  const { chunks } = answer;
  const gap = exchange.timing.tokensPerSecond > 0 ? 1000 / exchange.timing.tokensPerSecond : 0;
  // Every chunk but the last carries the prompt count only, as the API's do.
  const running = usageMetadata(promptTokens);
  for (let sent = 0; sent < chunks.length; sent++) {
    if (sent === 2 && exchange.fault === 'stall') return stallForever(exchange);
    if (sent === 2 && exchange.fault === 'stream-error') {
      frames.error(googleError('INTERNAL', INTERNAL_MESSAGE));
      return;
    }
    await pace(exchange, sent, gap);
    const last = sent === chunks.length - 1;
    const chunk = {
      candidates: [candidateOf(chunks[sent]!, last)],
      usageMetadata: last ? finalUsage : running,
      ...common,
    };
    if (!frames.send(chunk)) return;
  }
  frames.end();
}

/** Writes stream chunks in the mode's framing. */
class Framing {
  readonly #exchange: Exchange;
  readonly #mode: 'sse' | 'array';
  #count = 0;

  constructor(exchange: Exchange, mode: 'sse' | 'array') {
    this.#exchange = exchange;
    this.#mode = mode;
    const headers: Record<string, string> = { ...GEMINI_RESPONSE_HEADERS };
    if (mode === 'sse') {
      headers['content-type'] = 'text/event-stream';
      headers['content-disposition'] = 'attachment';
    }
    exchange.res.writeHead(200, headers);
    exchange.res.flushHeaders();
  }

  /** One chunk; false once the client has gone. */
  send(chunk: Json): boolean {
    const json = JSON.stringify(chunk);
    const text =
      this.#mode === 'sse' ? `data: ${json}\r\n\r\n` : `${this.#count === 0 ? '[' : '\n,\r\n'}${json}`;
    this.#count++;
    return writeRaw(this.#exchange, text);
  }

  /** A failure after output: the bare `google.rpc.Status` object the API sends, then the end. */
  error(status: Json): void {
    const json = JSON.stringify(status, null, 2);
    writeRaw(this.#exchange, this.#mode === 'sse' ? `${json}\n` : `\n,\r\n${json}\n]`);
    this.#exchange.res.end();
  }

  /** A first event cut in the middle of its JSON. */
  broken(): void {
    const start = '{"candidates": [{"content": {"parts": [{"text": "Hel';
    writeRaw(this.#exchange, this.#mode === 'sse' ? `data: ${start}\r\n\r\n` : `[${start}`);
    this.#exchange.res.end();
  }

  end(): void {
    if (this.#mode === 'array') writeRaw(this.#exchange, this.#count === 0 ? '[]' : '\n]');
    this.#exchange.res.end();
  }
}
