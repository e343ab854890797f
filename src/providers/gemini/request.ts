/**
 * Builds Gemini (Generative Language API) bodies from our request shape: `generateContent` (the
 * conversation from `contents.ts`; tools as `functionDeclarations` with `toolConfig`; sampling, JSON output
 * and thinking in `generationConfig`), `countTokens` and `batchEmbedContents`.
 *
 * Schemas go as JSON Schema (`parametersJsonSchema`, `responseJsonSchema`) to Gemini 2.5 and later, and
 * through the OpenAPI converter (`parameters`, `responseSchema`) to older and unknown models
 * (`capabilities.ts` decides by name). `providerOptions.gemini` is merged into the body; it may add
 * Gemini's built-in tools (`googleSearch`, `codeExecution`, …) but never functions, the conversation or
 * a field the request already sets.
 *
 * @see https://ai.google.dev/api/generate-content#request-body
 * @see https://ai.google.dev/gemini-api/docs/function-calling
 */

import { isEmptyObjectSchema, toGeminiJsonSchema, toGeminiOpenApi } from '../../schema/gemini.ts';
import { SchemaWarnings } from '../../schema/json-schema.ts';
import { LLMBadRequestError } from '../../spec/errors.ts';
import { isRecord, type Json } from '../../spec/json.ts';
import type { JsonSchema, ToolChoice, Warning } from '../../spec/tools.ts';
import type { EmbeddingInputType, EmbeddingOptions, ProviderOptions } from '../../spec/types.ts';
import type { NormalizedTool } from '../normalized.ts';
import type { NormalizedRequest } from '../provider.ts';
import { mergeProviderOptions, unsupported } from '../request-helpers.ts';
import { type GeminiModel, geminiModel } from './capabilities.ts';
import { geminiConversation } from './contents.ts';
import { thinkingConfig } from './thinking.ts';

/** Body fields our request defines, and the request field to use instead of a provider option. */
const RESERVED: Record<string, string> = {
  contents: 'messages',
  systemInstruction: 'system',
};

/**
 * The resource name of a model: `gemini-2.5-flash` and `models/gemini-2.5-flash` both give
 * `models/gemini-2.5-flash`; a name with its own collection (`tunedModels/…`) is kept as it is.
 */
export function modelResource(model: string): string {
  return model.includes('/') ? model : `models/${model}`;
}

/** A schema for `model`: JSON Schema where it reads it, else the OpenAPI subset (what changed is warned). */
function wireSchema(
  schema: JsonSchema,
  where: string,
  model: string,
  info: GeminiModel,
  warnings: Warning[],
  response: boolean,
): { field: 'json' | 'openapi'; schema: JsonSchema } {
  if (info.jsonSchema) return { field: 'json', schema: toGeminiJsonSchema(schema) };
  const collected = new SchemaWarnings(`${where} (gemini OpenAPI schema)`);
  const converted = toGeminiOpenApi(
    schema,
    collected,
    (message) => {
      throw unsupported(
        'gemini',
        model,
        `this schema (${where}: ${message}; Gemini 2.5 and later take it as JSON Schema)`,
      );
    },
    { propertyOrdering: response },
  );
  warnings.push(...collected.list);
  return { field: 'openapi', schema: converted };
}

function functionDeclaration(
  tool: NormalizedTool,
  index: number,
  model: string,
  info: GeminiModel,
  warnings: Warning[],
): Json {
  const declaration: Json = { name: tool.name };
  if (tool.description !== undefined) declaration.description = tool.description;
  // A tool without arguments has no `parameters` (an empty OBJECT is a 400 in the OpenAPI subset).
  if (info.jsonSchema || !isEmptyObjectSchema(tool.parameters)) {
    const { field, schema } = wireSchema(
      tool.parameters,
      `tools[${index}] ${tool.name}`,
      model,
      info,
      warnings,
      false,
    );
    declaration[field === 'json' ? 'parametersJsonSchema' : 'parameters'] = schema;
  }
  if (tool.strict) {
    warnings.push({
      code: 'setting-ignored',
      message: `tools[${index}] ${tool.name}: gemini has no strict mode for tools; runTools validates the arguments`,
    });
  }
  return declaration;
}

/** `toolChoice` → `functionCallingConfig`. */
function functionCallingConfig(choice: ToolChoice): Json {
  if (choice === 'auto') return { mode: 'AUTO' };
  if (choice === 'none') return { mode: 'NONE' };
  if (choice === 'required') return { mode: 'ANY' };
  return { mode: 'ANY', allowedFunctionNames: [choice.name] };
}

/** Tools, tool choice and what Gemini lacks of them. */
function addTools(body: Json, request: NormalizedRequest, info: GeminiModel, warnings: Warning[]): void {
  const tools = request.tools;
  if (!tools || tools.length === 0) return;
  if (!info.tools) throw unsupported('gemini', request.model, 'tools (function calling)');
  body.tools = [
    {
      functionDeclarations: tools.map((tool, index) =>
        functionDeclaration(tool, index, request.model, info, warnings),
      ),
    },
  ];
  if (request.toolChoice !== undefined)
    body.toolConfig = { functionCallingConfig: functionCallingConfig(request.toolChoice) };
  if (request.parallelToolCalls === false) {
    warnings.push({
      code: 'setting-ignored',
      message:
        'gemini: parallelToolCalls: false has no Gemini equivalent; the model may still call several tools at once',
    });
  }
}

