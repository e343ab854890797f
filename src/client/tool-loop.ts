/**
 * `runTools`: the agent loop. Call the model; run the tools it asked for (parallel calls concurrently);
 * send their results back in the order the calls were made (a thrown error, unknown tool or invalid
 * arguments go back as an `isError` result the model can correct); repeat until the model answers without
 * calling a tool or `maxSteps` calls have been made.
 */
import { abortError } from '../http/abort.ts';
import { dropOptionalNulls } from '../schema/openai-strict.ts';
import { createValidator, formatIssues, type Validator } from '../schema/validate.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import { isRecord } from '../spec/json.ts';
import type { ChatMessage, ToolCall } from '../spec/messages.ts';
import type { InferSchema, JsonSchema, SchemaInput, ToolDefinition } from '../spec/tools.ts';
import type { CompletionRequest, CompletionResult, Usage } from '../spec/types.ts';
import { jsonSchemaOf } from './conversation.ts';
import { sumUsage } from './usage.ts';

export interface ToolExecutionContext {
  toolCallId: string;
  /** Aborted when the caller's signal is. */
  signal: AbortSignal | undefined;
  /** The conversation so far (read it, do not change it). */
  messages: readonly ChatMessage[];
}

export interface ExecutableTool<S extends SchemaInput = SchemaInput> extends ToolDefinition {
  parameters: S;
  /**
   * Runs the tool with the arguments the model gave, validated against `parameters` (a Standard Schema's
   * output). A string is sent back as it is, anything else as JSON; a thrown error goes back as an error
   * result with its message.
   */
  execute(args: InferSchema<S>, context: ToolExecutionContext): unknown;
}

/** A typed tool definition (the arguments' type follows from a Standard Schema). */
export function tool<S extends SchemaInput>(definition: ExecutableTool<S>): ExecutableTool<S> {
  return definition;
}

export interface RunToolsRequest extends Omit<CompletionRequest, 'tools'> {
  // biome-ignore lint/suspicious/noExplicitAny: each tool's own argument type
  tools: ExecutableTool<any>[];
  /** Most model calls. Default 8. */
  maxSteps?: number;
  /** Called after each step, once its tools have run. */
  onStep?: (step: ToolStep) => void;
}

export interface ToolResult {
  toolCallId: string;
  toolName: string;
  /** The arguments as the model gave them, parsed (undefined when they were not JSON). */
  args: unknown;
  /** What `execute` returned, or the error. */
  output: unknown;
  isError: boolean;
  /** What was sent back to the model. */
  content: string;
}

export interface ToolStep {
  result: CompletionResult;
  toolResults: ToolResult[];
}

export interface RunToolsResult {
  /** The final answer's text. */
  text: string;
  /** The last model call. */
  result: CompletionResult;
  steps: ToolStep[];
  /** The whole conversation, the final assistant message included: continue it with another call. */
  messages: ChatMessage[];
  /** Usage summed over every step (`costUsd` only when every step had one). */
  usage: Usage;
}

export interface ToolLoopTarget {
  complete(request: CompletionRequest): Promise<CompletionResult>;
}

function contentOf(output: unknown): string {
  if (typeof output === 'string') return output;
  if (output === undefined) return '';
  try {
    return JSON.stringify(output) ?? '';
  } catch {
    return String(output);
  }
}

export async function runTools(target: ToolLoopTarget, request: RunToolsRequest): Promise<RunToolsResult> {
  if (!isRecord(request)) throw new LLMBadRequestError('runTools: expected a request object with `tools`');
  const { tools, maxSteps = 8, onStep, messages: given, prompt, ...rest } = request;
  if (!Array.isArray(tools) || tools.length === 0) {
    throw new LLMBadRequestError('runTools: `tools` must be a non-empty array of tools with `execute`');
  }
  if (!Number.isInteger(maxSteps) || maxSteps < 1) {
    throw new LLMBadRequestError(
      `runTools: \`maxSteps\` must be a positive integer (got ${String(maxSteps)})`,
    );
  }
  const byName = new Map<string, { tool: ExecutableTool; validate: Validator; json: JsonSchema }>();
  tools.forEach((candidate, index) => {
    if (!isRecord(candidate) || typeof candidate.execute !== 'function') {
      throw new LLMBadRequestError(`runTools: \`tools[${index}].execute\` must be a function`);
    }
    byName.set(candidate.name, {
      tool: candidate,
      validate: createValidator(candidate.parameters),
      json: jsonSchemaOf(candidate.parameters, `tools[${index}].parameters`),
    });
  });
  const definitions: ToolDefinition[] = tools.map(({ execute: _execute, ...definition }) => definition);
  const messages: ChatMessage[] = [...(given ?? [])];
  if (prompt !== undefined) messages.push({ role: 'user', content: prompt });
  const signal = rest.signal;
  const steps: ToolStep[] = [];
  for (let step = 1; ; step++) {
    const result = await target.complete({ ...rest, messages, tools: definitions });
    messages.push(result.message);
    if (result.toolCalls.length === 0 || step >= maxSteps) {
      const last: ToolStep = { result, toolResults: [] };
      steps.push(last);
      onStep?.(last);
      return {
        text: result.text,
        result,
        steps,
        messages,
        usage: sumUsage(steps.map((step) => step.result.usage)),
      };
    }
    if (signal?.aborted) throw abortError(signal, { provider: result.provider, model: result.model });
    const context = (call: ToolCall): ToolExecutionContext => ({ toolCallId: call.id, signal, messages });
    // Concurrently, but the results go back in the order of the calls (prompt caches depend on it).
    const toolResults = await Promise.all(
      result.toolCalls.map((call) => execute(call, byName, context(call))),
    );
    for (const toolResult of toolResults) {
      const message: ChatMessage = {
        role: 'tool',
        toolCallId: toolResult.toolCallId,
        toolName: toolResult.toolName,
        content: toolResult.content,
      };
      if (toolResult.isError) message.isError = true;
      messages.push(message);
    }
    const done: ToolStep = { result, toolResults };
    steps.push(done);
    onStep?.(done);
  }
}

async function execute(
  call: ToolCall,
  byName: ReadonlyMap<string, { tool: ExecutableTool; validate: Validator; json: JsonSchema }>,
  context: ToolExecutionContext,
): Promise<ToolResult> {
  const base = { toolCallId: call.id, toolName: call.name };
  const failed = (args: unknown, content: string, output: unknown): ToolResult => ({
    ...base,
    args,
    output,
    isError: true,
    content,
  });
  const entry = byName.get(call.name);
  if (!entry) {
    return failed(
      undefined,
      `Unknown tool ${JSON.stringify(call.name)}; the tools are ${[...byName.keys()].join(', ')}`,
      undefined,
    );
  }
  let args: unknown;
  try {
    args = JSON.parse(call.arguments);
  } catch (error) {
    return failed(undefined, `The arguments are not valid JSON: ${(error as Error).message}`, error);
  }
  // Strict mode makes optional arguments required and nullable: its nulls are not the caller's.
  const outcome = await entry.validate(dropOptionalNulls(entry.json, args));
  if (!outcome.ok) {
    return failed(
      args,
      `The arguments do not match the tool's schema: ${formatIssues(outcome.issues)}`,
      outcome.issues,
    );
  }
  try {
    const output = await entry.tool.execute(outcome.value as never, context);
    return { ...base, args, output, isError: false, content: contentOf(output) };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return failed(args, `Error: ${message}`, error);
  }
}
