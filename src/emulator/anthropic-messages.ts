/**
 * The Anthropic emulator's answers to a valid `POST /v1/messages`: the deterministic reply in the Messages
 * API's shape, as one JSON message or as the real SSE sequence (message_start, content_block_start, ping,
 * content_block_delta…, content_block_stop, message_delta with usage, message_stop), with the faults
 * that corrupt or cut a 200 (malformed, stall, stream-error) and the refusal of content-filter.
 */

import type { Json } from '../spec/json.ts';
import { countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { corruptBody, type Exchange, stallForever, startSse, wait, writeRaw } from './exchange.ts';
import { baseReply, shapeReply, streamPieces } from './replies.ts';

/** What the emulated model says when the content-filter fault asks it to refuse. */
export const ANTHROPIC_REFUSAL_TEXT =
  'I can’t help with that request. (The llm-factory emulator refused it because the content-filter fault was injected.)';

/** A conversation as the emulator reads it: plain text per turn. */
export interface EmulatedConversation {
  model: string;
  system: string;
  messages: Array<{ role: string; text: string }>;
}

/** Text of a `content` field: a string, or the text of its blocks (tool results' text included). */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const block of content) {
    if (typeof block !== 'object' || block === null) continue;
    const value = block as Json;
    if (typeof value.text === 'string') text += value.text;
    else if (value.type === 'tool_result') text += contentText(value.content);
  }
  return text;
}

/** The conversation of a validated body: `system` (and any system turns) joined, the rest as turns. */
export function emulatedConversation(model: string, body: Json): EmulatedConversation {
  const system = [contentText(body.system)].filter(Boolean);
  const messages: EmulatedConversation['messages'] = [];
  for (const message of body.messages as Json[]) {
    const text = contentText(message.content);
    if (message.role === 'system') system.push(text);
    else messages.push({ role: String(message.role), text });
  }
  return { model, system: system.join('\n\n'), messages };
}

/**
 * Prompt tokens as the emulator counts them (its tokenizer is OpenAI's): the system text, and each turn's
 * text plus 3 tokens of framing. `count_tokens` and `usage.input_tokens` agree by construction.
 */
export function anthropicPromptTokens(conversation: EmulatedConversation): number {
  let total = countOpenAITokens(conversation.system, conversation.model);
  for (const message of conversation.messages)
    total += 3 + countOpenAITokens(message.text, conversation.model);
  return total;
}

interface ShapedAnswer {
  text: string;
  stopReason: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'refusal';
  stopSequence: string | null;
}

function answer(exchange: Exchange, conversation: EmulatedConversation, body: Json): ShapedAnswer {
  if (exchange.fault === 'content-filter') {
    return { text: ANTHROPIC_REFUSAL_TEXT, stopReason: 'refusal', stopSequence: null };
  }
  const lastUser = conversation.messages.findLast((message) => message.role === 'user')?.text ?? '';
  const forced = exchange.req.headers['x-emulator-reply'];
  const text =
    typeof forced === 'string'
      ? forced
      : baseReply(JSON.stringify([conversation.model, conversation.system, conversation.messages]), lastUser);
  const stops = Array.isArray(body.stop_sequences)
    ? body.stop_sequences.filter((stop): stop is string => typeof stop === 'string' && stop.length > 0)
    : [];
  const shaped = shapeReply(text, conversation.model, body.max_tokens as number, stops);
  if (shaped.finishReason === 'length') {
    return { text: shaped.text, stopReason: 'max_tokens', stopSequence: null };
  }
  let matched: string | null = null;
  let at = Number.POSITIVE_INFINITY;
  for (const stop of stops) {
    const found = text.indexOf(stop);
    if (found !== -1 && found < at) {
      at = found;
      matched = stop;
    }
  }
  return { text: shaped.text, stopReason: matched ? 'stop_sequence' : 'end_turn', stopSequence: matched };
}

