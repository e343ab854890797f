/**
 * OpenAI's Chat Completions and Embeddings wire, as the gateway speaks it to its clients: a request body →
 * our conversation model, our result → a `chat.completion`, our stream events → `chat.completion.chunk`s,
 * our errors → `{ error: { message, type, code } }`. Used when the deployment that answers does not speak
 * OpenAI's protocol itself (otherwise the body passes through untouched).
 *
 * @see https://platform.openai.com/docs/api-reference/chat
 */
import type { AssistantContentPart, ChatMessage, UserContentPart } from '../spec/messages.ts';
import type { ToolChoice } from '../spec/tools.ts';
import type { CompletionRequest, CompletionResult, FinishReason, StreamEvent } from '../spec/types.ts';
import { type BodyIssue, invalidBody, isRecord, type Json } from './validate-body.ts';

export interface OpenAIChatCall {
  request: CompletionRequest;
  stream: boolean;
  /** `stream_options.include_usage`: the client wants the usage chunk. */
  includeUsage: boolean;
}

function text(value: unknown, path: string, issues: BodyIssue[]): string {
  if (typeof value === 'string') return value;
  issues.push({ path, message: 'must be a string' });
  return '';
}

function contentText(content: unknown, path: string, issues: BodyIssue[]): string {
  if (content === null || content === undefined) return '';
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) {
    issues.push({ path, message: 'must be a string or an array of content parts' });
    return '';
  }
  let out = '';
  content.forEach((part, index) => {
    if (
      isRecord(part) &&
      (part.type === 'text' || part.type === 'refusal') &&
      typeof (part.text ?? part.refusal) === 'string'
    ) {
      out += (part.text ?? part.refusal) as string;
    } else issues.push({ path: `${path}[${index}]`, message: 'must be a text part here' });
  });
  return out;
}

function userContent(content: unknown, path: string, issues: BodyIssue[]): string | UserContentPart[] {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) {
    issues.push({ path, message: 'must be a string or an array of content parts' });
    return '';
  }
  const parts: UserContentPart[] = [];
  content.forEach((part, index) => {
    const at = `${path}[${index}]`;
    if (!isRecord(part)) {
      issues.push({ path: at, message: 'must be a content part object' });
      return;
    }
    if (part.type === 'text') parts.push({ type: 'text', text: text(part.text, `${at}.text`, issues) });
    else if (part.type === 'image_url') {
      const url = isRecord(part.image_url) ? part.image_url.url : undefined;
      parts.push({ type: 'image', image: text(url, `${at}.image_url.url`, issues) });
    } else if (part.type === 'file') {
      const file = isRecord(part.file) ? part.file : {};
      const data = text(file.file_data, `${at}.file.file_data`, issues);
      const mediaType = /^data:([^;,]+)/.exec(data)?.[1] ?? 'application/pdf';
      const filePart: UserContentPart = { type: 'file', data, mediaType };
      if (typeof file.filename === 'string') filePart.filename = file.filename;
      parts.push(filePart);
    } else
      issues.push({
        path: `${at}.type`,
        message: `'${String(part.type)}' is not supported (text, image_url, file)`,
      });
  });
  return parts;
}

function messagesOf(value: unknown, issues: BodyIssue[]): ChatMessage[] {
  if (!Array.isArray(value) || value.length === 0) {
    issues.push({ path: 'messages', message: 'must be a non-empty array' });
    return [];
  }
  const messages: ChatMessage[] = [];
  value.forEach((message, index) => {
    const at = `messages[${index}]`;
    if (!isRecord(message)) {
      issues.push({ path: at, message: 'must be an object' });
      return;
    }
    switch (message.role) {
      case 'system':
      case 'developer':
        messages.push({ role: 'system', content: contentText(message.content, `${at}.content`, issues) });
        return;
      case 'user': {
        const user: ChatMessage = {
          role: 'user',
          content: userContent(message.content, `${at}.content`, issues),
        };
        if (typeof message.name === 'string') user.name = message.name;
        messages.push(user);
        return;
      }
      case 'assistant': {
        const parts: AssistantContentPart[] = [];
        const reasoning = message.reasoning_content;
        if (typeof reasoning === 'string' && reasoning) parts.push({ type: 'reasoning', text: reasoning });
        const said = contentText(message.content, `${at}.content`, issues);
        if (said) parts.push({ type: 'text', text: said });
        if (message.tool_calls !== undefined) {
          if (!Array.isArray(message.tool_calls))
            issues.push({ path: `${at}.tool_calls`, message: 'must be an array' });
          else
            message.tool_calls.forEach((call, callIndex) => {
              const callAt = `${at}.tool_calls[${callIndex}]`;
              const fn = isRecord(call) && isRecord(call.function) ? call.function : undefined;
              if (!isRecord(call) || !fn) {
                issues.push({
                  path: callAt,
                  message: 'must be { id, type: "function", function: { name, arguments } }',
                });
                return;
              }
              parts.push({
                type: 'tool-call',
                id: text(call.id, `${callAt}.id`, issues),
                name: text(fn.name, `${callAt}.function.name`, issues),
                arguments:
                  typeof fn.arguments === 'string' ? fn.arguments : JSON.stringify(fn.arguments ?? {}),
              });
            });
        }
        messages.push({ role: 'assistant', content: parts.length > 0 ? parts : '' });
        return;
      }
      case 'tool': {
        messages.push({
          role: 'tool',
          toolCallId: text(message.tool_call_id, `${at}.tool_call_id`, issues),
          content: contentText(message.content, `${at}.content`, issues),
        });
        return;
      }
      default:
        issues.push({ path: `${at}.role`, message: 'must be system, developer, user, assistant or tool' });
    }
  });
  return messages;
}

