/**
 * `generateObject` and `streamObject`: an answer that validates against a schema. The schema goes to the
 * provider natively where the model has structured output, else as one forced tool call whose arguments
 * are the answer (never with reasoning on Anthropic and Bedrock, which reject a forced tool while thinking:
 * that is a clear error instead). Whatever comes back is validated against the caller's own schema, so a
 * Standard Schema's transforms and refinements apply.
 */
import type { ModelCapabilities } from '../providers/provider.ts';
import { isObjectSchema } from '../schema/json-schema.ts';
import { dropOptionalNulls } from '../schema/openai-strict.ts';
import { PartialJsonParser } from '../schema/partial-json.ts';
import { createValidator, formatIssues, type Validator } from '../schema/validate.ts';
import {
  LLMBadRequestError,
  LLMContentFilterError,
  LLMOutputTruncatedError,
  LLMOutputValidationError,
  LLMRefusalError,
  LLMUnsupportedError,
} from '../spec/errors.ts';
import { isRecord } from '../spec/json.ts';
import type { JsonSchema, SchemaInput } from '../spec/tools.ts';
import type {
  CompletionRequest,
  CompletionResult,
  FinishEvent,
  ProviderName,
  StreamEvent,
} from '../spec/types.ts';
import { jsonSchemaOf } from './conversation.ts';

/** How the schema reaches the model: natively, as a forced tool call, or the best the model has (`auto`). */
export type StructuredOutputMode = 'auto' | 'native' | 'tool';

export interface ObjectRequest<T = unknown>
  extends Omit<CompletionRequest, 'tools' | 'toolChoice' | 'responseFormat'> {
  /** The answer's schema: JSON Schema or a Standard Schema (zod, valibot, arktype). */
  schema: SchemaInput<T>;
  /** A name for the schema (the forced tool's name in `tool` mode). Default `response`. */
  name?: string;
  description?: string;
  /** Default `auto`: native where the model has it, else a forced tool call. */
  mode?: StructuredOutputMode;
}

export interface ObjectResult<T> {
  /** The answer, validated (and, for a Standard Schema, transformed) by the schema. */
  object: T;
  result: CompletionResult;
}

export type ObjectStreamEvent<T> =
  /** The answer so far: objects with the keys begun, strings as far as they go. Not validated. */
  | { type: 'partial'; object: unknown }
  /** The whole answer, validated; always the last event. */
  | { type: 'object'; object: T; result: CompletionResult };

/** What structured output needs from a client (a router's deployments provide it too). */
export interface ObjectTarget {
  readonly provider: ProviderName;
  readonly model: string;
  capabilities(model?: string): ModelCapabilities;
  complete(request: CompletionRequest): Promise<CompletionResult>;
  stream(request: CompletionRequest): AsyncGenerator<StreamEvent, void, undefined>;
}

interface Plan<T> {
  request: CompletionRequest;
  mode: 'native' | 'tool';
  toolName: string;
  /** The schema was not an object at its root, so the answer is wrapped in `{ value }`. */
  wrapped: boolean;
  /** The caller's schema as JSON Schema (to undo strict mode's nulls for optional properties). */
  json: JsonSchema;
  validate: Validator<T>;
}

function plan<T>(target: ObjectTarget, given: ObjectRequest<T>, operation: string): Plan<T> {
  if (!isRecord(given))
    throw new LLMBadRequestError(`${operation}: expected a request object with \`schema\``);
  const { schema, name, description, mode = 'auto', ...rest } = given;
  for (const field of ['tools', 'toolChoice', 'responseFormat'] as const) {
    if ((given as Record<string, unknown>)[field] !== undefined) {
      throw new LLMBadRequestError(
        `${operation}: \`${field}\` is set by ${operation} itself; use \`runTools\` for a conversation with tools`,
      );
    }
  }
  if (schema === undefined) throw new LLMBadRequestError(`${operation}: \`schema\` is required`);
  if (mode !== 'auto' && mode !== 'native' && mode !== 'tool') {
    throw new LLMBadRequestError(`${operation}: \`mode\` must be auto, native or tool (got ${String(mode)})`);
  }
  const json = jsonSchemaOf(schema, 'schema');
  const wrapped = !isObjectSchema(json);
  const wire: JsonSchema = wrapped
    ? { type: 'object', properties: { value: json }, required: ['value'], additionalProperties: false }
    : json;
  const model = rest.model ?? target.model;
  const capabilities = target.capabilities(model);
  const reasoning = rest.reasoning !== undefined && rest.reasoning.effort !== 'none';
  const toolAllowed =
    capabilities.forcedToolChoice && (!reasoning || capabilities.forcedToolChoiceWithReasoning);
  const unsupported = (what: string) =>
    new LLMUnsupportedError(`${target.provider} model ${model} cannot do ${what}`, {
      provider: target.provider,
      model,
    });
  let chosen: 'native' | 'tool';
  if (mode === 'native') {
    if (!capabilities.structuredOutput) throw unsupported('native structured output (try mode: tool)');
    chosen = 'native';
  } else if (mode === 'tool') {
    if (!capabilities.forcedToolChoice)
      throw unsupported('a forced tool call (structured output in tool mode)');
    if (!toolAllowed) throw unsupported('a forced tool call while reasoning is on (the provider rejects it)');
    chosen = 'tool';
  } else if (capabilities.structuredOutput) chosen = 'native';
  else if (toolAllowed) chosen = 'tool';
  else if (capabilities.forcedToolChoice) {
    throw unsupported(
      'structured output with reasoning on: it has no native structured output and rejects a forced tool call while thinking; turn reasoning off',
    );
  } else throw unsupported('structured output (neither native nor through a forced tool call)');
  const toolName = name ?? (chosen === 'tool' ? 'json' : 'response');
  const request: CompletionRequest =
    chosen === 'native'
      ? {
          ...rest,
          responseFormat: { type: 'json-schema', schema: wire, name: toolName, description, strict: true },
        }
      : {
          ...rest,
          tools: [
            {
              name: toolName,
              description: description ?? 'Give the answer as the arguments of this tool.',
              parameters: wire,
            },
          ],
          toolChoice: { type: 'tool', name: toolName },
          parallelToolCalls: false,
        };
  if (chosen === 'native' && description === undefined && request.responseFormat?.type === 'json-schema') {
    delete request.responseFormat.description;
  }
  return {
    request,
    mode: chosen,
    toolName,
    wrapped,
    json,
    validate: createValidator(schema) as Validator<T>,
  };
}

