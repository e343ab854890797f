/**
 * The planner's answer in Gemini's shapes, whole and chunk by chunk, as the real service sends them:
 * thought summaries as `thought: true` parts (when `includeThoughts` asked for them); text, or JSON text for
 * a response schema, with the thought signature on the text part (in a stream, on a trailing empty text
 * part, as Gemini 3 does); function calls one part each, whole, the first carrying the signature, with ids
 * on Gemini 3, then STOP with "Model generated function call(s)." (a stream ends with an empty text part).
 */
import { createHash } from 'node:crypto';
import type { Json } from '../spec/json.ts';
import { countOpenAITokens } from '../tokens/openai-tokenizer.ts';
import { jsonText, type Plan } from './conversation.ts';
import { type GeminiTurn, thoughtSignature } from './gemini-conversation.ts';
import { shapeReply, streamPieces } from './replies.ts';

export interface RenderedAnswer {
  /** The candidate's parts, whole. */
  parts: Json[];
  /** The same answer chunk by chunk (each the parts of one streamed response; never empty). */
  chunks: Json[][];
  finishReason: 'STOP' | 'MAX_TOKENS';
  finishMessage?: string;
  candidatesTokens: number;
  thoughtsTokens: number;
}

/** Text in small pieces, cut anywhere (JSON has no words to split on). */
function slices(text: string, size = 8): string[] {
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

function callId(key: string, index: number): string {
  return `call_${createHash('sha256').update(`${key}\0${index}`).digest('hex').slice(0, 8)}`;
}

export function renderAnswer(
  plan: Plan,
  request: GeminiTurn,
  model: string,
  maxTokens: number | undefined,
  stop: string[],
): RenderedAnswer {
  const reasoning = plan.reasoning;
  const signature = reasoning === undefined ? undefined : thoughtSignature(reasoning);
  const thoughtsTokens = reasoning === undefined ? 0 : countOpenAITokens(reasoning, model);
  const showThoughts = request.includeThoughts && reasoning !== undefined;
  const thoughtParts: Json[] = showThoughts ? [{ text: reasoning, thought: true }] : [];
  const thoughtChunks: Json[][] = showThoughts
    ? streamPieces(reasoning).map((piece) => [{ text: piece, thought: true }])
    : [];

  if (plan.kind === 'tool-calls') {
    const calls = plan.calls.map((call, index) => {
      const functionCall: Json = { name: call.name, args: call.arguments };
      if (request.gemini3) functionCall.id = callId(request.turn.key, index);
      const part: Json = { functionCall };
      if (index === 0 && signature) part.thoughtSignature = signature;
      return part;
    });
    return {
      parts: [...thoughtParts, ...calls],
      chunks: [...thoughtChunks, ...calls.map((part) => [part]), [{ text: '' }]],
      finishReason: 'STOP',
      finishMessage: 'Model generated function call(s).',
      candidatesTokens: countOpenAITokens(
        plan.calls.map((call) => call.name + jsonText(call.arguments)).join(''),
        model,
      ),
      thoughtsTokens,
    };
  }
  const json = plan.kind === 'json';
  const shaped = shapeReply(json ? jsonText(plan.value) : plan.text, model, maxTokens, json ? [] : stop);
  const text = shaped.text;
  const textPart: Json = signature ? { text, thoughtSignature: signature } : { text };
  const chunks: Json[][] = [
    ...thoughtChunks,
    ...(json ? slices(text) : streamPieces(text)).map((piece) => [{ text: piece }]),
  ];
  if (signature) chunks.push([{ text: '', thoughtSignature: signature }]);
  if (chunks.length === 0) chunks.push([]);
  return {
    parts: text === '' && !signature ? thoughtParts : [...thoughtParts, textPart],
    chunks,
    finishReason: shaped.finishReason === 'length' ? 'MAX_TOKENS' : 'STOP',
    candidatesTokens: countOpenAITokens(text, model),
    thoughtsTokens,
  };
}