function toolChoiceOf(value: unknown, issues: BodyIssue[]): ToolChoice | undefined {
  if (value === undefined || value === null) return undefined;
  if (value === 'auto' || value === 'none' || value === 'required') return value;
  if (isRecord(value) && isRecord(value.function) && typeof value.function.name === 'string') {
    return { type: 'tool', name: value.function.name };
  }
  issues.push({
    path: 'tool_choice',
    message: "must be 'auto', 'none', 'required' or { type: 'function', function: { name } }",
  });
  return undefined;
}

const NUMERIC: ReadonlyArray<[string, keyof CompletionRequest]> = [
  ['temperature', 'temperature'],
  ['top_p', 'topP'],
  ['seed', 'seed'],
];

/** Fields of the body that our request carries; every other field goes to the OpenAI family as it is. */
const MODELLED = new Set([
  'model',
  'messages',
  'tools',
  'tool_choice',
  'parallel_tool_calls',
  'response_format',
  'reasoning_effort',
  'temperature',
  'top_p',
  'seed',
  'stop',
  'max_tokens',
  'max_completion_tokens',
  'stream',
  'stream_options',
  'n',
]);

/** A Chat Completions body → our request, or the list of what is wrong with it. */
export function fromOpenAIChat(body: unknown): OpenAIChatCall {
  if (!isRecord(body)) throw invalidBody([{ path: '', message: 'the body must be a JSON object' }]);
  const issues: BodyIssue[] = [];
  const request: CompletionRequest = { messages: messagesOf(body.messages, issues) };
  if (typeof body.model !== 'string' || body.model === '')
    issues.push({ path: 'model', message: 'must be a non-empty string' });
  else request.model = body.model;
  for (const [field, key] of NUMERIC) {
    const value = body[field];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number') issues.push({ path: field, message: 'must be a number' });
    else (request as Record<string, unknown>)[key] = value;
  }
  const maxTokens = body.max_completion_tokens ?? body.max_tokens;
  if (maxTokens !== undefined && maxTokens !== null) {
    if (!Number.isInteger(maxTokens) || (maxTokens as number) <= 0) {
      issues.push({
        path: body.max_completion_tokens !== undefined ? 'max_completion_tokens' : 'max_tokens',
        message: 'must be a positive integer',
      });
    } else request.maxTokens = maxTokens as number;
  }
  if (body.stop !== undefined && body.stop !== null) {
    if (
      typeof body.stop === 'string' ||
      (Array.isArray(body.stop) && body.stop.every((s) => typeof s === 'string'))
    ) {
      request.stop = body.stop as string | string[];
    } else issues.push({ path: 'stop', message: 'must be a string or an array of strings' });
  }
  if (body.n !== undefined && body.n !== null && body.n !== 1)
    issues.push({ path: 'n', message: 'only 1 is supported' });
  if (body.tools !== undefined && body.tools !== null) {
    if (!Array.isArray(body.tools)) issues.push({ path: 'tools', message: 'must be an array' });
    else
      request.tools = body.tools.map((tool, index) => {
        const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : undefined;
        if (!fn) {
          issues.push({
            path: `tools[${index}]`,
            message: "must be { type: 'function', function: { name, parameters } }",
          });
          return { name: 'invalid', parameters: {} };
        }
        const definition: NonNullable<CompletionRequest['tools']>[number] = {
          name: text(fn.name, `tools[${index}].function.name`, issues),
          parameters: isRecord(fn.parameters) ? fn.parameters : { type: 'object', properties: {} },
        };
        if (typeof fn.description === 'string') definition.description = fn.description;
        if (typeof fn.strict === 'boolean') definition.strict = fn.strict;
        return definition;
      });
  }
  const choice = toolChoiceOf(body.tool_choice, issues);
  if (choice !== undefined) request.toolChoice = choice;
  if (typeof body.parallel_tool_calls === 'boolean') request.parallelToolCalls = body.parallel_tool_calls;
  const format = body.response_format;
  if (isRecord(format)) {
    if (format.type === 'json_object') request.responseFormat = { type: 'json' };
    else if (format.type === 'json_schema') {
      const spec = isRecord(format.json_schema) ? format.json_schema : {};
      if (!isRecord(spec.schema))
        issues.push({ path: 'response_format.json_schema.schema', message: 'must be a JSON Schema object' });
      else {
        request.responseFormat = {
          type: 'json-schema',
          schema: spec.schema,
          strict: spec.strict === true,
          ...(typeof spec.name === 'string' ? { name: spec.name } : {}),
          ...(typeof spec.description === 'string' ? { description: spec.description } : {}),
        };
      }
    } else if (format.type !== 'text')
      issues.push({ path: 'response_format.type', message: 'must be text, json_object or json_schema' });
  }
  if (typeof body.reasoning_effort === 'string') {
    request.reasoning = {
      effort: body.reasoning_effort as NonNullable<CompletionRequest['reasoning']>['effort'] & string,
    };
  }
  if (issues.length > 0) throw invalidBody(issues);
  // What we do not model (logprobs, penalties, user, metadata, …) still reaches the OpenAI family.
  const rest: Json = {};
  for (const [key, value] of Object.entries(body))
    if (!MODELLED.has(key) && value !== undefined) rest[key] = value;
  if (Object.keys(rest).length > 0)
    request.providerOptions = { openai: rest, azure: rest, 'openai-compatible': rest };
  const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
  return { request, stream: body.stream === true, includeUsage: streamOptions.include_usage === true };
}

