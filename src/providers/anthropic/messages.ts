/**
 * The conversation on the Messages API wire: system turns lifted into `system`; images and documents as
 * content blocks; the assistant's text, thinking and `tool_use` blocks in their order, with the opaque
 * state Anthropic gave them (signatures, redacted data, `caller`) sent back byte for byte; and the results
 * of one assistant turn's calls as `tool_result` blocks first in the one user turn that follows it. Turns
 * of one role are merged so that roles alternate, as the API would merge them.
 *
 * @see https://platform.claude.com/docs/en/agents-and-tools/tool-use/handle-tool-calls
 * @see https://platform.claude.com/docs/en/build-with-claude/extended-thinking#preserving-thinking-blocks
 */
import { LLMBadRequestError } from '../../spec/errors.ts';
import type { AssistantContentPart } from '../../spec/messages.ts';
import type { Warning } from '../../spec/tools.ts';
import { isTextOnly, joinText, type NormalizedMessage, type NormalizedUserPart } from '../normalized.ts';
import { unsupported } from '../request-helpers.ts';

type Block = Record<string, unknown>;

export interface AnthropicWireMessage {
  role: 'user' | 'assistant';
  content: string | Block[];
}

export interface AnthropicConversation {
  /** The system turns joined by blank lines. */
  system: string | undefined;
  messages: AnthropicWireMessage[];
  /** True when a `tool_use` or `tool_result` block is in the history (the API then requires `tools`). */
  hasToolBlocks: boolean;
  warnings: Warning[];
}

/** Image media types the API takes. */
const IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

interface Context {
  model: string;
  warnings: Warning[];
}

function imageBlock(part: Extract<NormalizedUserPart, { type: 'image' | 'file' }>, context: Context): Block {
  const source = part.source;
  if (source.kind === 'url') return { type: 'image', source: { type: 'url', url: source.url } };
  if (!IMAGE_TYPES.has(source.mediaType)) {
    throw unsupported(
      'anthropic',
      context.model,
      `${source.mediaType || 'untyped'} images (jpeg, png, gif or webp)`,
    );
  }
  return { type: 'image', source: { type: 'base64', media_type: source.mediaType, data: source.data } };
}

/** A PDF (base64 or by URL) or a text file (sent as a plain-text document) → a `document` block. */
function documentBlock(part: Extract<NormalizedUserPart, { type: 'file' }>, context: Context): Block {
  const source = part.source;
  const mediaType = source.mediaType?.toLowerCase();
  if (mediaType?.startsWith('image/')) return imageBlock(part, context);
  let wire: Block;
  if (mediaType === 'application/pdf') {
    wire =
      source.kind === 'url'
        ? { type: 'url', url: source.url }
        : { type: 'base64', media_type: 'application/pdf', data: source.data };
  } else if (mediaType?.startsWith('text/')) {
    if (source.kind === 'url') {
      throw unsupported(
        'anthropic',
        context.model,
        `${mediaType} files by URL (only PDFs are fetched; send the bytes)`,
      );
    }
    if (mediaType !== 'text/plain') {
      context.warnings.push({
        code: 'media-type-changed',
        message: `anthropic: a ${mediaType} file was sent as a text/plain document (the API takes plain text and PDF documents)`,
      });
    }
    wire = {
      type: 'text',
      media_type: 'text/plain',
      data: Buffer.from(source.data, 'base64').toString('utf8'),
    };
  } else {
    throw unsupported('anthropic', context.model, `${mediaType ?? 'untyped'} files (PDF or text only)`);
  }
  const block: Block = { type: 'document', source: wire };
  if (part.filename !== undefined) block.title = part.filename;
  return block;
}

function userBlocks(parts: readonly NormalizedUserPart[], context: Context): Block[] {
  const blocks: Block[] = [];
  for (const part of parts) {
    // The API refuses empty text blocks ("text content blocks must be non-empty").
    if (part.type === 'text') {
      if (part.text.length > 0) blocks.push({ type: 'text', text: part.text });
    } else if (part.type === 'image') blocks.push(imageBlock(part, context));
    else blocks.push(documentBlock(part, context));
  }
  return blocks;
}

/** The opaque fields Anthropic attached to a part, or undefined when another provider produced it. */
function anthropicState(part: AssistantContentPart): Record<string, unknown> | undefined {
  return part.type === 'text' ? undefined : part.providerMetadata?.anthropic;
}