function errorOptions(result: CompletionResult) {
  const options: { provider: string; model: string; requestId?: string } = {
    provider: result.provider,
    model: result.model,
  };
  if (result.requestId !== undefined) options.requestId = result.requestId;
  return options;
}

/** The answer's JSON text, or the typed reason there is none (refusal, truncation, filter, no tool call). */
function answerText<T>(result: CompletionResult, planned: Plan<T>): string {
  if (result.refusal !== undefined) {
    throw new LLMRefusalError(`The model refused: ${result.refusal}`, result.refusal, errorOptions(result));
  }
  if (result.finishReason === 'content-filter') {
    throw new LLMContentFilterError(
      'The answer was withheld by the provider’s content filter',
      errorOptions(result),
    );
  }
  let text: string;
  if (planned.mode === 'tool') {
    const call = result.toolCalls.find((candidate) => candidate.name === planned.toolName);
    if (!call && result.finishReason !== 'length') {
      throw new LLMOutputValidationError(
        `The model did not call the ${planned.toolName} tool that carries the answer`,
        { text: result.text, issues: [{ path: '$', message: 'no tool call with the answer' }] },
        errorOptions(result),
      );
    }
    text = call?.arguments ?? '';
  } else text = result.text;
  if (result.finishReason === 'length') {
    throw new LLMOutputTruncatedError(
      `The answer was cut at the token limit before the JSON was complete (${text.length} characters); raise maxTokens`,
      text,
      errorOptions(result),
    );
  }
  return text;
}

async function validated<T>(result: CompletionResult, planned: Plan<T>): Promise<T> {
  const text = answerText(result, planned);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new LLMOutputValidationError(
      `The model's answer is not JSON: ${(cause as Error).message}`,
      { text, issues: [{ path: '$', message: `not JSON (${(cause as Error).message})` }] },
      { ...errorOptions(result), cause },
    );
  }
  if (planned.wrapped) value = isRecord(value) ? value.value : undefined;
  const outcome = await planned.validate(dropOptionalNulls(planned.json, value));
  if (!outcome.ok) {
    throw new LLMOutputValidationError(
      `The model's answer does not match the schema: ${formatIssues(outcome.issues)}`,
      { text, issues: outcome.issues },
      errorOptions(result),
    );
  }
  return outcome.value;
}

export async function generateObject<T>(
  target: ObjectTarget,
  request: ObjectRequest<T>,
): Promise<ObjectResult<T>> {
  const planned = plan(target, request, 'generateObject');
  const result = await target.complete(planned.request);
  return { object: await validated(result, planned), result };
}

/** A completion result from a stream's text and its `finish` event. */
export function resultFromStream(
  finish: FinishEvent,
  provider: ProviderName,
  model: string,
): CompletionResult {
  let text = '';
  for (const part of finish.message.content) if (part.type === 'text') text += part.text;
  const result: CompletionResult = {
    text,
    message: finish.message,
    toolCalls: finish.message.content
      .filter((part) => part.type === 'tool-call')
      .map((part) => ({ id: part.id, name: part.name, arguments: part.arguments })),
    finishReason: finish.finishReason,
    usage: finish.usage,
    model: finish.model ?? model,
    id: finish.id ?? '',
    provider,
    raw: undefined,
  };
  let reasoning: string | undefined;
  for (const part of finish.message.content) {
    if (part.type === 'reasoning') reasoning = (reasoning ?? '') + part.text;
  }
  if (reasoning !== undefined) result.reasoning = reasoning;
  if (finish.rawFinishReason !== undefined) result.rawFinishReason = finish.rawFinishReason;
  if (finish.requestId !== undefined) result.requestId = finish.requestId;
  if (finish.refusal !== undefined) result.refusal = finish.refusal;
  if (finish.warnings !== undefined) result.warnings = finish.warnings;
  if (finish.cached) result.cached = true;
  return result;
}

export async function* streamObject<T>(
  target: ObjectTarget,
  request: ObjectRequest<T>,
): AsyncGenerator<ObjectStreamEvent<T>, void, undefined> {
  const planned = plan(target, request, 'streamObject');
  const parser = new PartialJsonParser();
  let toolIndex: number | undefined;
  for await (const event of target.stream(planned.request)) {
    let piece: string | undefined;
    if (planned.mode === 'native') {
      if (event.type === 'text-delta') piece = event.text;
    } else if (event.type === 'tool-call-delta') {
      if (event.name === planned.toolName) toolIndex = event.index;
      if (event.index === toolIndex) piece = event.argumentsDelta;
    }
    if (piece !== undefined && parser.push(piece)) {
      const partial = parser.value;
      yield {
        type: 'partial',
        object: planned.wrapped ? (isRecord(partial) ? partial.value : undefined) : partial,
      };
    }
    if (event.type === 'finish') {
      const result = resultFromStream(event, target.provider, planned.request.model ?? target.model);
      yield { type: 'object', object: await validated(result, planned), result };
    }
  }
}
