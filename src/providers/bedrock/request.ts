/**
 * Builds Bedrock Converse / ConverseStream requests from our request shape — the conversation
 * (`request-messages.ts`), tools (`request-tools.ts`), reasoning (`request-reasoning.ts`), structured output
 * (`outputConfig.textFormat`, the schema as a JSON string) and sampling — and the model paths every Bedrock
 * operation uses.
 *
 * @see https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_Converse.html
 */
import { toBedrockConstrained } from '../../schema/bedrock.ts';
import { SchemaWarnings } from '../../schema/json-schema.ts';
import type { Warning } from '../../spec/tools.ts';
import type { NormalizedRequest } from '../provider.ts';
import { mergeProviderOptions, unsupported } from '../request-helpers.ts';
import { bedrockTraits } from './capabilities.ts';
import { converseConversation, hasToolBlocks } from './request-messages.ts';
import { reasoningFields } from './request-reasoning.ts';
import { forcesTool, toolFields } from './request-tools.ts';

export type BedrockOperation = 'converse' | 'converse-stream' | 'invoke';

/**
 * A model id as one path segment. Ids and ARNs contain ':' and '/', so they are percent-encoded the way the
 * AWS SDK encodes labels (`encodeURIComponent`, plus `!'()*`); the request is signed with this exact path.
 */
export function encodeModelId(modelId: string): string {
  return encodeURIComponent(modelId).replace(
    /[!'()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

/** `/model/{modelId}/{operation}` with the id encoded. */
export function modelPath(modelId: string, operation: BedrockOperation): string {
  return `/model/${encodeModelId(modelId)}/${operation}`;
}

/** Body fields our request defines, and the request field to use instead of a provider option. */
const RESERVED: Record<string, string> = {
  modelId: 'model',
  messages: 'messages',
  system: 'system',
  toolConfig: 'tools',
};

type Json = Record<string, unknown>;

function inferenceConfig(
  request: NormalizedRequest,
  maxTokens: number | null | undefined,
  dropSampling: string | undefined,
  warnings: Warning[],
): Json {
  const config: Json = {};
  const max = maxTokens === undefined ? request.maxTokens : maxTokens;
  if (max !== null && max !== undefined) config.maxTokens = max;
  for (const field of ['temperature', 'topP'] as const) {
    const value = request[field];
    if (value === undefined) continue;
    if (dropSampling) {
      warnings.push({ code: 'setting-ignored', message: `bedrock: ${field} is not sent (${dropSampling})` });
      continue;
    }
    if (field === 'temperature' && value > 1) {
      warnings.push({
        code: 'setting-changed',
        message: `bedrock: temperature ${value} is sent as 1 (Converse takes 0 to 1)`,
      });
      config.temperature = 1;
    } else config[field] = value;
  }
  if (request.stop !== undefined)
    config.stopSequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  return config;
}

function outputConfig(
  request: NormalizedRequest,
  nativeStructuredOutput: boolean,
  warnings: Warning[],
): Json | undefined {
  const format = request.responseFormat;
  if (!format || format.type === 'text') return undefined;
  if (format.type === 'json') {
    throw unsupported(
      'bedrock',
      request.model,
      "JSON mode without a schema (give responseFormat { type: 'json-schema', schema })",
    );
  }
  if (!nativeStructuredOutput) {
    throw unsupported(
      'bedrock',
      request.model,
      'native structured output (outputConfig.textFormat); generateObject falls back to a forced tool call for it',
    );
  }
  const collected = new SchemaWarnings('responseFormat');
  const schema = toBedrockConstrained(format.schema, collected);
  warnings.push(...collected.list);
  const jsonSchema: Json = { schema: JSON.stringify(schema), name: format.name };
  if (format.description !== undefined) jsonSchema.description = format.description;
  return { textFormat: { type: 'json_schema', structure: { jsonSchema } } };
}

/**
 * The Converse body and what could not be carried over exactly. `providerOptions.bedrock` is merged last
 * (`additionalModelRequestFields`, `guardrailConfig`, `performanceConfig`, …) and may not overwrite what
 * the request defines.
 */
export function converseBody(request: NormalizedRequest): { body: string; warnings: Warning[] } {
  const warnings: Warning[] = [];
  const traits = bedrockTraits(request.model);
  const { system, messages, historyToolNames } = converseConversation(request, traits, warnings);
  const reasoning = reasoningFields(request, traits, warnings);
  if (reasoning?.thinking && forcesTool(request)) {
    throw unsupported(
      'bedrock',
      request.model,
      'a forced tool choice (toolChoice \'required\' or a named tool) while reasoning is on (Claude refuses it: "Thinking may not be enabled when tool_choice forces tool use")',
    );
  }
  const tools = toolFields(request, traits, historyToolNames, hasToolBlocks(messages), warnings);
  const body: Json = { messages };
  if (system.length > 0) body.system = system;
  const dropSampling = traits.noSampling
    ? `${request.model} takes no sampling parameters`
    : reasoning?.thinking
      ? 'Claude takes no sampling parameters while thinking'
      : undefined;
  const config = inferenceConfig(request, reasoning?.maxTokens, dropSampling, warnings);
  if (Object.keys(config).length > 0) body.inferenceConfig = config;
  if (tools.toolConfig) body.toolConfig = tools.toolConfig;
  const output = outputConfig(request, traits.nativeStructuredOutput, warnings);
  if (output) body.outputConfig = output;
  const additional: Json = { ...reasoning?.additional };
  if (tools.anthropicToolChoice) additional.tool_choice = tools.anthropicToolChoice;
  if (Object.keys(additional).length > 0) body.additionalModelRequestFields = additional;
  if (request.seed !== undefined) {
    warnings.push({ code: 'setting-ignored', message: 'bedrock: Converse has no seed; seed is not sent' });
  }
  mergeProviderOptions(body, request.providerOptions, 'bedrock', RESERVED);
  return { body: JSON.stringify(body), warnings };
}
