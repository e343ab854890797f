/**
 * Builds Anthropic Messages API bodies (`POST /v1/messages`, `POST /v1/messages/count_tokens`) from our
 * request: the conversation (`messages.ts`), tools and `tool_choice`, native structured output
 * (`output_config.format`, in the constrained-decoding dialect of `schema/anthropic.ts`), thinking
 * (`reasoning.ts`), and `providerOptions.anthropic` merged without ever overwriting what the request sets.
 *
 * @see https://platform.claude.com/docs/en/api/messages/create
 */
import { toAnthropicConstrained, whyNotConstrained } from '../../schema/anthropic.ts';
import { SchemaWarnings } from '../../schema/json-schema.ts';
import { LLMBadRequestError } from '../../spec/errors.ts';
import type { JsonSchema, Warning } from '../../spec/tools.ts';
import type { NormalizedTool } from '../normalized.ts';
import type { NormalizedRequest } from '../provider.ts';
import { mergeProviderOptions, unsupported } from '../request-helpers.ts';
import { claudeModel } from './capabilities.ts';
import { anthropicConversation } from './messages.ts';
import { restrictWhileThinking, thinkingSettings } from './reasoning.ts';

export { DEFAULT_ANTHROPIC_MAX_TOKENS } from './reasoning.ts';

/** The API version every request names in `anthropic-version`. */
export const ANTHROPIC_VERSION = '2023-06-01';

/**
 * Body fields our request defines, and the request field to use instead of a provider option.
 * `thinking` and `output_config` are not here: their other fields (`display`, `effort: 'max'`) may be
 * given, and merge with what `reasoning` and `responseFormat` set, a conflicting key being an error.
 */
const RESERVED: Record<string, string> = {
  model: 'model',
  messages: 'messages',
  system: 'system',
  max_tokens: 'maxTokens',
  temperature: 'temperature',
  top_p: 'topP',
  stop_sequences: 'stop',
  stream: 'stream()',
  tools: 'tools',
  tool_choice: 'toolChoice',
};

/** A schema for the constrained decoder, with what changed said in `warnings`. */
function constrainedSchema(schema: JsonSchema, where: string, warnings: Warning[]): JsonSchema {
  const collected = new SchemaWarnings(where);
  const converted = toAnthropicConstrained(schema, collected);
  warnings.push(...collected.list);
  return converted;
}

function wireTool(tool: NormalizedTool, model: string, warnings: Warning[]): Record<string, unknown> {
  const wire: Record<string, unknown> = { name: tool.name };
  if (tool.description !== undefined) wire.description = tool.description;
  const { $schema: _dialect, ...parameters } = tool.parameters;
  if (tool.strict) {
    const why = claudeModel(model).structuredOutput
      ? whyNotConstrained(parameters)
      : `${model} has no strict tool use`;
    if (why === undefined) {
      wire.input_schema = constrainedSchema(parameters, `tool ${tool.name} for anthropic`, warnings);
      wire.strict = true;
      return wire;
    }
    warnings.push({
      code: 'strict-off',
      message: `tool ${tool.name} for anthropic: sent without strict (constrained decoding cannot take ${why})`,
    });
  }
  wire.input_schema = parameters;
  return wire;
}

function toolChoice(request: NormalizedRequest): Record<string, unknown> | undefined {
  const choice = request.toolChoice;
  if (choice === 'none') return { type: 'none' };
  let wire: Record<string, unknown> | undefined;
  if (choice === 'auto') wire = { type: 'auto' };
  else if (choice === 'required') wire = { type: 'any' };
  else if (typeof choice === 'object') wire = { type: 'tool', name: choice.name };
  if (request.parallelToolCalls === false) {
    wire ??= { type: 'auto' };
    wire.disable_parallel_tool_use = true;
  }
  return wire;
}

function outputFormat(request: NormalizedRequest, warnings: Warning[]): Record<string, unknown> | undefined {
  const format = request.responseFormat;
  if (!format || format.type === 'text') return undefined;
  const model = request.model;
  if (format.type === 'json') {
    throw unsupported(
      'anthropic',
      model,
      "JSON mode without a schema (give responseFormat { type: 'json-schema', schema })",
    );
  }
  if (!claudeModel(model).structuredOutput) {
    throw unsupported(
      'anthropic',
      model,
      'native structured output (generateObject falls back to a forced tool call)',
    );
  }
  const why = whyNotConstrained(format.schema);
  if (why)
    throw unsupported('anthropic', model, `structured output for ${why} (constrained decoding needs a type)`);
  if (format.description !== undefined) {
    warnings.push({
      code: 'setting-ignored',
      message:
        'responseFormat for anthropic: `description` has no place in output_config.format (put it in the schema)',
    });
  }
  return {
    type: 'json_schema',
    schema: constrainedSchema(format.schema, 'responseFormat for anthropic', warnings),
  };
}

/** The body of `POST /v1/messages`, and what could not be carried over exactly. */
export function messagesBody(
  request: NormalizedRequest,
  stream: boolean,
): { body: string; warnings: Warning[] } {
  const conversation = anthropicConversation(request.messages, request.model);
  const warnings = conversation.warnings;
  if (conversation.hasToolBlocks && !request.tools) {
    throw new LLMBadRequestError(
      "Invalid request: Anthropic requires `tools` whenever the conversation has tool calls or results; pass the tools (with toolChoice 'none' to forbid new calls)",
      { provider: 'anthropic', model: request.model },
    );
  }
  const thinking = thinkingSettings(request, warnings);
  const body: Record<string, unknown> = { model: request.model };
  if (conversation.system !== undefined) body.system = conversation.system;
  body.messages = conversation.messages;
  body.max_tokens = thinking.maxTokens;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined)
    body.stop_sequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.seed !== undefined) {
    warnings.push({
      code: 'setting-ignored',
      message: 'anthropic: `seed` has no Messages API equivalent and was not sent',
    });
  }
  if (request.tools) {
    body.tools = request.tools.map((tool) => wireTool(tool, request.model, warnings));
    const choice = toolChoice(request);
    if (choice) body.tool_choice = choice;
  }
  restrictWhileThinking(body, request, thinking, warnings);
  if (thinking.thinking) body.thinking = thinking.thinking;
  const outputConfig: Record<string, unknown> = {};
  const format = outputFormat(request, warnings);
  if (format) outputConfig.format = format;
  if (thinking.effort) outputConfig.effort = thinking.effort;
  if (Object.keys(outputConfig).length > 0) body.output_config = outputConfig;
  if (stream) body.stream = true;
  mergeProviderOptions(body, request.providerOptions, 'anthropic', RESERVED);
  return { body: JSON.stringify(body), warnings };
}

/**
 * The body of `POST /v1/messages/count_tokens`: model, system, messages, tools and what changes the count
 * (`tool_choice`, `thinking`, `output_config`); sampling fields are not accepted there.
 */
export function countTokensBody(request: NormalizedRequest): string {
  const full = JSON.parse(messagesBody(request, false).body) as Record<string, unknown>;
  const body: Record<string, unknown> = {};
  for (const name of ['model', 'system', 'messages', 'tools', 'tool_choice', 'thinking', 'output_config']) {
    if (full[name] !== undefined) body[name] = full[name];
  }
  return JSON.stringify(body);
}
