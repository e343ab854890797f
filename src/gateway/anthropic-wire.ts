/**
 * Anthropic's Messages wire as the gateway's clients send it: a `/v1/messages` body → our conversation model
 * (tool_use / tool_result blocks, thinking with its signature, images and documents, `output_config.format`),
 * or every field that is wrong with it. Used when the deployment that answers does not speak Anthropic's
 * protocol itself; the answer side is in `anthropic-answer.ts`.
 *
 * @see https://docs.anthropic.com/en/api/messages
 */
import type {
  AssistantContentPart,
  ChatMessage,
  ToolResultContentPart,
  UserContentPart,
} from '../spec/messages.ts';
import type { ToolChoice } from '../spec/tools.ts';
import type { CompletionRequest } from '../spec/types.ts';
import { type BodyIssue, invalidBody, isRecord, type Json } from './validate-body.ts';

export interface AnthropicMessagesCall {
  request: CompletionRequest;
  stream: boolean;
}

function text(value: unknown, path: string, issues: BodyIssue[]): string {
  if (typeof value === 'string') return value;
  issues.push({ path, message: 'must be a string' });
  return '';
}

/** An image or document source → what our parts take (a data: URL keeps the media type with the bytes). */
function sourceData(
  source: unknown,
  path: string,
  issues: BodyIssue[],
): { data: string; mediaType: string } | undefined {
  if (!isRecord(source)) {
    issues.push({ path, message: 'must be a source object' });
    return undefined;
  }
  if (source.type === 'base64') {
    const mediaType = text(source.media_type, `${path}.media_type`, issues);
    return { data: `data:${mediaType};base64,${text(source.data, `${path}.data`, issues)}`, mediaType };
  }
  if (source.type === 'url') return { data: text(source.url, `${path}.url`, issues), mediaType: '' };
  if (source.type === 'text') {
    return {
      data: `data:text/plain;base64,${Buffer.from(text(source.data, `${path}.data`, issues)).toString('base64')}`,
      mediaType: 'text/plain',
    };
  }
  issues.push({ path: `${path}.type`, message: 'must be base64, url or text' });
  return undefined;
}

function mediaPart(block: Json, path: string, issues: BodyIssue[]): UserContentPart | undefined {
  const source = sourceData(block.source, `${path}.source`, issues);
  if (!source) return undefined;
  if (block.type === 'image') {
    const part: UserContentPart = { type: 'image', image: source.data };
    if (source.mediaType) part.mediaType = source.mediaType;
    return part;
  }
  const part: UserContentPart = {
    type: 'file',
    data: source.data,
    mediaType: source.mediaType || 'application/pdf',
  };
  if (typeof block.title === 'string') part.filename = block.title;
  return part;
}

function blocksOf(content: unknown, path: string, issues: BodyIssue[]): Json[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content) || content.length === 0) {
    issues.push({ path, message: 'must be a string or a non-empty array of content blocks' });
    return [];
  }
  return content.filter((block, index) => {
    if (isRecord(block)) return true;
    issues.push({ path: `${path}[${index}]`, message: 'must be a content block object' });
    return false;
  }) as Json[];
}

function toolResultContent(
  content: unknown,
  path: string,
  issues: BodyIssue[],
): string | ToolResultContentPart[] {
  if (content === undefined) return '';
  if (typeof content === 'string') return content;
  return blocksOf(content, path, issues).flatMap((block, index): ToolResultContentPart[] => {
    const at = `${path}[${index}]`;
    if (block.type === 'text') return [{ type: 'text', text: text(block.text, `${at}.text`, issues) }];
    if (block.type === 'image' || block.type === 'document') {
      const part = mediaPart(block, at, issues);
      return part ? [part] : [];
    }
    issues.push({ path: `${at}.type`, message: 'must be text, image or document' });
    return [];
  });
}

