/**
 * Converse and ConverseStream in the emulator: whole conversations read by `bedrock-conversation.ts`
 * (refusing what Bedrock refuses, with its messages), answered by the shared planner in Bedrock's shapes —
 * `toolUse` blocks with `stopReason: tool_use`, native structured output as a JSON text block, reasoning as
 * `reasoningContent.reasoningText` signed for Claude — whole or as binary eventstream frames
 * (`bedrock-converse-stream.ts`).
 */
import { createHash } from 'node:crypto';
import type { Json } from '../spec/json.ts';
import { countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { ConverseRefusal, readConverse } from './bedrock-conversation.ts';
import { writeConverseStream } from './bedrock-converse-stream.ts';
import { sendAwsError } from './bedrock-exchange.ts';
import { jsonText, type Plan, planReply, signReasoning, type Turn } from './conversation.ts';
import { corruptBody, type Exchange, headerOf, sendJson, wait } from './exchange.ts';
import { shapeReply } from './replies.ts';

/** The text Bedrock Guardrails answer with when they block (its default blocked-input message). */
export const GUARDRAIL_TEXT = 'Sorry, the model cannot answer this question.';

/** A whole answer: its content blocks, stop reason and output text (for token counts). */
export interface RenderedReply {
  blocks: Json[];
  stopReason: string;
  outputText: string;
  /** The text is a JSON answer (streamed in small pieces cut anywhere, not word by word). */
  json?: boolean;
}

function toolUseId(turn: Turn, index: number): string {
  return `tooluse_${createHash('sha256').update(`${turn.key}\0${index}`).digest('base64url').slice(0, 22)}`;
}

function render(plan: Plan, turn: Turn, modelId: string, claude: boolean, config: Json): RenderedReply {
  const blocks: Json[] = [];
  if (plan.reasoning) {
    const reasoningText: Json = { text: plan.reasoning };
    if (claude) reasoningText.signature = signReasoning(plan.reasoning);
    blocks.push({ reasoningContent: { reasoningText } });
  }
  if (plan.kind === 'tool-calls') {
    plan.calls.forEach((call, index) => {
      blocks.push({ toolUse: { toolUseId: toolUseId(turn, index), name: call.name, input: call.arguments } });
    });
    return {
      blocks,
      stopReason: 'tool_use',
      outputText: plan.calls.map((call) => jsonText(call.arguments)).join(''),
    };
  }
  const maxTokens = typeof config.maxTokens === 'number' ? config.maxTokens : undefined;
  const stops = Array.isArray(config.stopSequences)
    ? config.stopSequences.filter((stop): stop is string => typeof stop === 'string')
    : [];
  const source = plan.kind === 'json' ? jsonText(plan.value) : plan.text;
  const reply = shapeReply(source, modelId, maxTokens, plan.kind === 'json' ? [] : stops);
  const stopReason =
    reply.finishReason === 'length'
      ? 'max_tokens'
      : plan.kind === 'text' && stops.some((stop) => stop && source.includes(stop))
        ? 'stop_sequence'
        : 'end_turn';
  if (reply.text) blocks.push({ text: reply.text });
  return { blocks, stopReason, outputText: reply.text, json: plan.kind === 'json' };
}

/** Answers Converse (`stream` false) or ConverseStream. */
export async function converse(
  exchange: Exchange,
  body: Json,
  modelId: string,
  requestId: string,
  stream: boolean,
): Promise<void> {
  let read: ReturnType<typeof readConverse>;
  try {
    read = readConverse(body, modelId);
  } catch (error) {
    if (!(error instanceof ConverseRefusal)) throw error;
    sendAwsError(exchange, 400, 'ValidationException', error.message, requestId);
    return;
  }
  const { turn, claude } = read;
  const promptTokens = countOpenAITokens(read.promptText, modelId);
  if (exchange.contextWindow !== undefined && promptTokens > exchange.contextWindow) {
    sendAwsError(exchange, 400, 'ValidationException', 'Input is too long for requested model.', requestId);
    return;
  }
  const config: Json =
    typeof body.inferenceConfig === 'object' && body.inferenceConfig !== null
      ? (body.inferenceConfig as Json)
      : {};
  const plan = planReply(turn, headerOf(exchange, 'x-emulator-reply'));
  let reply = render(plan, turn, modelId, claude, config);
  if (exchange.fault === 'content-filter') {
    reply = {
      blocks: [{ text: GUARDRAIL_TEXT }],
      stopReason: 'guardrail_intervened',
      outputText: GUARDRAIL_TEXT,
    };
  }
  const outputTokens = countOpenAITokens(reply.outputText + (plan.reasoning ?? ''), modelId);
  const usage = { inputTokens: promptTokens, outputTokens, totalTokens: promptTokens + outputTokens };
  const started = Date.now();
  await wait(exchange.timing.latencyMs);
  const headers = { 'x-amzn-requestid': requestId };

  if (!stream) {
    const json = JSON.stringify({
      output: { message: { role: 'assistant', content: reply.blocks } },
      stopReason: reply.stopReason,
      usage,
      metrics: { latencyMs: Date.now() - started },
    });
    if (corruptBody(exchange, json, headers)) return;
    sendJson(exchange, 200, json, headers);
    return;
  }
  await writeConverseStream(exchange, reply, usage, started, headers);
}
