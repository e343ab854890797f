/**
 * Builds OpenAI Chat Completions and Embeddings request bodies from our request shape: messages with
 * images (URL or data URL) and PDFs (data URL), the assistant's tool calls and their results, tools,
 * tool choice, structured output and reasoning effort.
 *
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */
import { SchemaWarnings } from '../../schema/json-schema.ts';
import { toOpenAIStrict, whyNotStrict } from '../../schema/openai-strict.ts';
import type { AssistantContentPart } from '../../spec/messages.ts';
import type { JsonSchema, Warning } from '../../spec/tools.ts';
import type { EmbeddingOptions, ProviderName } from '../../spec/types.ts';
import {
  dataUrl,
  isTextOnly,
  joinText,
  type NormalizedMessage,
  type NormalizedTool,
  type NormalizedUserPart,
} from '../normalized.ts';
import type { NormalizedRequest } from '../provider.ts';
import { mergeProviderOptions, unsupported } from '../request-helpers.ts';

export interface OpenAIBodyOptions {
  provider: ProviderName;
  /**
   * Which field carries `maxTokens`. OpenAI's current models take `max_completion_tokens` (reasoning models
   * reject `max_tokens`); most OpenAI-compatible servers and older Azure API versions only know `max_tokens`.
   */
  maxTokensField: 'max_completion_tokens' | 'max_tokens';
  /** Whether to send `model` in the body (Azure's deployment URLs carry it in the path). */
  includeModel: boolean;
  /** Send the assistant's reasoning back as `reasoning_content` (compatible servers such as vLLM want it). */
  replayReasoning: boolean;
}

/** Body fields our request defines, and the request field to use instead of a provider option. */
const RESERVED: Record<string, string> = {
  model: 'model',
  messages: 'messages',
  tools: 'tools',
  tool_choice: 'toolChoice',
  parallel_tool_calls: 'parallelToolCalls',
  response_format: 'responseFormat',
  stream: 'stream()',
  functions: 'tools',
  function_call: 'toolChoice',
};

function userPart(part: NormalizedUserPart, request: NormalizedRequest, provider: ProviderName): unknown {
  switch (part.type) {
    case 'text':
      return { type: 'text', text: part.text };
    case 'image':
      return {
        type: 'image_url',
        image_url: { url: part.source.kind === 'url' ? part.source.url : dataUrl(part.source) },
      };
    case 'file': {
      // Chat Completions takes PDFs inline only (the client downloads URLs first).
      if (part.source.kind === 'url') throw unsupported(provider, request.model, 'files by URL');
      if (part.source.mediaType !== 'application/pdf') {
        throw unsupported(provider, request.model, `${part.source.mediaType} files (PDF only)`);
      }
      const file: Record<string, unknown> = { file_data: dataUrl(part.source) };
      file.filename = part.filename ?? 'document.pdf';
      return { type: 'file', file };
    }
  }
}