/** `responseFormat` → `responseMimeType` and a schema. */
function addResponseFormat(
  config: Json,
  request: NormalizedRequest,
  info: GeminiModel,
  warnings: Warning[],
): void {
  const format = request.responseFormat;
  if (!format || format.type === 'text') return;
  if (!info.json) throw unsupported('gemini', request.model, 'JSON output');
  const calling = request.tools !== undefined && request.tools.length > 0 && request.toolChoice !== 'none';
  if (calling && info.version !== undefined && !info.gemini3) {
    throw unsupported(
      'gemini',
      request.model,
      "a JSON answer together with tools (before Gemini 3: \"Function calling with a response mime type: 'application/json' is unsupported\"); send one of them, or toolChoice: 'none'",
    );
  }
  config.responseMimeType = 'application/json';
  if (format.type !== 'json-schema') return;
  const schema =
    format.description !== undefined && format.schema.description === undefined
      ? { ...format.schema, description: format.description }
      : format.schema;
  const wire = wireSchema(schema, 'responseFormat', request.model, info, warnings, true);
  config[wire.field === 'json' ? 'responseJsonSchema' : 'responseSchema'] = wire.schema;
}

/**
 * `providerOptions.gemini` into the body: built-in tools join ours; everything else merges without
 * overwriting what the request sets.
 */
function mergeGeminiOptions(body: Json, options: ProviderOptions | undefined): void {
  const own = options?.gemini;
  if (!own) return;
  const { tools, ...rest } = own;
  if (tools !== undefined) {
    if (!Array.isArray(tools) || tools.some((tool) => !isRecord(tool) || 'functionDeclarations' in tool)) {
      throw new LLMBadRequestError(
        "Invalid request: `providerOptions.gemini.tools` may add Gemini's built-in tools ([{ googleSearch: {} }, { codeExecution: {} }, …]); functions go in the request's `tools`",
      );
    }
    body.tools = [...((body.tools as Json[] | undefined) ?? []), ...tools];
  }
  mergeProviderOptions(body, { gemini: rest }, 'gemini', RESERVED);
}

/** The `generateContent` body as an object (the streaming endpoint takes the same). */
export function generateContentRequest(request: NormalizedRequest): { body: Json; warnings: Warning[] } {
  const info = geminiModel(request.model);
  const warnings: Warning[] = [];
  const body: Json = { ...geminiConversation(request.messages, request.model, info, warnings) };
  addTools(body, request, info, warnings);
  const config: Json = {};
  if (request.temperature !== undefined) config.temperature = request.temperature;
  if (request.maxTokens !== undefined) config.maxOutputTokens = request.maxTokens;
  if (request.topP !== undefined) config.topP = request.topP;
  if (request.stop !== undefined)
    config.stopSequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.seed !== undefined) config.seed = request.seed;
  addResponseFormat(config, request, info, warnings);
  const thinking = thinkingConfig(request.reasoning, request.model, info, warnings);
  if (thinking) config.thinkingConfig = thinking;
  if (Object.keys(config).length > 0) body.generationConfig = config;
  mergeGeminiOptions(body, request.providerOptions);
  return { body, warnings };
}

/** The `generateContent` body, and what could not be carried over exactly. */
export function generateContentBody(request: NormalizedRequest): { body: string; warnings: Warning[] } {
  const { body, warnings } = generateContentRequest(request);
  return { body: JSON.stringify(body), warnings };
}

/**
 * The `countTokens` body: `{ contents }`, or the whole `generateContentRequest` when the request has a
 * system turn or tools (the short form cannot carry them, and they count).
 */
export function countTokensBody(request: NormalizedRequest): string {
  const { body } = generateContentRequest(request);
  if (body.systemInstruction === undefined && body.tools === undefined)
    return JSON.stringify({ contents: body.contents });
  const full: Json = { model: modelResource(request.model), contents: body.contents };
  for (const key of ['systemInstruction', 'tools', 'toolConfig'] as const)
    if (body[key] !== undefined) full[key] = body[key];
  return JSON.stringify({ generateContentRequest: full });
}

/** Gemini's `taskType` for each `inputType` (unset: no task type, the model's general-purpose vectors). */
const GEMINI_TASK_TYPES: Readonly<Record<EmbeddingInputType, string>> = {
  query: 'RETRIEVAL_QUERY',
  document: 'RETRIEVAL_DOCUMENT',
};

/** The `batchEmbedContents` body: one request per text, each naming the model and the task type. */
export function batchEmbedContentsBody(
  texts: readonly string[],
  model: string,
  options: EmbeddingOptions,
): string {
  const resource = modelResource(model);
  return JSON.stringify({
    requests: texts.map((text) => {
      const entry: Json = { model: resource, content: { parts: [{ text }] } };
      if (options.dimensions !== undefined) entry.outputDimensionality = options.dimensions;
      if (options.inputType !== undefined) entry.taskType = GEMINI_TASK_TYPES[options.inputType];
      return entry;
    }),
  });
}