const FINISH: Record<FinishReason, string> = {
  stop: 'stop',
  length: 'length',
  'content-filter': 'content_filter',
  'tool-calls': 'tool_calls',
  error: 'stop',
  other: 'stop',
};

function wireUsage(usage: CompletionResult['usage']): Json {
  const out: Json = {
    prompt_tokens: usage.inputTokens,
    completion_tokens: usage.outputTokens,
    total_tokens: usage.totalTokens,
  };
  if (usage.cachedInputTokens !== undefined)
    out.prompt_tokens_details = { cached_tokens: usage.cachedInputTokens };
  if (usage.reasoningTokens !== undefined)
    out.completion_tokens_details = { reasoning_tokens: usage.reasoningTokens };
  return out;
}

function wireToolCall(part: { id: string; name: string; arguments: string }) {
  return { id: part.id, type: 'function', function: { name: part.name, arguments: part.arguments } };
}

/** Our result → a `chat.completion` body, named with the model the client asked for. */
export function toOpenAIChat(
  result: CompletionResult,
  model: string,
  created = Math.floor(Date.now() / 1000),
): Json {
  const message: Json = {
    role: 'assistant',
    content: result.text === '' && result.toolCalls.length > 0 ? null : result.text,
    refusal: result.refusal ?? null,
  };
  const calls = result.message.content.filter((part) => part.type === 'tool-call');
  if (calls.length > 0) message.tool_calls = calls.map(wireToolCall);
  if (result.reasoning) message.reasoning_content = result.reasoning;
  return {
    id: result.id || `chatcmpl-${created}`,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: FINISH[result.finishReason] }],
    usage: wireUsage(result.usage),
  };
}

/** Our stream events → `data: chat.completion.chunk` lines, the usage chunk when asked, then `[DONE]`. */
export class OpenAIChunkWriter {
  readonly #base: Json;
  readonly #includeUsage: boolean;
  #started = false;
  readonly #calls = new Set<number>();

  constructor(id: string, model: string, includeUsage: boolean, created = Math.floor(Date.now() / 1000)) {
    this.#base = { id, object: 'chat.completion.chunk', created, model };
    this.#includeUsage = includeUsage;
  }

  #chunk(delta: Json, finishReason: string | null = null): string {
    return `data: ${JSON.stringify({ ...this.#base, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] })}\n\n`;
  }

  /** The SSE text for one event ('' when the event has nothing to say on this wire). */
  write(event: StreamEvent): string {
    let out = '';
    if (!this.#started) {
      this.#started = true;
      out += this.#chunk({ role: 'assistant', content: '' });
    }
    switch (event.type) {
      case 'text-delta':
        return out + this.#chunk({ content: event.text });
      case 'reasoning-delta':
        // A signature alone has no place in a Chat Completions chunk.
        return event.text === '' ? out : out + this.#chunk({ reasoning_content: event.text });
      case 'tool-call-delta': {
        const call: Json = { index: event.index, function: { arguments: event.argumentsDelta } };
        if (!this.#calls.has(event.index)) {
          // The first delta of a call names it.
          this.#calls.add(event.index);
          call.id = event.id ?? `call_${event.index}`;
          call.type = 'function';
          (call.function as Json).name = event.name ?? '';
        }
        return out + this.#chunk({ tool_calls: [call] });
      }
      case 'tool-call':
        return out;
      case 'finish': {
        out += this.#chunk({}, FINISH[event.finishReason]);
        if (this.#includeUsage)
          out += `data: ${JSON.stringify({ ...this.#base, choices: [], usage: wireUsage(event.usage) })}\n\n`;
        return `${out}data: [DONE]\n\n`;
      }
    }
  }

  /** An error after the stream began: OpenAI's in-band error event (no `[DONE]`: the stream did not finish). */
  error(body: Json): string {
    return `data: ${JSON.stringify(body)}\n\n`;
  }
}