function messagesOf(value: unknown, issues: BodyIssue[]): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) {
    issues.push({ path: 'messages', message: 'must be a non-empty array' });
    return [];
  }
  const messages: ChatMessage[] = [];
  value.forEach((message, index) => {
    const at = `messages[${index}]`;
    if (!isRecord(message)) {
      issues.push({ path: at, message: 'must be an object' });
      return;
    }
    const blocks = blocksOf(message.content, `${at}.content`, issues);
    if (message.role === 'assistant') {
      const parts: AssistantContentPart[] = [];
      blocks.forEach((block, blockIndex) => {
        const blockAt = `${at}.content[${blockIndex}]`;
        if (block.type === 'text')
          parts.push({ type: 'text', text: text(block.text, `${blockAt}.text`, issues) });
        else if (block.type === 'thinking') {
          const part: AssistantContentPart = {
            type: 'reasoning',
            text: text(block.thinking, `${blockAt}.thinking`, issues),
          };
          // Claude's signature, whether Anthropic or Bedrock answered the turn it came from.
          if (typeof block.signature === 'string' && block.signature)
            part.providerMetadata = {
              anthropic: { signature: block.signature },
              bedrock: { signature: block.signature },
            };
          parts.push(part);
        } else if (block.type === 'redacted_thinking') {
          parts.push({
            type: 'reasoning',
            text: '',
            providerMetadata: { anthropic: { redactedData: text(block.data, `${blockAt}.data`, issues) } },
          });
        } else if (block.type === 'tool_use') {
          parts.push({
            type: 'tool-call',
            id: text(block.id, `${blockAt}.id`, issues),
            name: text(block.name, `${blockAt}.name`, issues),
            arguments: JSON.stringify(isRecord(block.input) ? block.input : {}),
          });
        } else
          issues.push({
            path: `${blockAt}.type`,
            message: 'must be text, thinking, redacted_thinking or tool_use',
          });
      });
      messages.push({ role: 'assistant', content: parts });
      return;
    }
    if (message.role !== 'user') {
      issues.push({ path: `${at}.role`, message: 'must be user or assistant' });
      return;
    }
    // Tool results come first in a user turn; each becomes a tool message, the rest a user message after.
    const rest: UserContentPart[] = [];
    blocks.forEach((block, blockIndex) => {
      const blockAt = `${at}.content[${blockIndex}]`;
      if (block.type === 'tool_result') {
        const result: ChatMessage = {
          role: 'tool',
          toolCallId: text(block.tool_use_id, `${blockAt}.tool_use_id`, issues),
          content: toolResultContent(block.content, `${blockAt}.content`, issues),
        };
        if (block.is_error === true) result.isError = true;
        messages.push(result);
      } else if (block.type === 'text')
        rest.push({ type: 'text', text: text(block.text, `${blockAt}.text`, issues) });
      else if (block.type === 'image' || block.type === 'document') {
        const part = mediaPart(block, blockAt, issues);
        if (part) rest.push(part);
      } else
        issues.push({ path: `${blockAt}.type`, message: 'must be text, image, document or tool_result' });
    });
    if (rest.length > 0) messages.push({ role: 'user', content: rest });
  });
  return messages;
}

function systemOf(value: unknown, issues: BodyIssue[]): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (Array.isArray(value)) {
    return value
      .map((block, index) =>
        isRecord(block) && block.type === 'text' ? text(block.text, `system[${index}].text`, issues) : '',
      )
      .join('\n\n');
  }
  issues.push({ path: 'system', message: 'must be a string or an array of text blocks' });
  return undefined;
}

function toolChoiceOf(value: unknown, issues: BodyIssue[]): { choice?: ToolChoice; parallel?: boolean } {
  if (value === undefined) return {};
  if (!isRecord(value)) {
    issues.push({ path: 'tool_choice', message: 'must be an object' });
    return {};
  }
  const parallel = value.disable_parallel_tool_use === true ? false : undefined;
  const out: { choice?: ToolChoice; parallel?: boolean } = parallel === undefined ? {} : { parallel };
  if (value.type === 'auto' || value.type === 'none') out.choice = value.type;
  else if (value.type === 'any') out.choice = 'required';
  else if (value.type === 'tool')
    out.choice = { type: 'tool', name: text(value.name, 'tool_choice.name', issues) };
  else issues.push({ path: 'tool_choice.type', message: 'must be auto, any, tool or none' });
  return out;
}

