/**
 * Builds Ollama's native `/api/chat` and `/api/embed` request bodies from our request shape: user images
 * (`images`, raw base64), the assistant's text, thinking and tool calls (arguments as objects), tool results
 * (`tool_name`, and `tool_call_id` for the servers that pair by id), tools in Ollama's schema dialect,
 * `format` (a JSON Schema, or `json`), `think`, and sampling settings in `options`.
 *
 * @see https://github.com/ollama/ollama/blob/main/docs/api.md#generate-a-chat-completion
 * @see https://github.com/ollama/ollama/blob/main/docs/capabilities/tool-calling.mdx
 */
import { SchemaWarnings } from '../../schema/json-schema.ts';
import { toOllamaToolParameters } from '../../schema/ollama.ts';
import { LLMBadRequestError } from '../../spec/errors.ts';
import { isRecord, type Json } from '../../spec/json.ts';
import type { AssistantContentPart, ToolCallPart } from '../../spec/messages.ts';
import type { ReasoningOptions, Warning } from '../../spec/tools.ts';
import type { EmbeddingOptions } from '../../spec/types.ts';
import {
  joinText,
  type NormalizedMessage,
  type NormalizedTool,
  type NormalizedUserPart,
} from '../normalized.ts';
import type { NormalizedRequest } from '../provider.ts';
import { mergeProviderOptions, unsupported } from '../request-helpers.ts';

const PROVIDER = 'ollama';

/** Body fields our request defines, and the request field to use instead of a provider option. */
const RESERVED: Record<string, string> = {
  model: 'model',
  messages: 'messages',
  tools: 'tools',
  format: 'responseFormat',
  think: 'reasoning',
  stream: 'stream()',
};

/** gpt-oss takes thinking levels only (it ignores true and false); other thinking models take a boolean. */
const LEVELS_ONLY = /gpt-oss/i;
const LEVEL = { none: 'low', minimal: 'low', low: 'low', medium: 'medium', high: 'high', xhigh: 'high' };

/**
 * `{model, messages, tools?, format?, think?, stream, options?}`. Sampling settings go in `options` under
 * Ollama's names (`num_predict` for `maxTokens`); `stop` is always a list, as the server requires. `stream`
 * is always written, because the server streams when the field is absent. `providerOptions.ollama` is
 * merged last, its `options` one level down (so `num_ctx` sits beside `temperature`), and never overwrites
 * a field the request sets.
 */
export function ollamaChatBody(
  request: NormalizedRequest,
  stream: boolean,
): { body: string; warnings: Warning[] } {
  const warnings: Warning[] = [];
  const body: Json = { model: request.model, messages: wireMessages(request, warnings) };
  const tools = wireTools(request, warnings);
  if (tools) body.tools = tools;
  const format = request.responseFormat;
  if (format?.type === 'json') body.format = 'json';
  else if (format?.type === 'json-schema') {
    // Handed raw to Ollama's JSON Schema → grammar converter; `$schema` only names the dialect.
    const { $schema: _dialect, ...schema } = format.schema;
    body.format = schema;
  }
  const think = thinkValue(request.reasoning, request.model, warnings);
  if (think !== undefined) body.think = think;
  body.stream = stream;

  const options: Json = {};
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.maxTokens !== undefined) options.num_predict = request.maxTokens;
  if (request.topP !== undefined) options.top_p = request.topP;
  if (request.stop !== undefined)
    options.stop = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.seed !== undefined) options.seed = request.seed;
  if (Object.keys(options).length > 0) body.options = options;
  mergeProviderOptions(body, request.providerOptions, PROVIDER, RESERVED);
  return { body: JSON.stringify(body), warnings };
}

/** What the messages could not carry: counted while they are built, said once each. */
interface Dropped {
  names: boolean;
  foreignReasoning: number;
}

