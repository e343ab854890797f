/** Validation and normalisation of a completion request, naming the field that is wrong. */
import type { NormalizedMessage } from '../providers/normalized.ts';
import type { NormalizedRequest } from '../providers/provider.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import type { CompletionRequest, CompletionResult, GenerateOptions } from '../spec/types.ts';
import {
  checkProviderOptions,
  invalid,
  normalizeMessages,
  normalizeReasoning,
  normalizeResponseFormat,
  normalizeToolChoice,
  normalizeTools,
} from './conversation.ts';

function checkNumber(
  request: CompletionRequest,
  field: 'temperature' | 'topP',
  min: number,
  max: number,
): void {
  const value = request[field];
  if (value !== undefined && (typeof value !== 'number' || !(value >= min && value <= max))) {
    throw invalid(field, `a number from ${min} to ${max}`, value);
  }
}

export function normalizeRequest(request: CompletionRequest, defaultModel: string): NormalizedRequest {
  if (typeof request !== 'object' || request === null) {
    throw new LLMBadRequestError('Invalid request: expected an object with `messages` or `prompt`');
  }
  const {
    prompt,
    system,
    messages: given,
    tools: givenTools,
    toolChoice,
    responseFormat,
    reasoning,
    providerOptions,
    ...rest
  } = request;
  let messages: NormalizedMessage[];
  if (given !== undefined) {
    if (!Array.isArray(given) || given.length === 0) throw invalid('messages', 'a non-empty array', given);
    messages = normalizeMessages(given);
    if (prompt !== undefined) messages.push({ role: 'user', content: [{ type: 'text', text: prompt }] });
  } else if (typeof prompt === 'string') {
    messages = [{ role: 'user', content: [{ type: 'text', text: prompt }] }];
  } else {
    throw new LLMBadRequestError(
      'Invalid request: pass `messages` (a non-empty array) or `prompt` (a string)',
    );
  }
  if (prompt !== undefined && typeof prompt !== 'string') throw invalid('prompt', 'a string', prompt);
  if (system !== undefined) {
    if (typeof system !== 'string') throw invalid('system', 'a string', system);
    messages.unshift({ role: 'system', content: system });
  }
  checkNumber(request, 'temperature', 0, 2);
  checkNumber(request, 'topP', 0, 1);
  if (rest.maxTokens !== undefined && (!Number.isInteger(rest.maxTokens) || rest.maxTokens <= 0)) {
    throw invalid('maxTokens', 'a positive integer', rest.maxTokens);
  }
  if (rest.stop !== undefined && typeof rest.stop !== 'string' && !Array.isArray(rest.stop)) {
    throw invalid('stop', 'a string or an array of strings', rest.stop);
  }
  if (rest.model !== undefined && (typeof rest.model !== 'string' || rest.model === '')) {
    throw invalid('model', 'a non-empty string', rest.model);
  }
  if (rest.parallelToolCalls !== undefined && typeof rest.parallelToolCalls !== 'boolean') {
    throw invalid('parallelToolCalls', 'a boolean', rest.parallelToolCalls);
  }
  const normalized: NormalizedRequest = { ...rest, messages, model: rest.model ?? defaultModel };
  if (givenTools !== undefined) {
    const tools = normalizeTools(givenTools);
    if (tools.length > 0) normalized.tools = tools;
  }
  if (toolChoice !== undefined) normalized.toolChoice = normalizeToolChoice(toolChoice, normalized.tools);
  const format = normalizeResponseFormat(responseFormat);
  if (format !== undefined && format.type !== 'text') normalized.responseFormat = format;
  if (reasoning !== undefined) normalized.reasoning = normalizeReasoning(reasoning);
  if (providerOptions !== undefined) normalized.providerOptions = checkProviderOptions(providerOptions);
  return normalized;
}

/** `generateCompletion(prompt, options)` over any `complete`: the client's and the router's. */
export async function completionText(
  complete: (request: CompletionRequest) => Promise<CompletionResult>,
  prompt: string,
  options: GenerateOptions,
): Promise<string> {
  if (typeof prompt !== 'string')
    throw new LLMBadRequestError('generateCompletion: `prompt` must be a string');
  const result = await complete({ ...options, prompt });
  return result.text;
}