/** Fields our request carries; the rest (top_k, metadata, service_tier, …) reaches Anthropic as it is. */
const MODELLED = new Set([
  'model',
  'messages',
  'system',
  'max_tokens',
  'temperature',
  'top_p',
  'stop_sequences',
  'stream',
  'tools',
  'tool_choice',
  'thinking',
  'output_config',
]);

/** A Messages body → our request, or the list of what is wrong with it. */
export function fromAnthropicMessages(body: unknown): AnthropicMessagesCall {
  if (!isRecord(body)) throw invalidBody([{ path: '', message: 'the body must be a JSON object' }]);
  const issues: BodyIssue[] = [];
  const request: CompletionRequest = { messages: messagesOf(body.messages, issues) };
  if (typeof body.model !== 'string' || body.model === '')
    issues.push({ path: 'model', message: 'must be a non-empty string' });
  else request.model = body.model;
  if (!Number.isInteger(body.max_tokens) || (body.max_tokens as number) <= 0) {
    issues.push({ path: 'max_tokens', message: 'is required: a positive integer' });
  } else request.maxTokens = body.max_tokens as number;
  const system = systemOf(body.system, issues);
  if (system !== undefined) request.system = system;
  for (const [field, key] of [
    ['temperature', 'temperature'],
    ['top_p', 'topP'],
  ] as const) {
    const value = body[field];
    if (value === undefined) continue;
    if (typeof value !== 'number') issues.push({ path: field, message: 'must be a number' });
    else request[key] = value;
  }
  if (body.stop_sequences !== undefined) {
    if (Array.isArray(body.stop_sequences) && body.stop_sequences.every((s) => typeof s === 'string')) {
      request.stop = body.stop_sequences as string[];
    } else issues.push({ path: 'stop_sequences', message: 'must be an array of strings' });
  }
  if (body.tools !== undefined) {
    if (!Array.isArray(body.tools)) issues.push({ path: 'tools', message: 'must be an array' });
    else
      request.tools = body.tools.map((tool, index) => {
        if (!isRecord(tool) || !isRecord(tool.input_schema)) {
          issues.push({ path: `tools[${index}]`, message: 'must be { name, description?, input_schema }' });
          return { name: 'invalid', parameters: {} };
        }
        const definition: NonNullable<CompletionRequest['tools']>[number] = {
          name: text(tool.name, `tools[${index}].name`, issues),
          parameters: tool.input_schema,
        };
        if (typeof tool.description === 'string') definition.description = tool.description;
        if (typeof tool.strict === 'boolean') definition.strict = tool.strict;
        return definition;
      });
  }
  const { choice, parallel } = toolChoiceOf(body.tool_choice, issues);
  if (choice !== undefined) request.toolChoice = choice;
  if (parallel !== undefined) request.parallelToolCalls = parallel;
  if (isRecord(body.thinking) && body.thinking.type === 'enabled') {
    if (!Number.isInteger(body.thinking.budget_tokens))
      issues.push({ path: 'thinking.budget_tokens', message: 'must be an integer' });
    else request.reasoning = { budgetTokens: body.thinking.budget_tokens as number };
  }
  const format =
    isRecord(body.output_config) && isRecord(body.output_config.format)
      ? body.output_config.format
      : undefined;
  if (format) {
    if (format.type !== 'json_schema' || !isRecord(format.schema)) {
      issues.push({ path: 'output_config.format', message: "must be { type: 'json_schema', schema }" });
    } else request.responseFormat = { type: 'json-schema', schema: format.schema };
  }
  if (issues.length > 0) throw invalidBody(issues);
  const rest: Json = {};
  for (const [key, value] of Object.entries(body))
    if (!MODELLED.has(key) && value !== undefined) rest[key] = value;
  if (Object.keys(rest).length > 0) request.providerOptions = { anthropic: rest };
  return { request, stream: body.stream === true };
}
