/**
 * Tools and tool choice on Converse: `toolConfig: { tools: [{ toolSpec: { name, description?, inputSchema:
 * { json }, strict? } }], toolChoice: { auto | any | tool: { name } } }`.
 *
 * - Converse has no `none`: without tool history the tools are left out; with it `toolConfig` must stay
 *   ("The toolConfig field must be defined when using toolUse and toolResult content blocks"), so the tools
 *   are offered with no `toolChoice` (the model may still call one) and a warning says so.
 * - History with tool calls but no `tools` in the request: tool specs are made from the names in the
 *   history (an open object schema, a description saying they are not available now), with a warning, so
 *   that the same conversation works on Bedrock as it does elsewhere.
 * - A named tool where the model has no `tool` member (gpt-oss, Mistral, …) is `any` with that tool alone.
 * - `parallelToolCalls: false`: Claude takes Anthropic's own `tool_choice` with `disable_parallel_tool_use`
 *   through `additionalModelRequestFields` (instead of `toolConfig.toolChoice`, which it would conflict with);
 *   elsewhere Converse has no such setting and a warning says so.
 *
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ToolConfiguration.html
 */
import { plainBedrockSchema, toBedrockConstrained } from '../../schema/bedrock.ts';
import { SchemaWarnings } from '../../schema/json-schema.ts';
import type { ToolChoice, Warning } from '../../spec/tools.ts';
import type { NormalizedTool } from '../normalized.ts';
import type { NormalizedRequest } from '../provider.ts';
import { unsupported } from '../request-helpers.ts';
import type { BedrockModelTraits } from './capabilities.ts';

type Json = Record<string, unknown>;

export interface ToolFields {
  toolConfig?: Json;
  /** Claude's `tool_choice`, for `additionalModelRequestFields`. */
  anthropicToolChoice?: Json;
}

function toolSpec(
  tool: NormalizedTool,
  traits: BedrockModelTraits,
  model: string,
  warnings: Warning[],
): Json {
  const spec: Json = { name: tool.name };
  if (tool.description) spec.description = tool.description;
  if (tool.strict && traits.nativeStructuredOutput) {
    const collected = new SchemaWarnings(`tool ${tool.name}`);
    spec.inputSchema = { json: toBedrockConstrained(tool.parameters, collected) };
    spec.strict = true;
    warnings.push(...collected.list);
  } else {
    if (tool.strict) {
      warnings.push({
        code: 'setting-ignored',
        message: `bedrock: ${model} has no strict tools; tool ${tool.name} is sent without strict`,
      });
    }
    spec.inputSchema = { json: plainBedrockSchema(tool.parameters) };
  }
  return { toolSpec: spec };
}

/** Specs for tools the history called but the request does not offer. */
function synthesizedTools(names: ReadonlySet<string>, warnings: Warning[]): Json[] {
  warnings.push({
    code: 'tools-synthesized',
    message: `bedrock: the conversation has tool calls but the request offers no tools; Converse requires toolConfig then, so ${[...names].join(', ')} ${names.size === 1 ? 'is' : 'are'} declared from the history (the model could call ${names.size === 1 ? 'it' : 'them'}; pass \`tools\` to control this)`,
  });
  return [...names].map((name) => ({
    toolSpec: {
      name,
      description: 'Called earlier in this conversation; not available now.',
      inputSchema: { json: { type: 'object' } },
    },
  }));
}

function wireChoice(
  choice: Exclude<ToolChoice, 'none'>,
  traits: BedrockModelTraits,
  model: string,
): Json | undefined {
  if (choice === 'auto') return traits.anyToolChoice ? { auto: {} } : undefined;
  if (!traits.anyToolChoice) {
    throw unsupported(
      'bedrock',
      model,
      `toolChoice ${typeof choice === 'string' ? choice : `{ type: 'tool' }`} (it takes auto only)`,
    );
  }
  if (choice === 'required') return { any: {} };
  return traits.namedToolChoice ? { tool: { name: choice.name } } : { any: {} };
}

function anthropicChoice(choice: Exclude<ToolChoice, 'none'>): Json {
  if (choice === 'auto') return { type: 'auto', disable_parallel_tool_use: true };
  if (choice === 'required') return { type: 'any', disable_parallel_tool_use: true };
  return { type: 'tool', name: choice.name, disable_parallel_tool_use: true };
}

/** `toolConfig` (and Claude's own `tool_choice`) for the request. */
export function toolFields(
  request: NormalizedRequest,
  traits: BedrockModelTraits,
  historyToolNames: ReadonlySet<string>,
  historyHasToolBlocks: boolean,
  warnings: Warning[],
): ToolFields {
  const model = request.model;
  const offered = request.tools ?? [];
  if (offered.length === 0) {
    return historyHasToolBlocks
      ? { toolConfig: { tools: synthesizedTools(historyToolNames, warnings) } }
      : {};
  }
  const choice = request.toolChoice ?? 'auto';
  if (choice === 'none') {
    if (!historyHasToolBlocks) return {};
    warnings.push({
      code: 'setting-changed',
      message:
        "bedrock: toolChoice 'none' has no Converse form and the conversation has tool calls (which need toolConfig), so the tools are still offered; the model may call one",
    });
    return { toolConfig: { tools: offered.map((tool) => toolSpec(tool, traits, model, warnings)) } };
  }
  // Where the model cannot be told which tool, offering only that one (with `any`) forces it.
  const named = typeof choice === 'object' && !traits.namedToolChoice ? choice.name : undefined;
  const tools = (named ? offered.filter((tool) => tool.name === named) : offered).map((tool) =>
    toolSpec(tool, traits, model, warnings),
  );
  const toolConfig: Json = { tools };
  if (request.parallelToolCalls === false && traits.anthropicToolChoice) {
    return { toolConfig, anthropicToolChoice: anthropicChoice(choice) };
  }
  if (request.parallelToolCalls === false) {
    warnings.push({
      code: 'setting-ignored',
      message: `bedrock: ${model} has no setting for parallelToolCalls: false; the model may still call several tools at once`,
    });
  }
  const wire = request.toolChoice === undefined ? undefined : wireChoice(choice, traits, model);
  if (wire) toolConfig.toolChoice = wire;
  return { toolConfig };
}

/** True when the request forces a tool call (what Claude refuses while thinking). */
export function forcesTool(request: NormalizedRequest): boolean {
  const choice = request.toolChoice;
  return (request.tools?.length ?? 0) > 0 && (choice === 'required' || typeof choice === 'object');
}