function wireMessages(request: NormalizedRequest, warnings: Warning[]): Json[] {
  const dropped: Dropped = { names: false, foreignReasoning: 0 };
  const wire = request.messages.map((message, index) => wireMessage(message, index, request, dropped));
  if (dropped.names) {
    warnings.push({
      code: 'setting-ignored',
      message: 'ollama: a user message `name` was not sent (Ollama chat messages have no participant name)',
    });
  }
  if (dropped.foreignReasoning > 0) {
    warnings.push({
      code: 'metadata-dropped',
      message: `ollama: ${dropped.foreignReasoning} reasoning part(s) produced by another provider were not sent back (another model's thinking is not this model's own)`,
    });
  }
  return wire;
}

function wireMessage(
  message: NormalizedMessage,
  index: number,
  request: NormalizedRequest,
  dropped: Dropped,
): Json {
  switch (message.role) {
    case 'system':
      return { role: 'system', content: message.content };
    case 'user':
      if (message.name !== undefined) dropped.names = true;
      return withImages({ role: 'user', content: userText(message.content) }, message.content, request);
    case 'assistant': {
      const out: Json = { role: 'assistant', content: joinText(message.content) };
      let thinking = '';
      for (const part of message.content) {
        if (part.type !== 'reasoning') continue;
        if (isForeign(part)) dropped.foreignReasoning++;
        else thinking += part.text;
      }
      if (thinking) out.thinking = thinking;
      const calls: Json[] = [];
      message.content.forEach((part, at) => {
        if (part.type === 'tool-call') calls.push(wireToolCall(part, `messages[${index}].content[${at}]`));
      });
      if (calls.length > 0) out.tool_calls = calls;
      return out;
    }
    case 'tool':
      return withImages(
        {
          role: 'tool',
          content: userText(message.content),
          // Every server reads `tool_name`; current ones also pair a result with its call by id.
          tool_name: message.toolName,
          tool_call_id: message.toolCallId,
        },
        message.content,
        request,
      );
  }
}

/** A reasoning part that carries only another provider's state (a signature, redacted data): not ours. */
function isForeign(part: Extract<AssistantContentPart, { type: 'reasoning' }>): boolean {
  const metadata = part.providerMetadata;
  return metadata !== undefined && Object.keys(metadata).length > 0 && !(PROVIDER in metadata);
}

/** The text parts of a user or tool message, one per line (Ollama has one `content` string per message). */
function userText(parts: readonly NormalizedUserPart[]): string {
  const texts: string[] = [];
  for (const part of parts) if (part.type === 'text' && part.text !== '') texts.push(part.text);
  return texts.join('\n');
}

/** `images: [base64, …]` on the message; files and image URLs fail before sending. */
function withImages(wire: Json, parts: readonly NormalizedUserPart[], request: NormalizedRequest): Json {
  const images: string[] = [];
  for (const part of parts) {
    if (part.type === 'file') {
      throw unsupported(
        PROVIDER,
        request.model,
        `${part.source.mediaType ?? 'file'} files (Ollama's chat takes text and images)`,
      );
    }
    if (part.type !== 'image') continue;
    // The client downloads URLs first (capabilities.imageUrls is false); Ollama itself fetches nothing.
    if (part.source.kind === 'url') throw unsupported(PROVIDER, request.model, 'images by URL');
    images.push(part.source.data);
  }
  if (images.length > 0) wire.images = images;
  return wire;
}

/** `{id, function: {name, arguments}}`, the arguments as the object Ollama requires. */
function wireToolCall(call: ToolCallPart, field: string): Json {
  let args: unknown;
  try {
    args = JSON.parse(call.arguments);
  } catch {
    args = undefined;
  }
  if (!isRecord(args)) {
    throw new LLMBadRequestError(
      `Invalid request: \`${field}.arguments\` (tool call ${call.id}, ${call.name}) must be a JSON object: Ollama takes tool-call arguments as an object (got ${JSON.stringify(call.arguments.slice(0, 40))})`,
    );
  }
  return { id: call.id, function: { name: call.name, arguments: args } };
}

