/**
 * Validation and normalisation of the conversation-level fields of a request — messages and their parts,
 * tools, tool choice, response format, reasoning, provider options — naming the field that is wrong.
 * What comes out is what every adapter reads (`providers/normalized.ts`).
 */
import type {
  MediaSource,
  NormalizedAssistantMessage,
  NormalizedMessage,
  NormalizedResponseFormat,
  NormalizedTool,
  NormalizedUserPart,
} from '../providers/normalized.ts';
import { isObjectSchema, toJsonSchema } from '../schema/json-schema.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import { isRecord } from '../spec/json.ts';
import type { AssistantContentPart, ChatMessage } from '../spec/messages.ts';
import type { JsonSchema, ReasoningOptions, ResponseFormat, SchemaInput, ToolChoice } from '../spec/tools.ts';
import { PROVIDERS, type ProviderOptions } from '../spec/types.ts';
import { toMediaSource } from './media.ts';

/** The one rule every provider accepts for tool and schema names. */
export const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const EFFORTS = new Set(['none', 'minimal', 'low', 'medium', 'high', 'xhigh']);

export function invalid(field: string, expected: string, value: unknown): LLMBadRequestError {
  const shown =
    typeof value === 'string'
      ? JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
      : Array.isArray(value)
        ? 'an array'
        : value === null
          ? 'null'
          : typeof value === 'object'
            ? 'an object'
            : String(value);
  return new LLMBadRequestError(`Invalid request: \`${field}\` must be ${expected} (got ${shown})`);
}

function text(value: unknown, field: string): string {
  if (typeof value !== 'string') throw invalid(field, 'a string', value);
  return value;
}

function userPart(part: unknown, field: string, allowed: string): NormalizedUserPart {
  if (!isRecord(part)) throw invalid(field, `a content part (${allowed})`, part);
  switch (part.type) {
    case 'text':
      return { type: 'text', text: text(part.text, `${field}.text`) };
    case 'image': {
      if (part.image === undefined) throw invalid(`${field}.image`, 'image data or a URL', undefined);
      const mediaType = part.mediaType === undefined ? undefined : text(part.mediaType, `${field}.mediaType`);
      const source: MediaSource = toMediaSource(part.image as never, mediaType, `${field}.image`, 'image');
      if (source.mediaType !== undefined && !source.mediaType.startsWith('image/')) {
        throw invalid(
          `${field}.mediaType`,
          'an image media type (image/png, image/jpeg, …)',
          source.mediaType,
        );
      }
      return { type: 'image', source };
    }
    case 'file': {
      if (part.data === undefined) throw invalid(`${field}.data`, 'file data or a URL', undefined);
      const mediaType = text(part.mediaType, `${field}.mediaType`);
      const filename = part.filename === undefined ? undefined : text(part.filename, `${field}.filename`);
      const source = toMediaSource(part.data as never, mediaType, `${field}.data`, 'file');
      return filename === undefined ? { type: 'file', source } : { type: 'file', source, filename };
    }
    default:
      throw invalid(`${field}.type`, allowed, part.type);
  }
}

function userContent(content: unknown, field: string, allowed: string): NormalizedUserPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid(field, 'a string or an array of parts', content);
  if (content.length === 0) throw invalid(field, 'a non-empty string or array of parts', content);
  return content.map((part, index) => userPart(part, `${field}[${index}]`, allowed));
}

function metadata(value: unknown, field: string): Record<string, Record<string, unknown>> | undefined {
  if (value === undefined) return undefined;
  if (!isRecord(value)) throw invalid(field, 'an object keyed by provider name', value);
  for (const [provider, entry] of Object.entries(value)) {
    if (!isRecord(entry)) throw invalid(`${field}.${provider}`, 'an object', entry);
  }
  return value as Record<string, Record<string, unknown>>;
}