function usageOf(inputTokens: number, outputTokens: number): Json {
  return {
    input_tokens: inputTokens,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation: { ephemeral_5m_input_tokens: 0, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

const sseEvent = (type: string, payload: Json): string =>
  `event: ${type}\ndata: ${JSON.stringify({ type, ...payload })}\n\n`;

/** Writes the message (JSON, or SSE when `stream: true`) after the latency the exchange asks for. */
export async function sendAnthropicMessage(
  exchange: Exchange,
  conversation: EmulatedConversation,
  body: Json,
  headers: Record<string, string>,
  inputTokens: number,
): Promise<void> {
  const { model } = conversation;
  const shaped = answer(exchange, conversation, body);
  const outputTokens = countOpenAITokens(shaped.text, model);
  const id = `msg_emu${headers['request-id']!.replace(/^req_/, '')}`;
  await wait(exchange.timing.latencyMs);

  if (body.stream !== true) {
    const message = {
      model,
      id,
      type: 'message',
      role: 'assistant',
      content: shaped.text ? [{ type: 'text', text: shaped.text }] : [],
      stop_reason: shaped.stopReason,
      stop_sequence: shaped.stopSequence,
      usage: usageOf(inputTokens, outputTokens),
    };
    const json = JSON.stringify(message);
    if (corruptBody(exchange, json, headers)) return;
    exchange.res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(json),
      ...headers,
    });
    exchange.res.end(json);
    return;
  }

  startSse(exchange, { ...headers, 'content-type': 'text/event-stream; charset=utf-8' });
  if (exchange.fault === 'malformed') {
    writeRaw(
      exchange,
      `event: message_start\ndata: {"type":"message_start","message":{"model":"${model}","id":"${id}","type":"mess\n\n`,
    );
    exchange.res.end();
    return;
  }
  const start = {
    model,
    id,
    type: 'message',
    role: 'assistant',
    content: [],
    stop_reason: null,
    stop_sequence: null,
    usage: usageOf(inputTokens, 1),
  };
  writeRaw(exchange, sseEvent('message_start', { message: start }));
  await wait(exchange.timing.timeToFirstTokenMs);
  const pieces = streamPieces(shaped.text);
  if (pieces.length > 0) {
    writeRaw(
      exchange,
      sseEvent('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
    );
  }
  writeRaw(exchange, sseEvent('ping', {}));
  const gap = exchange.timing.tokensPerSecond > 0 ? 1000 / exchange.timing.tokensPerSecond : 0;
  let sent = 0;
  for (const piece of pieces) {
    if (sent === 2 && (await interrupted(exchange, headers))) return;
    if (sent > 0 && gap > 0) await wait(gap);
    const delta = { index: 0, delta: { type: 'text_delta', text: piece } };
    if (!writeRaw(exchange, sseEvent('content_block_delta', delta))) return;
    sent++;
  }
  // A reply too short to reach two pieces still suffers the fault, at its end.
  if (sent < 2 && (await interrupted(exchange, headers))) return;
  if (pieces.length > 0) writeRaw(exchange, sseEvent('content_block_stop', { index: 0 }));
  writeRaw(
    exchange,
    sseEvent('message_delta', {
      delta: { stop_reason: shaped.stopReason, stop_sequence: shaped.stopSequence },
      usage: {
        input_tokens: inputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: outputTokens,
      },
    }),
  );
  writeRaw(exchange, sseEvent('message_stop', {}));
  exchange.res.end();
}

/** The mid-stream faults: silence forever (stall), or Anthropic's own `event: error` (stream-error). */
async function interrupted(exchange: Exchange, headers: Record<string, string>): Promise<boolean> {
  if (exchange.fault === 'stall') {
    await stallForever(exchange);
    return true;
  }
  if (exchange.fault !== 'stream-error') return false;
  writeRaw(
    exchange,
    `event: error\ndata: ${JSON.stringify({
      type: 'error',
      error: { details: null, type: 'overloaded_error', message: 'Overloaded' },
      request_id: headers['request-id'],
    })}\n\n`,
  );
  exchange.res.end();
  return true;
}