function wireTools(request: NormalizedRequest, warnings: Warning[]): Json[] | undefined {
  const tools = request.tools;
  if (!tools || tools.length === 0) return undefined;
  const choice = request.toolChoice ?? 'auto';
  if (choice === 'required') {
    throw unsupported(PROVIDER, request.model, "toolChoice 'required' (Ollama has no tool_choice)");
  }
  if (typeof choice === 'object') {
    throw unsupported(
      PROVIDER,
      request.model,
      `a forced tool choice (${choice.name}): Ollama has no tool_choice`,
    );
  }
  if (request.parallelToolCalls === false) {
    warnings.push({
      code: 'setting-ignored',
      message:
        'ollama: parallelToolCalls: false has no Ollama setting; the model may still call several tools',
    });
  }
  if (choice === 'none') {
    const historyHasCalls = request.messages.some(
      (message) => message.role === 'assistant' && message.content.some((part) => part.type === 'tool-call'),
    );
    if (historyHasCalls) {
      warnings.push({
        code: 'setting-changed',
        message:
          "ollama: toolChoice 'none' was sent as no tools (Ollama has no tool_choice); the conversation's earlier tool calls were sent without their tools' definitions",
      });
    }
    return undefined;
  }
  return tools.map((tool) => wireTool(tool, request.model, warnings));
}

function wireTool(tool: NormalizedTool, model: string, warnings: Warning[]): Json {
  const collected = new SchemaWarnings(`tool ${tool.name}`);
  const parameters = toOllamaToolParameters(tool.parameters, collected, (message) => {
    throw unsupported(PROVIDER, model, `the schema of tool ${tool.name}: ${message}`);
  });
  warnings.push(...collected.list);
  if (tool.strict) {
    warnings.push({
      code: 'setting-ignored',
      message: `ollama: tool ${tool.name}: strict has no Ollama setting (arguments are not constrained to the schema)`,
    });
  }
  const fn: Json = { name: tool.name };
  if (tool.description !== undefined) fn.description = tool.description;
  fn.parameters = parameters;
  return { type: 'function', function: fn };
}

/**
 * `think`: `false` for effort `none`; a level for gpt-oss (which ignores booleans); `true` for every other
 * model, whose thinking is on or off (some server versions reject a level there with `think value "low" is
 * not supported for this model`). No budget exists: `budgetTokens` is a warning.
 */
function thinkValue(
  reasoning: ReasoningOptions | undefined,
  model: string,
  warnings: Warning[],
): boolean | string | undefined {
  if (reasoning === undefined) return undefined;
  const { effort, budgetTokens } = reasoning;
  if (budgetTokens !== undefined) {
    warnings.push({
      code: 'setting-ignored',
      message:
        'ollama: reasoning.budgetTokens has no Ollama setting (think is on or off, or a level on gpt-oss: use reasoning.effort)',
    });
  }
  if (effort === undefined) return true;
  if (LEVELS_ONLY.test(model)) {
    const level = LEVEL[effort];
    if (level !== effort) {
      warnings.push({
        code: 'setting-changed',
        message: `ollama: reasoning.effort '${effort}' was sent as think: '${level}' (${model} takes low, medium or high${effort === 'none' ? ', and always reasons' : ''})`,
      });
    }
    return level;
  }
  if (effort === 'none') return false;
  if (effort !== 'medium') {
    warnings.push({
      code: 'setting-changed',
      message: `ollama: reasoning.effort '${effort}' was sent as think: true (${model} thinks or not; levels are gpt-oss's)`,
    });
  }
  return true;
}

/** `{model, input: [...], dimensions?}`: always a list, so one request shape serves every batch. */
export function ollamaEmbedBody(texts: readonly string[], model: string, options: EmbeddingOptions): string {
  const body: Json = { model, input: texts };
  if (options.dimensions !== undefined) body.dimensions = options.dimensions;
  return JSON.stringify(body);
}
