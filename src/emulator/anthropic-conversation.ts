/**
 * Reads a Messages API request into the planner's `Turn`, enforcing what Anthropic enforces, each refusal
 * with the real service's message (recorded, or quoted from public reports of it):
 *
 * - turns of one role are merged first, as the API merges them (so indexes in messages are the merged ones,
 *   as in the recorded `messages.0.content.1: unexpected tool_use_id…`);
 * - every `tool_result` answers a `tool_use` of the assistant turn just before it, and every `tool_use` is
 *   answered by `tool_result`s at the start of the next turn;
 * - `tools` must be defined whenever the history has tool blocks;
 * - with thinking on: no forced tool choice, `temperature` 1 only, a budget of at least 1024 and below
 *   `max_tokens`, replayed thinking blocks unaltered (their signatures are the emulator's HMACs), and a final
 *   assistant turn that answers with tool calls must start with its thinking.
 */
import { claudeModel } from '../providers/anthropic/capabilities.ts';
import { isRecord, type Json } from '../spec/json.ts';
import {
  base64Bytes,
  type ReceivedMedia,
  type Turn,
  type TurnToolResult,
  verifyReasoning,
} from './conversation.ts';

/** A request the real service refuses with a 400 `invalid_request_error`: its message. */
export class AnthropicRequestError extends Error {}

const fail = (message: string): never => {
  throw new AnthropicRequestError(message);
};

type Block = Json;

/** The text of a `content` (a string, or its text blocks; tool results' text too). */
export function blocksText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const block of content) {
    if (!isRecord(block)) continue;
    if (typeof block.text === 'string') text += block.text;
    else if (block.type === 'tool_result') text += blocksText(block.content);
    else if (block.type === 'tool_use') text += JSON.stringify(block.input ?? {});
    else if (block.type === 'thinking' && typeof block.thinking === 'string') text += block.thinking;
  }
  return text;
}

function blocksOf(content: unknown): Block[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content.filter(isRecord) : [];
}

/** Consecutive turns of one role as one turn, as the API reads them. */
function mergeTurns(messages: readonly Json[]): Array<{ role: string; blocks: Block[] }> {
  const merged: Array<{ role: string; blocks: Block[] }> = [];
  for (const message of messages) {
    const role = String(message.role);
    const last = merged[merged.length - 1];
    if (last?.role === role) last.blocks.push(...blocksOf(message.content));
    else merged.push({ role, blocks: blocksOf(message.content) });
  }
  return merged;
}

function mediaOf(blocks: readonly Block[]): ReceivedMedia[] {
  const media: ReceivedMedia[] = [];
  for (const block of blocks) {
    if (block.type === 'tool_result') media.push(...mediaOf(blocksOf(block.content)));
    if (block.type !== 'image' && block.type !== 'document') continue;
    const source = isRecord(block.source) ? block.source : {};
    if (source.type === 'base64' && typeof source.data === 'string') {
      media.push({ mediaType: String(source.media_type), bytes: base64Bytes(source.data) });
    } else if (source.type === 'text' && typeof source.data === 'string') {
      media.push({ mediaType: 'text/plain', bytes: Buffer.byteLength(source.data) });
    } else if (source.type === 'url') {
      media.push({ mediaType: `${block.type} (by URL)`, bytes: 0 });
    }
  }
  return media;
}

interface Thinking {
  on: boolean;
  budget?: number | undefined;
}

function readThinking(body: Json, model: string): Thinking {
  const thinking = isRecord(body.thinking) ? body.thinking : undefined;
  const mode = claudeModel(model);
  const notSupported = (type: string) =>
    fail(
      `"thinking.type.${type}" is not supported for this model. Use "thinking.type.adaptive" and "output_config.effort" to control thinking behavior.`,
    );
  if (thinking?.type === 'disabled') {
    if (mode.thinking === 'always') notSupported('disabled');
    return { on: false };
  }
  if (thinking?.type === 'adaptive') return { on: true };
  // Opus 5, Sonnet 5 and the models that always think, think when nothing is said.
  if (thinking?.type !== 'enabled') return { on: mode.thinksByDefault };
  if (mode.thinking === 'adaptive' || mode.thinking === 'always') notSupported('enabled');
  const budget = thinking.budget_tokens;
  if (typeof budget !== 'number' || budget < 1024) {
    fail('thinking.enabled.budget_tokens: Input should be greater than or equal to 1024');
  }
  if (typeof body.max_tokens === 'number' && body.max_tokens <= (budget as number)) {
    fail('`max_tokens` must be greater than `thinking.budget_tokens`.');
  }
  return { on: true, budget: budget as number };
}

