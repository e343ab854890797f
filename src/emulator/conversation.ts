/**
 * What the emulator answers to a whole conversation, whatever the protocol: each protocol reads its own
 * wire into a `Turn` and renders the `Plan` back in its own shapes.
 *
 * - A request that offers tools, with a tool choice that allows a call, gets tool calls in reply to a user
 *   turn: the tool the choice names; otherwise every offered tool whose name appears in the last user text
 *   (several → parallel calls); otherwise the first tool. Arguments are a deterministic instance of the
 *   tool's schema.
 * - A conversation that ends with tool results gets text quoting each result (unless the choice forces a
 *   call: `required` or a named tool).
 * - A response schema gets a deterministic JSON instance of it; JSON mode gets a small JSON object.
 * - Reasoning, when asked for, comes first, with a signature (an HMAC of its text) that a later turn must
 *   send back unaltered.
 * - Images and files are acknowledged in the reply (media type and byte count), so a test sees they arrived.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { instanceOf } from '../schema/instance.ts';
import type { JsonSchema } from '../spec/tools.ts';
import { baseReply } from './replies.ts';

export interface TurnTool {
  name: string;
  schema: JsonSchema;
}

export interface ReceivedMedia {
  mediaType: string;
  bytes: number;
}

export interface TurnToolResult {
  name?: string | undefined;
  content: string;
  isError?: boolean | undefined;
}

/** A request as the planner needs it, read by each protocol from its own wire. */
export interface Turn {
  /** Identifies the conversation (model and messages), so that the same one gets the same answer. */
  key: string;
  /** The text of the last user turn ('' when the conversation ends with tool results only). */
  lastUserText: string;
  /** Set when the conversation ends with tool results: the reply quotes them. */
  toolResults?: TurnToolResult[] | undefined;
  tools: TurnTool[];
  /** `auto` when absent. */
  toolChoice?: 'auto' | 'none' | 'required' | { name: string } | undefined;
  /** A JSON Schema the answer must match, or `json` for any JSON. */
  responseFormat?: JsonSchema | 'json' | undefined;
  reasoning: boolean;
  /** Images and files in the last user turn. */
  media: ReceivedMedia[];
}

export interface PlannedToolCall {
  name: string;
  arguments: unknown;
}

export type Plan = {
  /** Reasoning to show first, when asked for. */
  reasoning?: string | undefined;
} & (
  | { kind: 'text'; text: string }
  | { kind: 'tool-calls'; calls: PlannedToolCall[] }
  | { kind: 'json'; value: unknown }
);

function acknowledgement(media: readonly ReceivedMedia[]): string {
  if (media.length === 0) return '';
  const list = media.map((item) => `${item.mediaType} (${item.bytes} bytes)`).join(', ');
  return `Received ${media.length === 1 ? 'one attachment' : `${media.length} attachments`}: ${list}. `;
}

function chooseTools(turn: Turn): TurnTool[] {
  const choice = turn.toolChoice ?? 'auto';
  if (choice === 'none' || turn.tools.length === 0) return [];
  if (typeof choice === 'object') {
    const named = turn.tools.find((tool) => tool.name === choice.name);
    return named ? [named] : [];
  }
  const text = turn.lastUserText.toLowerCase();
  const mentioned = turn.tools.filter((tool) => text.includes(tool.name.toLowerCase()));
  return mentioned.length > 0 ? mentioned : [turn.tools[0]!];
}

/** What to answer. */
export function planReply(turn: Turn, forcedText?: string): Plan {
  const reasoning = turn.reasoning ? reasoningFor(turn) : undefined;
  // A forced choice (`required`, a named tool) calls a tool whatever came before, as the real services do.
  const forced = turn.toolChoice === 'required' || typeof turn.toolChoice === 'object';
  if (turn.toolResults && turn.toolResults.length > 0 && !forced) {
    const quoted = turn.toolResults
      .map(
        (result) =>
          `${result.name ?? 'the tool'}${result.isError ? ' failed' : ' returned'} ${JSON.stringify(result.content)}`,
      )
      .join('; ');
    return { reasoning, kind: 'text', text: forcedText ?? `Based on the tool results: ${quoted}.` };
  }
  const tools = chooseTools(turn);
  if (tools.length > 0) {
    const calls = tools.map((tool) => ({
      name: tool.name,
      arguments: instanceOf(tool.schema, `${turn.key}\0${tool.name}`),
    }));
    return { reasoning, kind: 'tool-calls', calls };
  }
  if (turn.responseFormat === 'json') {
    return { reasoning, kind: 'json', value: { answer: baseReply(turn.key, turn.lastUserText) } };
  }
  if (turn.responseFormat) {
    return { reasoning, kind: 'json', value: instanceOf(turn.responseFormat, turn.key) };
  }
  const text = forcedText ?? acknowledgement(turn.media) + baseReply(turn.key, turn.lastUserText);
  return { reasoning, kind: 'text', text };
}

function reasoningFor(turn: Turn): string {
  const subject = turn.lastUserText.replace(/\s+/g, ' ').trim().slice(0, 60);
  return subject
    ? `The user asks: “${subject}”. I will answer from the emulator's deterministic replies.`
    : 'The tool results are in; I will summarise them.';
}

const SIGNING_KEY = 'llm-factory emulator reasoning signatures';

/** The signature the emulator gives a reasoning text (base64, like the real ones). */
export function signReasoning(text: string): string {
  return createHmac('sha256', SIGNING_KEY).update(text).digest('base64');
}

/** True when `signature` is the one `signReasoning(text)` gave: a replayed block was not altered. */
export function verifyReasoning(text: string, signature: unknown): boolean {
  if (typeof signature !== 'string') return false;
  const expected = Buffer.from(signReasoning(text));
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Bytes of base64 text, without decoding it. */
export function base64Bytes(data: string): number {
  const clean = data.replace(/\s+/g, '');
  const padding = clean.endsWith('==') ? 2 : clean.endsWith('=') ? 1 : 0;
  return Math.floor((clean.length * 3) / 4) - padding;
}

/** The JSON text of a planned value, as a model writes it. */
export function jsonText(value: unknown): string {
  return JSON.stringify(value);
}
