/**
 * The Anthropic emulator's answers to a valid `POST /v1/messages`: the planner's reply in the Messages
 * API's shapes — a `thinking` block signed with the emulator's HMAC when thinking is on, then text, a JSON
 * answer as a text block (`output_config.format`'s native form), or `tool_use` blocks (with
 * `caller: {type: 'direct'}`, as the API now sends) — as one JSON message or as the real SSE sequence
 * (message_start, content_block_start, ping, content_block_delta…, content_block_stop, message_delta with
 * usage, message_stop), with the faults that corrupt or cut a 200 (malformed, stall, stream-error) and the
 * refusal of content-filter.
 */
import { createHash } from 'node:crypto';
import type { Json } from '../spec/json.ts';
import { countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { blocksText } from './anthropic-conversation.ts';
import { jsonText, type Plan, signReasoning, type Turn } from './conversation.ts';
import { corruptBody, type Exchange, pace, stallForever, startSse, wait, writeRaw } from './exchange.ts';
import { shapeReply, streamPieces } from './replies.ts';

/** What the emulated model says when the content-filter fault asks it to refuse. */
export const ANTHROPIC_REFUSAL_TEXT =
  'I can’t help with that request. (The llm-factory emulator refused it because the content-filter fault was injected.)';

/** A conversation as the emulator counts it: plain text per turn, and the tools' definitions. */
export interface EmulatedConversation {
  model: string;
  system: string;
  messages: Array<{ role: string; text: string }>;
  tools: string;
}

/** The conversation of a validated body: `system` (and any system turns) joined, the rest as turns. */
export function emulatedConversation(model: string, body: Json): EmulatedConversation {
  const system = [blocksText(body.system)].filter(Boolean);
  const messages: EmulatedConversation['messages'] = [];
  for (const message of body.messages as Json[]) {
    const text = blocksText(message.content);
    if (message.role === 'system') system.push(text);
    else messages.push({ role: String(message.role), text });
  }
  const tools = Array.isArray(body.tools) && body.tools.length > 0 ? JSON.stringify(body.tools) : '';
  return { model, system: system.join('\n\n'), messages, tools };
}

/**
 * Prompt tokens as the emulator counts them (its tokenizer is OpenAI's): the system text, the tools, and
 * each turn's text plus 3 tokens of framing. `count_tokens` and `usage.input_tokens` agree by construction.
 */
export function anthropicPromptTokens(conversation: EmulatedConversation): number {
  let total = countOpenAITokens(conversation.system + conversation.tools, conversation.model);
  for (const message of conversation.messages)
    total += 3 + countOpenAITokens(message.text, conversation.model);
  return total;
}

type Block = Json;

interface Answer {
  blocks: Block[];
  stopReason: 'end_turn' | 'max_tokens' | 'stop_sequence' | 'refusal' | 'tool_use';
  stopSequence: string | null;
  outputTokens: number;
}

function toolUseId(turn: Turn, index: number): string {
  return `toolu_emu${createHash('sha256').update(`${turn.key}\0${index}`).digest('hex').slice(0, 20)}`;
}

function answer(exchange: Exchange, plan: Plan, turn: Turn, model: string, body: Json): Answer {
  if (exchange.fault === 'content-filter') {
    const text = ANTHROPIC_REFUSAL_TEXT;
    return {
      blocks: [{ type: 'text', text }],
      stopReason: 'refusal',
      stopSequence: null,
      outputTokens: countOpenAITokens(text, model),
    };
  }
  const blocks: Block[] = [];
  let outputTokens = 0;
  if (plan.reasoning) {
    blocks.push({ type: 'thinking', thinking: plan.reasoning, signature: signReasoning(plan.reasoning) });
    outputTokens += countOpenAITokens(plan.reasoning, model);
  }
  if (plan.kind === 'tool-calls') {
    plan.calls.forEach((call, index) => {
      blocks.push({
        type: 'tool_use',
        id: toolUseId(turn, index),
        name: call.name,
        input: call.arguments,
        caller: { type: 'direct' },
      });
      outputTokens += countOpenAITokens(jsonText(call.arguments), model);
    });
    return { blocks, stopReason: 'tool_use', stopSequence: null, outputTokens };
  }
  const text = plan.kind === 'json' ? jsonText(plan.value) : plan.text;
  const stops =
    plan.kind === 'json' || !Array.isArray(body.stop_sequences)
      ? []
      : body.stop_sequences.filter((stop): stop is string => typeof stop === 'string' && stop.length > 0);
  // Thinking counts inside max_tokens.
  const room = Math.max(1, (body.max_tokens as number) - outputTokens);
  const shaped = shapeReply(text, model, room, stops);
  let stopReason: Answer['stopReason'] = shaped.finishReason === 'length' ? 'max_tokens' : 'end_turn';
  let stopSequence: string | null = null;
  if (stopReason === 'end_turn') {
    let at = Number.POSITIVE_INFINITY;
    for (const stop of stops) {
      const found = text.indexOf(stop);
      if (found !== -1 && found < at) {
        at = found;
        stopSequence = stop;
      }
    }
    if (stopSequence) stopReason = 'stop_sequence';
  }
  if (shaped.text) blocks.push({ type: 'text', text: shaped.text });
  outputTokens += countOpenAITokens(shaped.text, model);
  return { blocks, stopReason, stopSequence, outputTokens };
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

/** A block's start (its empty form) and its deltas, in the order the API streams them. */
function streamedBlock(block: Block): { start: Block; deltas: Json[] } {
  if (block.type === 'thinking') {
    const deltas: Json[] = streamPieces(String(block.thinking)).map((piece) => ({
      type: 'thinking_delta',
      thinking: piece,
    }));
    deltas.push({ type: 'signature_delta', signature: block.signature });
    return { start: { type: 'thinking', thinking: '', signature: '' }, deltas };
  }
  if (block.type === 'tool_use') {
    const args = jsonText(block.input);
    const deltas: Json[] = [{ type: 'input_json_delta', partial_json: '' }];
    for (let i = 0; i < args.length; i += 7)
      deltas.push({ type: 'input_json_delta', partial_json: args.slice(i, i + 7) });
    return { start: { ...block, input: {} }, deltas };
  }
  const deltas = streamPieces(String(block.text)).map((piece) => ({ type: 'text_delta', text: piece }));
  return { start: { type: 'text', text: '' }, deltas };
}

/** Writes the message (JSON, or SSE when `stream: true`) after the latency the exchange asks for. */
export async function sendAnthropicMessage(
  exchange: Exchange,
  plan: Plan,
  turn: Turn,
  body: Json,
  headers: Record<string, string>,
  inputTokens: number,
): Promise<void> {
  const model = body.model as string;
  const answered = answer(exchange, plan, turn, model, body);
  const id = `msg_emu${headers['request-id']!.replace(/^req_/, '')}`;
  await wait(exchange.timing.latencyMs);

  if (body.stream !== true) {
    const message = {
      model,
      id,
      type: 'message',
      role: 'assistant',
      content: answered.blocks,
      stop_reason: answered.stopReason,
      stop_sequence: answered.stopSequence,
      usage: usageOf(inputTokens, answered.outputTokens),
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
  const gap = exchange.timing.tokensPerSecond > 0 ? 1000 / exchange.timing.tokensPerSecond : 0;
  let sent = 0;
  for (const [index, block] of answered.blocks.entries()) {
    const { start: empty, deltas } = streamedBlock(block);
    writeRaw(exchange, sseEvent('content_block_start', { index, content_block: empty }));
    if (index === 0) writeRaw(exchange, sseEvent('ping', {}));
    for (const delta of deltas) {
      if (sent === 2 && (await interrupted(exchange, headers))) return;
      await pace(exchange, sent, gap);
      if (!writeRaw(exchange, sseEvent('content_block_delta', { index, delta }))) return;
      sent++;
    }
    writeRaw(exchange, sseEvent('content_block_stop', { index }));
  }
  if (answered.blocks.length === 0) writeRaw(exchange, sseEvent('ping', {}));
  // A reply too short to reach two pieces still suffers the fault, at its end.
  if (sent < 2 && (await interrupted(exchange, headers))) return;
  writeRaw(
    exchange,
    sseEvent('message_delta', {
      delta: { stop_reason: answered.stopReason, stop_sequence: answered.stopSequence },
      usage: {
        input_tokens: inputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: answered.outputTokens,
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