/** Thinking blocks replayed in assistant turns must be the emulator's own, unaltered. */
function checkReplayedThinking(turns: ReadonlyArray<{ role: string; blocks: Block[] }>): void {
  turns.forEach((turn, index) => {
    if (turn.role !== 'assistant') return;
    turn.blocks.forEach((block, at) => {
      if (block.type === 'thinking' && !verifyReasoning(String(block.thinking ?? ''), block.signature)) {
        fail(`messages.${index}.content.${at}: Invalid \`signature\` in \`thinking\` block`);
      }
      if (block.type === 'redacted_thinking' && !verifyReasoning('', block.data)) {
        fail(`messages.${index}.content.${at}: Invalid \`data\` in \`redacted_thinking\` block`);
      }
    });
  });
}

const THINKING_FIRST =
  'When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking';

/** The conversation as the planner needs it, after Anthropic's rules. */
export function readAnthropicTurn(body: Json, model: string): Turn {
  const turns = mergeTurns(body.messages as Json[]);
  const tools = Array.isArray(body.tools) ? body.tools.filter(isRecord) : [];
  let hasToolBlocks = false;
  let pending: Map<string, string> | undefined; // the previous assistant turn's calls: id → name
  let pendingAt = 0;
  let answered: TurnToolResult[] = [];
  turns.forEach((turn, index) => {
    if (pending && pending.size > 0) {
      const leading = new Set<string>();
      for (const block of turn.blocks) {
        if (block.type !== 'tool_result') break;
        leading.add(String(block.tool_use_id));
      }
      const missing = [...pending.keys()].filter((id) => !leading.has(id));
      if (turn.role !== 'user' || missing.length > 0) {
        fail(
          `messages.${pendingAt}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
      }
    }
    answered = [];
    turn.blocks.forEach((block, at) => {
      if (block.type !== 'tool_result') return;
      hasToolBlocks = true;
      const id = String(block.tool_use_id);
      if (!pending?.has(id)) {
        fail(
          `messages.${index}.content.${at}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
      }
      answered.push({
        name: pending!.get(id),
        content: blocksText(block.content),
        isError: block.is_error === true,
      });
    });
    pending = new Map();
    pendingAt = index;
    if (turn.role === 'assistant') {
      for (const block of turn.blocks) {
        if (block.type !== 'tool_use') continue;
        hasToolBlocks = true;
        pending.set(String(block.id), String(block.name));
      }
    }
  });
  if (pending && pending.size > 0) {
    fail(
      `messages.${pendingAt}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${[...pending.keys()].join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
    );
  }
  if (hasToolBlocks && tools.length === 0)
    fail('Requests which include `tool_use` or `tool_result` blocks must define tools.');

  const choice = isRecord(body.tool_choice) ? body.tool_choice : undefined;
  const forced = choice?.type === 'any' || choice?.type === 'tool';
  const thinking = readThinking(body, model);
  if (thinking.on) {
    if (forced) fail('Thinking may not be enabled when tool_choice forces tool use.');
    if (body.temperature !== undefined && body.temperature !== 1) {
      fail('`temperature` may only be set to 1 when thinking is enabled or in adaptive mode.');
    }
    checkReplayedThinking(turns);
    const last = turns[turns.length - 1];
    const previous = turns[turns.length - 2];
    if (last?.blocks[0]?.type === 'tool_result' && previous?.role === 'assistant') {
      const first = previous.blocks[0]?.type;
      if (first !== 'thinking' && first !== 'redacted_thinking') {
        fail(
          `messages.${turns.length - 2}.content.0.type: Expected \`thinking\` or \`redacted_thinking\`, but found \`${String(first)}\`. ${THINKING_FIRST}`,
        );
      }
    }
  }

  const lastUser = turns.findLast((turn) => turn.role === 'user');
  const userText = (lastUser?.blocks ?? [])
    .filter((block) => block.type === 'text')
    .map((block) => String(block.text))
    .join('');
  const format =
    isRecord(body.output_config) && isRecord(body.output_config.format)
      ? body.output_config.format
      : undefined;
  return {
    key: JSON.stringify([model, body.system ?? null, turns]),
    lastUserText: userText,
    toolResults: answered.length > 0 ? answered : undefined,
    tools: tools.map((tool) => ({
      name: String(tool.name),
      schema: isRecord(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} },
    })),
    toolChoice:
      choice?.type === 'none'
        ? 'none'
        : choice?.type === 'any'
          ? 'required'
          : choice?.type === 'tool'
            ? { name: String(choice.name) }
            : 'auto',
    responseFormat: format?.type === 'json_schema' && isRecord(format.schema) ? format.schema : undefined,
    reasoning: thinking.on,
    media: mediaOf(lastUser?.blocks ?? []),
  };
}
