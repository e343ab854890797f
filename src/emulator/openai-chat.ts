/**
 * Chat Completions in the emulator (OpenAI's and Azure's paths): whole conversations — image and file
 * parts, the assistant's tool calls and the tool results that answer them, tools and `tool_choice`,
 * `response_format` (strict schemas checked as OpenAI checks them) and `reasoning_effort` — answered with
 * the shared planner, whole or streamed, with the rules and error messages of the real service.
 */
import { createHash } from 'node:crypto';
import type { Json } from '../spec/json.ts';
import { countOpenAIChatTokens, countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { jsonText, type Plan, planReply, type Turn } from './conversation.ts';
import {
  corruptBody,
  type Exchange,
  headerOf,
  pace,
  sendJson,
  stallForever,
  startSse,
  wait,
  writeRaw,
} from './exchange.ts';
import { contentText, RequestError, readTurn } from './openai-conversation.ts';
import { shapeReply, streamPieces } from './replies.ts';

export type Flavor = 'openai' | 'azure';

export function openaiError(
  message: string,
  type: string | null,
  code: string | null,
  param: string | null = null,
): Json {
  return { error: { message, type, param, code } };
}

function callId(turn: Turn, index: number): string {
  return `call_${createHash('sha256').update(`${turn.key}\0${index}`).digest('hex').slice(0, 24)}`;
}

/** An OpenAI-looking model returns no reasoning text; other models (compatible servers) do. */
const OPENAI_MODEL = /^(?:gpt-|o\d|chatgpt-|text-|ft:)/i;

export async function chat(
  exchange: Exchange,
  flavor: Flavor,
  body: Json,
  model: string,
  headers: Record<string, string>,
) {
  if (!Array.isArray(body.messages) || body.messages.length === 0) {
    sendJson(
      exchange,
      400,
      openaiError(
        "Missing required parameter: 'messages'.",
        'invalid_request_error',
        'missing_required_parameter',
        'messages',
      ),
      headers,
    );
    return;
  }
  let turn: Turn;
  try {
    turn = readTurn(body, model);
  } catch (error) {
    if (!(error instanceof RequestError)) throw error;
    sendJson(
      exchange,
      400,
      openaiError(error.message, 'invalid_request_error', error.code, error.param),
      headers,
    );
    return;
  }
  const textMessages = (body.messages as Json[]).map((message) => ({
    role: String(message.role),
    content:
      contentText(message.content) +
      (Array.isArray(message.tool_calls) ? JSON.stringify(message.tool_calls) : ''),
  }));
  const promptTokens = countOpenAIChatTokens(textMessages, model);
  if (exchange.contextWindow !== undefined && promptTokens > exchange.contextWindow) {
    sendJson(
      exchange,
      400,
      openaiError(
        `This model's maximum context length is ${exchange.contextWindow} tokens. However, your messages resulted in ${promptTokens} tokens. Please reduce the length of the messages.`,
        'invalid_request_error',
        'context_length_exceeded',
        'messages',
      ),
      headers,
    );
    return;
  }
  const plan = planReply(turn, headerOf(exchange, 'x-emulator-reply'));
  const stop =
    typeof body.stop === 'string' ? [body.stop] : Array.isArray(body.stop) ? (body.stop as string[]) : [];
  const maxTokens = (body.max_completion_tokens ?? body.max_tokens) as number | undefined;
  const reply = render(plan, turn, model, maxTokens, stop);
  if (exchange.fault === 'content-filter') {
    reply.finishReason = 'content_filter';
    reply.text = '';
    reply.toolCalls = [];
  }
  const reasoningText = plan.reasoning && !OPENAI_MODEL.test(model) ? plan.reasoning : undefined;
  const outputText = reply.text + reply.toolCalls.map((call) => call.function.arguments).join('');
  const completionTokens = countOpenAITokens(outputText, model);
  const reasoningTokens = plan.reasoning ? countOpenAITokens(plan.reasoning, model) : 0;
  const usage = {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens + reasoningTokens,
    total_tokens: promptTokens + completionTokens + reasoningTokens,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: {
      reasoning_tokens: reasoningTokens,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
  const id = `chatcmpl-emu${headers['x-request-id']!.replace(/^req_/, '')}`;
  const created = Math.floor(Date.now() / 1000);
  const filterResults =
    flavor === 'azure'
      ? {
          hate: { filtered: false, severity: 'safe' },
          self_harm: { filtered: false, severity: 'safe' },
          sexual: { filtered: false, severity: 'safe' },
          violence: { filtered: false, severity: 'safe' },
        }
      : undefined;
  await wait(exchange.timing.latencyMs);

  if (body.stream !== true) {
    const message: Json = {
      role: 'assistant',
      content: reply.toolCalls.length > 0 && reply.text === '' ? null : reply.text,
      refusal: null,
      annotations: [],
    };
    if (reply.toolCalls.length > 0) message.tool_calls = reply.toolCalls;
    if (reasoningText) message.reasoning_content = reasoningText;
    const completion: Json = {
      id,
      object: 'chat.completion',
      created,
      model,
      choices: [
        {
          index: 0,
          message,
          logprobs: null,
          finish_reason: reply.finishReason,
          ...(filterResults ? { content_filter_results: filterResults } : {}),
        },
      ],
      usage,
      service_tier: 'default',
      system_fingerprint: 'fp_emulator',
      ...(filterResults
        ? { prompt_filter_results: [{ prompt_index: 0, content_filter_results: filterResults }] }
        : {}),
    };
    const json = JSON.stringify(completion);
    if (corruptBody(exchange, json, headers)) return;
    return sendJson(exchange, 200, json, headers);
  }

  const includeUsage = (body.stream_options as Json | undefined)?.include_usage === true;
  const base = {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    service_tier: 'default',
    system_fingerprint: 'fp_emulator',
  };
  const chunk = (delta: Json, finishReason: string | null = null) =>
    `data: ${JSON.stringify({ ...base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }], ...(includeUsage ? { usage: null } : {}) })}\n\n`;
  startSse(exchange, headers);
  if (exchange.fault === 'malformed') {
    writeRaw(
      exchange,
      `data: {"id":"${id}","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel\n\n`,
    );
    exchange.res.end();
    return;
  }
  await wait(exchange.timing.timeToFirstTokenMs);
  writeRaw(
    exchange,
    chunk({ role: 'assistant', content: reply.toolCalls.length > 0 ? null : '', refusal: null }),
  );
  const deltas: Json[] = [];
  if (reasoningText)
    for (const piece of streamPieces(reasoningText)) deltas.push({ reasoning_content: piece });
  for (const piece of plan.kind === 'json' ? argumentPieces(reply.text) : streamPieces(reply.text)) {
    deltas.push({ content: piece });
  }
  reply.toolCalls.forEach((call, index) => {
    deltas.push({
      tool_calls: [
        { index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } },
      ],
    });
    for (const piece of argumentPieces(call.function.arguments)) {
      deltas.push({ tool_calls: [{ index, function: { arguments: piece } }] });
    }
  });
  const gap = exchange.timing.tokensPerSecond > 0 ? 1000 / exchange.timing.tokensPerSecond : 0;
  let sent = 0;
  for (const delta of deltas) {
    if (sent === 2 && exchange.fault === 'stall') return stallForever(exchange);
    if (sent === 2 && exchange.fault === 'stream-error') {
      writeRaw(
        exchange,
        `data: ${JSON.stringify(openaiError('The server had an error while processing your request. Sorry about that!', 'server_error', null))}\n\n`,
      );
      exchange.res.end();
      return;
    }
    await pace(exchange, sent, gap);
    if (!writeRaw(exchange, chunk(delta))) return;
    sent++;
  }
  writeRaw(exchange, chunk({}, reply.finishReason));
  if (includeUsage) writeRaw(exchange, `data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
  writeRaw(exchange, 'data: [DONE]\n\n');
  exchange.res.end();
}

interface WireToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
}

function render(
  plan: Plan,
  turn: Turn,
  model: string,
  maxTokens: number | undefined,
  stop: string[],
): { text: string; toolCalls: WireToolCall[]; finishReason: string } {
  if (plan.kind === 'tool-calls') {
    const toolCalls = plan.calls.map(
      (call, index): WireToolCall => ({
        id: callId(turn, index),
        type: 'function',
        function: { name: call.name, arguments: jsonText(call.arguments) },
      }),
    );
    return { text: '', toolCalls, finishReason: 'tool_calls' };
  }
  const source = plan.kind === 'json' ? jsonText(plan.value) : plan.text;
  const shaped = shapeReply(source, model, maxTokens, plan.kind === 'json' ? [] : stop);
  return { text: shaped.text, toolCalls: [], finishReason: shaped.finishReason };
}

/** Arguments in small pieces, cut anywhere, as OpenAI streams them. */
function argumentPieces(text: string): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += 7) pieces.push(text.slice(i, i + 7));
  return pieces;
}
