/**
 * The conversation as Converse takes it: system messages in `system`, then user and assistant turns that
 * alternate, each a list of content blocks — text, images and documents as bytes, the assistant's signed
 * reasoning and `toolUse` blocks sent back exactly, and every tool result as a `toolResult` block in the
 * user turn after the calls.
 *
 * Rules the service enforces, obeyed here: no empty text blocks and no empty turns; roles alternate (turns
 * of one role are merged); a turn holds tool results or conversation blocks, never both ("Conversation
 * blocks and tool result blocks cannot be provided in the same turn"), so what a caller writes after tool
 * results goes inside the last result, with a warning; reasoning is replayed only when signed (Claude checks
 * the signature, and unsigned reasoning cannot be sent back), in assistant turns only, with its exact text;
 * tool names and ids match `[a-zA-Z0-9_-]+`; document names use the characters Bedrock allows.
 *
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Message.html
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ContentBlock.html
 */
import { createHash } from 'node:crypto';
import { LLMBadRequestError } from '../../spec/errors.ts';
import { isRecord } from '../../spec/json.ts';
import type { AssistantContentPart, ReasoningPart } from '../../spec/messages.ts';
import type { Warning } from '../../spec/tools.ts';
import type { MediaSource, NormalizedUserPart } from '../normalized.ts';
import type { NormalizedRequest } from '../provider.ts';
import { unsupported } from '../request-helpers.ts';
import type { BedrockModelTraits } from './capabilities.ts';

export type Block = Record<string, unknown>;
export interface ConverseTurn {
  role: 'user' | 'assistant';
  content: Block[];
}

export interface ConverseConversation {
  system: Block[];
  messages: ConverseTurn[];
  /** Names of the tools called in the history (Converse needs `toolConfig` whenever there are any). */
  historyToolNames: Set<string>;
}

const IMAGE_FORMATS: Record<string, string> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

const DOCUMENT_FORMATS: Record<string, string> = {
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/markdown': 'md',
};

const WIRE_NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** A tool-call id as Converse takes it (`[a-zA-Z0-9_-]`, 1–64): another provider's id is mapped, the same way for the call and its result. */
export function wireToolUseId(id: string): string {
  if (WIRE_NAME.test(id)) return id;
  return `tooluse_${createHash('sha256').update(id).digest('base64url').slice(0, 22)}`;
}

interface Context {
  request: NormalizedRequest;
  traits: BedrockModelTraits;
  warnings: Warning[];
  documents: Set<string>;
}

function bytesOf(source: MediaSource, context: Context, what: string): string {
  // The client downloads URLs first (capabilities: imageUrls and fileUrls are false).
  if (source.kind === 'url') throw unsupported('bedrock', context.request.model, `${what} by URL`);
  return source.data;
}

function imageBlock(source: MediaSource, context: Context): Block {
  const format = source.mediaType ? IMAGE_FORMATS[source.mediaType.toLowerCase()] : undefined;
  if (!format) {
    throw unsupported(
      'bedrock',
      context.request.model,
      `${source.mediaType ?? 'untyped'} images (png, jpeg, gif or webp)`,
    );
  }
  return { image: { format, source: { bytes: bytesOf(source, context, 'images') } } };
}

/**
 * A document name Bedrock accepts: letters and digits, single spaces, hyphens, parentheses and square
 * brackets, at most 200 characters, unique in the request (`document-N` when none was given).
 */
function documentName(filename: string | undefined, context: Context): string {
  const stem = filename?.replace(/\.[A-Za-z0-9]{1,5}$/, '') ?? '';
  const cleaned = stem
    .replace(/[^A-Za-z0-9\s()[\]-]/g, '-')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 190);
  const base = cleaned || `document-${context.documents.size + 1}`;
  let name = base;
  for (let n = 2; context.documents.has(name); n++) name = `${base}-${n}`;
  context.documents.add(name);
  if (filename !== undefined && name !== stem) {
    context.warnings.push({
      code: 'document-renamed',
      message: `bedrock: the document ${JSON.stringify(filename)} is sent as ${JSON.stringify(name)} (Bedrock takes letters, digits, single spaces, hyphens, parentheses and square brackets, one name per document)`,
    });
  }
  return name;
}