function assistantContent(content: unknown, field: string): AssistantContentPart[] {
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  if (!Array.isArray(content)) throw invalid(field, 'a string or an array of parts', content);
  return content.map((part, index): AssistantContentPart => {
    const at = `${field}[${index}]`;
    if (!isRecord(part)) throw invalid(at, 'a content part (text, reasoning or tool-call)', part);
    const providerMetadata = metadata(part.providerMetadata, `${at}.providerMetadata`);
    switch (part.type) {
      case 'text':
      case 'reasoning': {
        const out = { type: part.type, text: text(part.text, `${at}.text`) } as AssistantContentPart & {
          providerMetadata?: unknown;
        };
        if (providerMetadata) out.providerMetadata = providerMetadata;
        return out;
      }
      case 'tool-call': {
        const id = text(part.id, `${at}.id`);
        if (id === '') throw invalid(`${at}.id`, 'a non-empty string', id);
        const name = text(part.name, `${at}.name`);
        if (typeof part.arguments !== 'string') {
          throw invalid(
            `${at}.arguments`,
            'a JSON string (JSON.stringify the arguments object)',
            part.arguments,
          );
        }
        const call: AssistantContentPart = { type: 'tool-call', id, name, arguments: part.arguments };
        if (providerMetadata) call.providerMetadata = providerMetadata;
        return call;
      }
      default:
        throw invalid(`${at}.type`, 'text, reasoning or tool-call', part.type);
    }
  });
}

/** `messages` → normalised messages; tool results are checked against the calls they answer. */
export function normalizeMessages(given: readonly ChatMessage[]): NormalizedMessage[] {
  const callNames = new Map<string, string>();
  return given.map((message, index): NormalizedMessage => {
    const field = `messages[${index}]`;
    if (!isRecord(message)) throw invalid(field, 'an object', message);
    const name = message.name === undefined ? undefined : text(message.name, `${field}.name`);
    switch (message.role) {
      case 'system':
        return { role: 'system', content: text(message.content, `${field}.content`) };
      case 'user': {
        const content = userContent(message.content, `${field}.content`, 'text, image or file');
        return name === undefined ? { role: 'user', content } : { role: 'user', content, name };
      }
      case 'assistant': {
        const content = assistantContent(message.content, `${field}.content`);
        for (const part of content) if (part.type === 'tool-call') callNames.set(part.id, part.name);
        const out: NormalizedAssistantMessage = { role: 'assistant', content };
        if (name !== undefined) out.name = name;
        return out;
      }
      case 'tool': {
        const toolCallId = text(message.toolCallId, `${field}.toolCallId`);
        const declared =
          message.toolName === undefined ? undefined : text(message.toolName, `${field}.toolName`);
        const toolName = declared ?? callNames.get(toolCallId);
        if (!callNames.has(toolCallId)) {
          throw new LLMBadRequestError(
            `Invalid request: \`${field}\` answers tool call ${JSON.stringify(toolCallId)}, but no assistant message before it made that call; append the assistant's \`result.message\` (which carries its tool calls) before the tool results`,
          );
        }
        if (message.isError !== undefined && typeof message.isError !== 'boolean') {
          throw invalid(`${field}.isError`, 'a boolean', message.isError);
        }
        return {
          role: 'tool',
          toolCallId,
          toolName: toolName!,
          content: userContent(message.content, `${field}.content`, 'text, image or file'),
          isError: message.isError === true,
        };
      }
      default:
        throw invalid(
          `${field}.role`,
          'system, user, assistant or tool',
          (message as { role: unknown }).role,
        );
    }
  });
}

const converted = new WeakMap<object, JsonSchema>();

/** A schema as plain JSON Schema, converted once per schema object. */
export function jsonSchemaOf(schema: SchemaInput, field: string): JsonSchema {
  if (!isRecord(schema) && typeof schema !== 'function') {
    throw invalid(field, 'a JSON Schema object or a Standard Schema', schema);
  }
  let json = converted.get(schema);
  if (!json) {
    json = toJsonSchema(schema, field);
    converted.set(schema, json);
  }
  return json;
}

export function normalizeTools(tools: unknown): NormalizedTool[] {
  if (!Array.isArray(tools)) throw invalid('tools', 'an array of tool definitions', tools);
  const seen = new Set<string>();
  return tools.map((tool, index) => {
    const field = `tools[${index}]`;
    if (!isRecord(tool)) throw invalid(field, 'a tool definition ({ name, description?, parameters })', tool);
    const name = text(tool.name, `${field}.name`);
    if (!TOOL_NAME.test(name))
      throw invalid(`${field}.name`, 'letters, digits, _ or -, at most 64 of them', name);
    if (seen.has(name)) throw invalid(`${field}.name`, 'unique among the tools', name);
    seen.add(name);
    if (tool.parameters === undefined)
      throw invalid(`${field}.parameters`, 'a JSON Schema or a Standard Schema', undefined);
    const parameters = jsonSchemaOf(tool.parameters as SchemaInput, `${field}.parameters`);
    if (!isObjectSchema(parameters)) {
      throw invalid(
        `${field}.parameters`,
        'a schema whose root is an object (`type: "object"`)',
        parameters.type,
      );
    }
    const out: NormalizedTool = { name, parameters };
    if (tool.description !== undefined) out.description = text(tool.description, `${field}.description`);
    if (tool.strict !== undefined) {
      if (typeof tool.strict !== 'boolean') throw invalid(`${field}.strict`, 'a boolean', tool.strict);
      out.strict = tool.strict;
    }
    return out;
  });
}

