/**
 * Converse and ConverseStream in the emulator: deterministic replies in Bedrock's shapes, the stream as
 * real binary eventstream frames (encoded with `@smithy/eventstream-codec`): messageStart,
 * contentBlockDelta × n, contentBlockStop, messageStop, metadata. Each frame body carries a `p` padding
 * field, as Bedrock's do.
 */
import { createEventStreamCodec } from '../http/eventstream.ts';
import type { Json } from '../spec/json.ts';
import { countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { sendAwsError, writeBytes } from './bedrock-exchange.ts';
import { corruptBody, type Exchange, headerOf, sendJson, stallForever, wait } from './exchange.ts';
import { baseReply, shapeReply, streamPieces } from './replies.ts';

const codec = createEventStreamCodec();
const utf8 = new TextEncoder();
const PADDING = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
/** The text Bedrock Guardrails answer with when they block (its default blocked-input message). */
export const GUARDRAIL_TEXT = 'Sorry, the model cannot answer this question.';

const stringHeader = (value: string) => ({ type: 'string' as const, value });

/** One `:message-type event` frame. */
export function eventFrame(eventType: string, payload: Json): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': stringHeader(eventType),
      ':content-type': stringHeader('application/json'),
      ':message-type': stringHeader('event'),
    },
    body: utf8.encode(JSON.stringify(payload)),
  });
}

/** One `:message-type exception` frame (a modeled error inside the stream). */
export function exceptionFrame(exceptionType: string, payload: Json): Uint8Array {
  return codec.encode({
    headers: {
      ':exception-type': stringHeader(exceptionType),
      ':content-type': stringHeader('application/json'),
      ':message-type': stringHeader('exception'),
    },
    body: utf8.encode(JSON.stringify(payload)),
  });
}

/** A deterministic padding field whose length varies with the event, like Bedrock's. */
const padded = (payload: Json, seed: number): Json => ({ ...payload, p: PADDING.slice(0, 8 + (seed % 50)) });

interface Turn {
  role: string;
  text: string;
}

/** The text of a content block list: text blocks, tool results, tool inputs. */
function textOf(content: unknown): string {
  if (!Array.isArray(content)) return '';
  const parts: string[] = [];
  for (const block of content) {
    if (typeof block !== 'object' || block === null) continue;
    const b = block as Json;
    if (typeof b.text === 'string') parts.push(b.text);
    else if (typeof b.toolResult === 'object' && b.toolResult !== null)
      parts.push(textOf((b.toolResult as Json).content));
    else if (typeof b.toolUse === 'object' && b.toolUse !== null)
      parts.push(JSON.stringify((b.toolUse as Json).input ?? {}));
  }
  return parts.join('\n');
}

/** Answers Converse (`stream` false) or ConverseStream. */
export async function converse(
  exchange: Exchange,
  body: Json,
  modelId: string,
  requestId: string,
  stream: boolean,
): Promise<void> {
  const messages = Array.isArray(body.messages) ? (body.messages as Json[]) : [];
  if (messages.length === 0 || messages[0]?.role !== 'user') {
    sendAwsError(
      exchange,
      400,
      'ValidationException',
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
      requestId,
    );
    return;
  }
  const turns: Turn[] = messages.map((message) => ({
    role: String(message.role),
    text: textOf(message.content),
  }));
  const system = textOf(body.system);
  let promptTokens = system ? countOpenAITokens(system, modelId) : 0;
  for (const turn of turns) promptTokens += countOpenAITokens(turn.text, modelId);
  if (exchange.contextWindow !== undefined && promptTokens > exchange.contextWindow) {
    sendAwsError(exchange, 400, 'ValidationException', 'Input is too long for requested model.', requestId);
    return;
  }

  const config: Json =
    typeof body.inferenceConfig === 'object' && body.inferenceConfig !== null
      ? (body.inferenceConfig as Json)
      : {};
  const maxTokens = typeof config.maxTokens === 'number' ? config.maxTokens : undefined;
  const stops = Array.isArray(config.stopSequences)
    ? config.stopSequences.filter((stop): stop is string => typeof stop === 'string')
    : [];
  const lastUser = [...turns].reverse().find((turn) => turn.role === 'user')?.text ?? '';
  const source =
    headerOf(exchange, 'x-emulator-reply') ?? baseReply(JSON.stringify([modelId, system, turns]), lastUser);
  const reply = shapeReply(source, modelId, maxTokens, stops);
  let text = reply.text;
  let stopReason =
    reply.finishReason === 'length'
      ? 'max_tokens'
      : stops.some((stop) => stop && source.includes(stop))
        ? 'stop_sequence'
        : 'end_turn';
  if (exchange.fault === 'content-filter') {
    text = GUARDRAIL_TEXT;
    stopReason = 'guardrail_intervened';
  }
  const outputTokens = countOpenAITokens(text, modelId);
  const usage = { inputTokens: promptTokens, outputTokens, totalTokens: promptTokens + outputTokens };
  const started = Date.now();
  await wait(exchange.timing.latencyMs);
  const headers = { 'x-amzn-requestid': requestId };

  if (!stream) {
    const json = JSON.stringify({
      output: { message: { role: 'assistant', content: [{ text }] } },
      stopReason,
      usage,
      metrics: { latencyMs: Date.now() - started },
    });
    if (corruptBody(exchange, json, headers)) return;
    sendJson(exchange, 200, json, headers);
    return;
  }

  exchange.res.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', ...headers });
  exchange.res.flushHeaders();
  if (exchange.fault === 'malformed') {
    // The first frame arrives with its message CRC broken.
    const frame = eventFrame('messageStart', padded({ role: 'assistant' }, 0));
    frame[frame.length - 1]! ^= 0xff;
    writeBytes(exchange, frame);
    exchange.res.end();
    return;
  }
  await wait(exchange.timing.timeToFirstTokenMs);
  writeBytes(exchange, eventFrame('messageStart', padded({ role: 'assistant' }, 0)));
  const gap = exchange.timing.tokensPerSecond > 0 ? 1000 / exchange.timing.tokensPerSecond : 0;
  let sent = 0;
  for (const piece of streamPieces(text)) {
    if (sent === 2 && exchange.fault === 'stall') return stallForever(exchange);
    if (sent === 2 && exchange.fault === 'stream-error') {
      writeBytes(
        exchange,
        exceptionFrame('modelStreamErrorException', {
          message: 'The model stream failed: the emulator injected a stream-error fault.',
          originalStatusCode: 500,
          originalMessage: 'Internal server error',
        }),
      );
      exchange.res.end();
      return;
    }
    if (sent > 0 && gap > 0) await wait(gap);
    const delta = padded({ contentBlockIndex: 0, delta: { text: piece } }, piece.length + sent);
    if (!writeBytes(exchange, eventFrame('contentBlockDelta', delta))) return;
    sent++;
  }
  writeBytes(exchange, eventFrame('contentBlockStop', padded({ contentBlockIndex: 0 }, 1)));
  writeBytes(exchange, eventFrame('messageStop', padded({ stopReason }, 2)));
  writeBytes(
    exchange,
    eventFrame('metadata', padded({ usage, metrics: { latencyMs: Date.now() - started } }, 3)),
  );
  exchange.res.end();
}