function assistantMessage(
  content: readonly AssistantContentPart[],
  options: OpenAIBodyOptions,
): Record<string, unknown> {
  const wire: Record<string, unknown> = { role: 'assistant' };
  const text = joinText(content);
  const calls = content.filter((part) => part.type === 'tool-call');
  wire.content = text.length > 0 || calls.length === 0 ? text : null;
  if (calls.length > 0) {
    wire.tool_calls = calls.map((call) => ({
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  if (options.replayReasoning) {
    let reasoning = '';
    for (const part of content) if (part.type === 'reasoning') reasoning += part.text;
    if (reasoning) wire.reasoning_content = reasoning;
  }
  return wire;
}

function wireMessage(
  message: NormalizedMessage,
  request: NormalizedRequest,
  options: OpenAIBodyOptions,
): unknown {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user': {
      const wire: Record<string, unknown> = {
        role: 'user',
        content:
          message.content.length === 1 && isTextOnly(message.content)
            ? joinText(message.content)
            : message.content.map((part) => userPart(part, request, options.provider)),
      };
      if (message.name !== undefined) wire.name = message.name;
      return wire;
    }
    case 'assistant': {
      const wire = assistantMessage(message.content, options);
      if (message.name !== undefined) wire.name = message.name;
      return wire;
    }
    case 'tool': {
      // Tool messages carry text only on Chat Completions.
      if (!isTextOnly(message.content)) {
        throw unsupported(options.provider, request.model, 'images or files in tool results');
      }
      return { role: 'tool', tool_call_id: message.toolCallId, content: joinText(message.content) };
    }
  }
}

/** A schema as it goes out: strict where asked and expressible, with what had to change said. */
function wireSchema(
  schema: JsonSchema,
  strict: boolean,
  where: string,
  warnings: Warning[],
): { schema: JsonSchema; strict: boolean } {
  const collected = new SchemaWarnings(where);
  let out: { schema: JsonSchema; strict: boolean };
  if (!strict) {
    const { $schema: _meta, ...rest } = schema;
    out = { schema: rest, strict: false };
  } else {
    const reason = whyNotStrict(schema);
    if (reason) {
      warnings.push({
        code: 'strict-off',
        message: `${where}: sent with strict: false (strict mode cannot express ${reason})`,
      });
      const { $schema: _meta, ...rest } = schema;
      out = { schema: rest, strict: false };
    } else out = { schema: toOpenAIStrict(schema, collected), strict: true };
  }
  warnings.push(...collected.list);
  return out;
}

function wireTool(tool: NormalizedTool, warnings: Warning[]): unknown {
  const fn: Record<string, unknown> = { name: tool.name };
  if (tool.description !== undefined) fn.description = tool.description;
  if (tool.strict) {
    const converted = wireSchema(tool.parameters, true, `tool ${tool.name}`, warnings);
    fn.parameters = converted.schema;
    fn.strict = converted.strict;
  } else {
    const { $schema: _meta, ...parameters } = tool.parameters;
    fn.parameters = parameters;
    if (tool.strict === false) fn.strict = false;
  }
  return { type: 'function', function: fn };
}

const EFFORT: Record<string, string> = {
  none: 'none',
  minimal: 'minimal',
  low: 'low',
  medium: 'medium',
  high: 'high',
  xhigh: 'xhigh',
};

/** The chat completion body, and what could not be carried over exactly. */
export function chatCompletionBody(
  request: NormalizedRequest,
  stream: boolean,
  options: OpenAIBodyOptions,
): { body: string; warnings: Warning[] } {
  const warnings: Warning[] = [];
  const body: Record<string, unknown> = {};
  if (options.includeModel) body.model = request.model;
  body.messages = request.messages.map((message) => wireMessage(message, request, options));
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.maxTokens !== undefined) body[options.maxTokensField] = request.maxTokens;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined) body.stop = request.stop;
  if (request.seed !== undefined) body.seed = request.seed;
  if (request.tools) {
    body.tools = request.tools.map((tool) => wireTool(tool, warnings));
    if (request.toolChoice !== undefined) {
      const choice = request.toolChoice;
      body.tool_choice =
        typeof choice === 'string' ? choice : { type: 'function', function: { name: choice.name } };
    }
    if (request.parallelToolCalls !== undefined) body.parallel_tool_calls = request.parallelToolCalls;
  }
  const format = request.responseFormat;
  if (format?.type === 'json') body.response_format = { type: 'json_object' };
  else if (format?.type === 'json-schema') {
    const converted = wireSchema(format.schema, format.strict, 'responseFormat', warnings);
    const jsonSchema: Record<string, unknown> = {
      name: format.name,
      schema: converted.schema,
      strict: converted.strict,
    };
    if (format.description !== undefined) jsonSchema.description = format.description;
    body.response_format = { type: 'json_schema', json_schema: jsonSchema };
  }
  if (request.reasoning) {
    const { effort, budgetTokens } = request.reasoning;
    if (effort !== undefined) body.reasoning_effort = EFFORT[effort];
    if (budgetTokens !== undefined) {
      warnings.push({
        code: 'setting-ignored',
        message: `${options.provider}: reasoning.budgetTokens is not a Chat Completions setting (use reasoning.effort)`,
      });
    }
  }
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  mergeProviderOptions(body, request.providerOptions, options.provider, RESERVED);
  return { body: JSON.stringify(body), warnings };
}

export function embeddingsBody(
  texts: readonly string[],
  model: string | undefined,
  options: EmbeddingOptions,
  encoding: 'base64' | 'float',
): string {
  const body: Record<string, unknown> = {};
  if (model !== undefined) body.model = model;
  body.input = texts;
  body.encoding_format = encoding;
  if (options.dimensions !== undefined) body.dimensions = options.dimensions;
  return JSON.stringify(body);
}