function mediaBlock(part: Exclude<NormalizedUserPart, { type: 'text' }>, context: Context): Block {
  const mediaType = part.source.mediaType?.toLowerCase();
  if (part.type === 'image' || mediaType?.startsWith('image/')) return imageBlock(part.source, context);
  const format = mediaType ? DOCUMENT_FORMATS[mediaType] : undefined;
  if (!format) {
    throw unsupported(
      'bedrock',
      context.request.model,
      `${mediaType ?? 'untyped'} files (pdf, csv, doc, docx, xls, xlsx, html, txt, md)`,
    );
  }
  return {
    document: {
      format,
      name: documentName(part.filename, context),
      source: { bytes: bytesOf(part.source, context, 'files') },
    },
  };
}

function userBlocks(parts: readonly NormalizedUserPart[], context: Context): Block[] {
  const blocks: Block[] = [];
  for (const part of parts) {
    if (part.type === 'text') {
      if (part.text !== '') blocks.push({ text: part.text });
    } else blocks.push(mediaBlock(part, context));
  }
  return blocks;
}

function reasoningBlock(part: ReasoningPart, context: Context): Block | undefined {
  const own = part.providerMetadata?.bedrock;
  if (typeof own?.signature === 'string') {
    return { reasoningContent: { reasoningText: { text: part.text, signature: own.signature } } };
  }
  if (typeof own?.redactedContent === 'string') {
    return { reasoningContent: { redactedContent: own.redactedContent } };
  }
  const foreign = Object.keys(part.providerMetadata ?? {}).filter((name) => name !== 'bedrock');
  if (foreign.length > 0) {
    context.warnings.push({
      code: 'metadata-dropped',
      message: `bedrock: reasoning from ${foreign.join(', ')} is not sent (its signature is bound to that provider; Bedrock replays only its own signed reasoning)`,
    });
  }
  // Unsigned reasoning (gpt-oss, DeepSeek) is not sent back: Claude rejects unsigned blocks.
  return undefined;
}

function toolInput(argumentsText: string, field: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(argumentsText === '' ? '{}' : argumentsText);
  } catch {
    value = undefined;
  }
  if (!isRecord(value)) {
    throw new LLMBadRequestError(
      `Invalid request: \`${field}\` must be a JSON object to go back to bedrock (Converse sends toolUse.input as an object); got ${JSON.stringify(argumentsText.slice(0, 40))}`,
      { provider: 'bedrock' },
    );
  }
  return value;
}

function assistantBlocks(
  parts: readonly AssistantContentPart[],
  index: number,
  context: Context,
  historyToolNames: Set<string>,
): Block[] {
  const blocks: Block[] = [];
  parts.forEach((part, at) => {
    if (part.type === 'text') {
      if (part.text !== '') blocks.push({ text: part.text });
    } else if (part.type === 'reasoning') {
      const block = reasoningBlock(part, context);
      if (block) blocks.push(block);
    } else {
      let name = part.name;
      if (!WIRE_NAME.test(name)) {
        name = name.replace(/[^a-zA-Z0-9_-]/g, '_').slice(0, 64) || 'tool';
        context.warnings.push({
          code: 'tool-name-changed',
          message: `bedrock: the tool call ${JSON.stringify(part.name)} in messages[${index}] is sent as ${name} (Bedrock checks names against [a-zA-Z0-9_-]+ in the history too)`,
        });
      }
      historyToolNames.add(name);
      blocks.push({
        toolUse: {
          toolUseId: wireToolUseId(part.id),
          name,
          input: toolInput(part.arguments, `messages[${index}].content[${at}].arguments`),
        },
      });
    }
  });
  return blocks;
}