function toolUseBlock(part: Extract<AssistantContentPart, { type: 'tool-call' }>, at: string): Block {
  let input: unknown;
  try {
    input = JSON.parse(part.arguments);
  } catch {
    input = undefined;
  }
  if (input === null || typeof input !== 'object' || Array.isArray(input)) {
    throw new LLMBadRequestError(
      `Invalid request: \`${at}.arguments\` must be a JSON object for Anthropic's tool_use input (got ${JSON.stringify(part.arguments.slice(0, 40))})`,
      { provider: 'anthropic' },
    );
  }
  // Fields Anthropic added to the block (`caller`, …) are replayed as they came, after the known ones.
  return { type: 'tool_use', id: part.id, name: part.name, input, ...anthropicState(part) };
}

function assistantBlocks(parts: readonly AssistantContentPart[], index: number, context: Context): Block[] {
  const blocks: Block[] = [];
  parts.forEach((part, at) => {
    const field = `messages[${index}].content[${at}]`;
    if (part.type === 'text') {
      if (part.text.length > 0) blocks.push({ type: 'text', text: part.text });
    } else if (part.type === 'tool-call') {
      blocks.push(toolUseBlock(part, field));
    } else {
      const state = anthropicState(part);
      if (typeof state?.signature === 'string') {
        blocks.push({ type: 'thinking', thinking: part.text, signature: state.signature });
      } else if (typeof state?.redactedData === 'string') {
        blocks.push({ type: 'redacted_thinking', data: state.redactedData });
      } else {
        // Unsigned thinking is refused, and another model's reasoning is not Claude's to replay.
        context.warnings.push({
          code: 'metadata-dropped',
          message: `anthropic: ${field} is reasoning without an Anthropic signature (another provider's, or none) and was not sent`,
        });
      }
    }
  });
  return blocks;
}

function toolResultBlock(message: Extract<NormalizedMessage, { role: 'tool' }>, context: Context): Block {
  const block: Block = { type: 'tool_result', tool_use_id: message.toolCallId };
  block.content =
    isTextOnly(message.content) && message.content.length === 1
      ? joinText(message.content)
      : userBlocks(message.content, context);
  if (message.isError) block.is_error = true;
  return block;
}

/** Appends a turn, merging it into the previous one of the same role (tool results stay first). */
function append(
  wire: AnthropicWireMessage[],
  role: 'user' | 'assistant',
  blocks: Block[],
  plain?: string,
): void {
  const last = wire[wire.length - 1];
  if (last?.role !== role) {
    wire.push({ role, content: plain ?? blocks });
    return;
  }
  const merged = typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : last.content;
  const results = blocks.filter((block) => block.type === 'tool_result');
  const others =
    plain === undefined
      ? blocks.filter((block) => block.type !== 'tool_result')
      : plain
        ? [{ type: 'text', text: plain }]
        : [];
  const firstOther = merged.findIndex((block) => block.type !== 'tool_result');
  if (results.length > 0 && firstOther !== -1) merged.splice(firstOther, 0, ...results);
  else merged.push(...results);
  merged.push(...others);
  last.content = merged;
}

export function anthropicConversation(
  messages: readonly NormalizedMessage[],
  model: string,
): AnthropicConversation {
  const context: Context = { model, warnings: [] };
  const system: string[] = [];
  const wire: AnthropicWireMessage[] = [];
  let hasToolBlocks = false;
  messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
        system.push(message.content);
        break;
      case 'user': {
        const only = message.content.length === 1 ? message.content[0] : undefined;
        if (only?.type === 'text') append(wire, 'user', [], only.text);
        else append(wire, 'user', userBlocks(message.content, context));
        break;
      }
      case 'tool':
        hasToolBlocks = true;
        append(wire, 'user', [toolResultBlock(message, context)]);
        break;
      case 'assistant': {
        const blocks = assistantBlocks(message.content, index, context);
        if (blocks.some((block) => block.type === 'tool_use')) hasToolBlocks = true;
        // An assistant turn left with nothing (only another provider's reasoning) is not sent at all.
        if (blocks.length === 0) break;
        const plain =
          blocks.length === 1 && blocks[0]!.type === 'text' ? (blocks[0]!.text as string) : undefined;
        append(wire, 'assistant', blocks, plain);
        break;
      }
    }
  });
  return {
    system: system.length > 0 ? system.join('\n\n') : undefined,
    messages: wire,
    hasToolBlocks,
    warnings: context.warnings,
  };
}
