/** Validation and normalisation of a completion request, naming the field that is wrong. */
import type { NormalizedRequest } from '../providers/provider.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import type {
  ChatMessage,
  CompletionRequest,
  CompletionResult,
  GenerateOptions,
  Role,
} from '../spec/types.ts';

const ROLES: ReadonlySet<Role> = new Set(['system', 'user', 'assistant', 'tool']);

function invalid(field: string, expected: string, value: unknown): LLMBadRequestError {
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 40)) : String(value);
  return new LLMBadRequestError(`Invalid request: \`${field}\` must be ${expected} (got ${shown})`);
}

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
  const { prompt, system, messages: given, ...rest } = request;
  let messages: ChatMessage[];
  if (given !== undefined) {
    if (!Array.isArray(given) || given.length === 0) throw invalid('messages', 'a non-empty array', given);
    given.forEach((message, index) => {
      if (typeof message !== 'object' || message === null)
        throw invalid(`messages[${index}]`, 'an object', message);
      if (!ROLES.has(message.role))
        throw invalid(`messages[${index}].role`, 'system, user, assistant or tool', message.role);
      if (typeof message.content !== 'string')
        throw invalid(`messages[${index}].content`, 'a string', message.content);
    });
    messages = prompt === undefined ? given : [...given, { role: 'user', content: prompt }];
  } else if (typeof prompt === 'string') {
    messages = [{ role: 'user', content: prompt }];
  } else {
    throw new LLMBadRequestError(
      'Invalid request: pass `messages` (a non-empty array) or `prompt` (a string)',
    );
  }
  if (prompt !== undefined && typeof prompt !== 'string') throw invalid('prompt', 'a string', prompt);
  if (system !== undefined) {
    if (typeof system !== 'string') throw invalid('system', 'a string', system);
    messages = [{ role: 'system', content: system }, ...messages];
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
  return { ...rest, messages, model: rest.model ?? defaultModel };
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