function toolResultBlock(
  message: Extract<NormalizedRequest['messages'][number], { role: 'tool' }>,
  context: Context,
): Block {
  const content = userBlocks(message.content, context);
  if (content.length === 0) {
    // An empty result is refused ("cannot be empty when status value is error"); say it was empty.
    content.push({ text: '(empty result)' });
    context.warnings.push({
      code: 'content-changed',
      message: `bedrock: the empty result of tool call ${message.toolCallId} is sent as "(empty result)" (Converse takes no empty tool results)`,
    });
  }
  const result: Block = { toolUseId: wireToolUseId(message.toolCallId), content };
  if (message.isError) {
    if (context.traits.toolResultStatus) result.status = 'error';
    else {
      context.warnings.push({
        code: 'setting-ignored',
        message: `bedrock: ${context.request.model} takes no toolResult.status; the failed result of ${message.toolCallId} is sent as an ordinary result`,
      });
    }
  }
  return { toolResult: result };
}

/** Appends a message's blocks, merging turns of one role (Converse wants user and assistant to alternate). */
function append(messages: ConverseTurn[], role: 'user' | 'assistant', blocks: Block[]): void {
  if (blocks.length === 0) return;
  const last = messages.at(-1);
  if (last?.role === role) last.content.push(...blocks);
  else messages.push({ role, content: blocks });
}

/**
 * A user turn with tool results holds nothing else: the results first, in order, and what the caller
 * wrote besides them inside the last result's content (text, images and documents are all result content).
 */
function separateToolResults(turn: ConverseTurn, warnings: Warning[]): void {
  const results = turn.content.filter((block) => 'toolResult' in block);
  if (results.length === 0 || results.length === turn.content.length) return;
  const others = turn.content.filter((block) => !('toolResult' in block));
  const last = results.at(-1)!.toolResult as { content: Block[] };
  last.content.push(...others);
  turn.content = results;
  warnings.push({
    code: 'message-merged',
    message:
      'bedrock: a user message that follows tool results is sent inside the last tool result (Converse takes no other content in a turn with tool results)',
  });
}

/** The request's messages as Converse's `system` and `messages`. */
export function converseConversation(
  request: NormalizedRequest,
  traits: BedrockModelTraits,
  warnings: Warning[],
): ConverseConversation {
  const context: Context = { request, traits, warnings, documents: new Set() };
  const system: Block[] = [];
  const messages: ConverseTurn[] = [];
  const historyToolNames = new Set<string>();
  request.messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
        if (message.content !== '') system.push({ text: message.content });
        return;
      case 'user': {
        const blocks = userBlocks(message.content, context);
        if (blocks.some((block) => 'document' in block) && !blocks.some((block) => 'text' in block)) {
          throw unsupported(
            'bedrock',
            request.model,
            `a document without text in the same message (messages[${index}]: add a text part saying what to do with it)`,
          );
        }
        append(messages, 'user', blocks);
        return;
      }
      case 'assistant':
        append(messages, 'assistant', assistantBlocks(message.content, index, context, historyToolNames));
        return;
      case 'tool':
        append(messages, 'user', [toolResultBlock(message, context)]);
        return;
    }
  });
  for (const turn of messages) if (turn.role === 'user') separateToolResults(turn, warnings);
  // A final assistant turn is a prefill: Bedrock refuses one that ends in whitespace.
  const last = messages.at(-1);
  const lastBlock = last?.role === 'assistant' ? last.content.at(-1) : undefined;
  if (lastBlock && typeof lastBlock.text === 'string') {
    const trimmed = lastBlock.text.trimEnd();
    if (trimmed === '') last!.content.pop();
    else lastBlock.text = trimmed;
    if (last!.content.length === 0) messages.pop();
  }
  return { system, messages, historyToolNames };
}

/** True when a turn carries `toolUse` or `toolResult` blocks. */
export function hasToolBlocks(messages: readonly ConverseTurn[]): boolean {
  return messages.some((turn) => turn.content.some((block) => 'toolUse' in block || 'toolResult' in block));
}