export function normalizeToolChoice(
  choice: unknown,
  tools: readonly NormalizedTool[] | undefined,
): ToolChoice {
  if (choice === 'auto' || choice === 'none') return choice;
  if (choice === 'required' || isRecord(choice)) {
    if (!tools || tools.length === 0) throw invalid('toolChoice', 'used with `tools`', choice);
    if (choice === 'required') return choice;
    if (choice.type !== 'tool' || typeof choice.name !== 'string') {
      throw invalid('toolChoice', "'auto', 'none', 'required' or { type: 'tool', name }", choice);
    }
    if (!tools.some((tool) => tool.name === choice.name)) {
      throw invalid(
        'toolChoice.name',
        `one of the tools (${tools.map((tool) => tool.name).join(', ')})`,
        choice.name,
      );
    }
    return { type: 'tool', name: choice.name };
  }
  throw invalid('toolChoice', "'auto', 'none', 'required' or { type: 'tool', name }", choice);
}

export function normalizeResponseFormat(
  given: ResponseFormat | undefined,
): NormalizedResponseFormat | undefined {
  if (given === undefined) return undefined;
  if (!isRecord(given)) throw invalid('responseFormat', "{ type: 'text' | 'json' | 'json-schema' }", given);
  const format = given as ResponseFormat;
  if (format.type === 'text' || format.type === 'json') return { type: format.type };
  if (format.type !== 'json-schema') {
    throw invalid(
      'responseFormat.type',
      "'text', 'json' or 'json-schema'",
      (format as { type: unknown }).type,
    );
  }
  const schema = jsonSchemaOf(format.schema, 'responseFormat.schema');
  const name = format.name === undefined ? 'response' : text(format.name, 'responseFormat.name');
  if (!TOOL_NAME.test(name))
    throw invalid('responseFormat.name', 'letters, digits, _ or -, at most 64 of them', name);
  if (format.strict !== undefined && typeof format.strict !== 'boolean') {
    throw invalid('responseFormat.strict', 'a boolean', format.strict);
  }
  const out: NormalizedResponseFormat = { type: 'json-schema', schema, name, strict: format.strict ?? true };
  if (format.description !== undefined)
    out.description = text(format.description, 'responseFormat.description');
  return out;
}

export function normalizeReasoning(reasoning: unknown): ReasoningOptions {
  if (!isRecord(reasoning)) throw invalid('reasoning', 'an object ({ effort?, budgetTokens? })', reasoning);
  const out: ReasoningOptions = {};
  if (reasoning.effort !== undefined) {
    if (typeof reasoning.effort !== 'string' || !EFFORTS.has(reasoning.effort)) {
      throw invalid('reasoning.effort', [...EFFORTS].join(', '), reasoning.effort);
    }
    out.effort = reasoning.effort as ReasoningOptions['effort'] & string;
  }
  if (reasoning.budgetTokens !== undefined) {
    if (!Number.isInteger(reasoning.budgetTokens) || (reasoning.budgetTokens as number) < 0) {
      throw invalid('reasoning.budgetTokens', 'a non-negative integer', reasoning.budgetTokens);
    }
    out.budgetTokens = reasoning.budgetTokens as number;
  }
  return out;
}

const PROVIDER_NAMES: ReadonlySet<string> = new Set(PROVIDERS);

export function checkProviderOptions(options: unknown): ProviderOptions {
  if (!isRecord(options)) throw invalid('providerOptions', 'an object keyed by provider name', options);
  for (const [key, value] of Object.entries(options)) {
    if (!PROVIDER_NAMES.has(key)) {
      throw new LLMBadRequestError(
        `Invalid request: \`providerOptions\` is keyed by provider name (${PROVIDERS.join(', ')}); got \`${key}\`. Write \`providerOptions: { openai: { ${key}: … } }\` for the provider the field belongs to`,
      );
    }
    if (!isRecord(value))
      throw invalid(`providerOptions.${key}`, 'an object of native request fields', value);
  }
  return options as ProviderOptions;
}
