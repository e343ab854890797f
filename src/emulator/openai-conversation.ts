/**
 * Reads a Chat Completions request into the planner's `Turn`, enforcing what OpenAI enforces: every
 * `tool_call_id` answers a call of the assistant message just before, every call is answered, ids are at
 * most 40 characters, `tool_choice` needs `tools`, and strict schemas are closed objects with every
 * property required — each refusal with the real service's message.
 */
import { isRecord, type Json } from '../spec/json.ts';
import { base64Bytes, type ReceivedMedia, type Turn } from './conversation.ts';

/** A request the real service would refuse with a 400: its message, `param` and `code`. */
export class RequestError extends Error {
  readonly param: string | null;
  readonly code: string | null;
  constructor(message: string, param: string | null, code: string | null = null) {
    super(message);
    this.param = param;
    this.code = code;
  }
}

export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let text = '';
  for (const part of content) if (isRecord(part) && typeof part.text === 'string') text += part.text;
  return text;
}

function mediaOf(content: unknown, index: number): ReceivedMedia[] {
  if (!Array.isArray(content)) return [];
  const media: ReceivedMedia[] = [];
  content.forEach((part, at) => {
    if (!isRecord(part)) return;
    const param = `messages.[${index}].content.[${at}]`;
    if (part.type === 'image_url') {
      const url = isRecord(part.image_url) ? part.image_url.url : undefined;
      if (typeof url !== 'string')
        throw new RequestError(`Missing required parameter: '${param}.image_url.url'.`, param);
      const data = /^data:([^;,]+);base64,(.*)$/s.exec(url);
      media.push(
        data
          ? { mediaType: data[1]!, bytes: base64Bytes(data[2]!) }
          : { mediaType: 'image (by URL)', bytes: 0 },
      );
    } else if (part.type === 'file') {
      const file = isRecord(part.file) ? part.file : {};
      const data =
        typeof file.file_data === 'string' ? /^data:([^;,]+);base64,(.*)$/s.exec(file.file_data) : null;
      if (!data && typeof file.file_id !== 'string') {
        throw new RequestError(
          `Invalid value for '${param}.file': expected file_data (a data URL) or file_id.`,
          param,
        );
      }
      media.push(
        data
          ? { mediaType: data[1]!, bytes: base64Bytes(data[2]!) }
          : { mediaType: 'file (by id)', bytes: 0 },
      );
    } else if (part.type !== 'text') {
      throw new RequestError(
        `Invalid value: '${String(part.type)}'. Supported values are: 'text', 'image_url', 'input_audio', 'refusal', and 'file'.`,
        `${param}.type`,
        'invalid_value',
      );
    }
  });
  return media;
}

/** The conversation as the planner needs it, after OpenAI's rules on tool-call history. */
export function readTurn(body: Json, model: string): Turn {
  const messages = body.messages as Json[];
  const pending = new Map<string, string>(); // calls of the last assistant turn not yet answered
  let answered: Array<{ name?: string; content: string }> = [];
  let lastUserText = '';
  let media: ReceivedMedia[] = [];
  messages.forEach((message, index) => {
    if (!isRecord(message))
      throw new RequestError(`Invalid type for 'messages.[${index}]'.`, `messages.[${index}]`);
    if (message.role !== 'tool' && pending.size > 0) {
      throw new RequestError(
        `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending.keys()].join(', ')}`,
        `messages.[${index}].role`,
      );
    }
    switch (message.role) {
      case 'assistant': {
        answered = [];
        if (Array.isArray(message.tool_calls)) {
          for (const call of message.tool_calls) {
            const fn = isRecord(call) && isRecord(call.function) ? call.function : {};
            if (!isRecord(call) || typeof call.id !== 'string' || typeof fn.name !== 'string') {
              throw new RequestError(
                `Missing required parameter: 'messages.[${index}].tool_calls.[0].id'.`,
                `messages.[${index}].tool_calls`,
              );
            }
            if (call.id.length > 40) {
              throw new RequestError(
                `Invalid 'messages[${index}].tool_calls[0].id': string too long. Expected a string with maximum length 40, but got a string with length ${call.id.length} instead.`,
                `messages[${index}].tool_calls[0].id`,
                'string_above_max_length',
              );
            }
            pending.set(call.id, fn.name);
          }
        }
        break;
      }
      case 'tool': {
        const id = message.tool_call_id;
        if (typeof id !== 'string' || !pending.has(id)) {
          throw new RequestError(
            "Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.",
            `messages.[${index}].role`,
          );
        }
        answered.push({ name: pending.get(id), content: contentText(message.content) });
        pending.delete(id);
        break;
      }
      case 'user':
        answered = [];
        lastUserText = contentText(message.content);
        media = mediaOf(message.content, index);
        break;
      case 'system':
      case 'developer':
        break;
      default:
        throw new RequestError(
          `Invalid value: '${String(message.role)}'. Supported values are: 'system', 'assistant', 'user', 'function', 'tool', and 'developer'.`,
          `messages.[${index}].role`,
          'invalid_value',
        );
    }
  });
  if (pending.size > 0) {
    throw new RequestError(
      `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${[...pending.keys()].join(', ')}`,
      'messages',
    );
  }
  const endsWithTools = messages.length > 0 && messages[messages.length - 1]?.role === 'tool';
  const tools = Array.isArray(body.tools)
    ? body.tools.flatMap((tool) => {
        const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : undefined;
        return fn && typeof fn.name === 'string'
          ? [
              {
                name: fn.name,
                schema: isRecord(fn.parameters) ? fn.parameters : { type: 'object', properties: {} },
              },
            ]
          : [];
      })
    : [];
  const choice = body.tool_choice;
  const toolChoice =
    choice === 'none' || choice === 'auto' || choice === 'required'
      ? choice
      : isRecord(choice) && isRecord(choice.function) && typeof choice.function.name === 'string'
        ? { name: choice.function.name }
        : undefined;
  if (choice !== undefined && tools.length === 0 && choice !== 'none') {
    throw new RequestError(
      "Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are specified.",
      'tool_choice',
    );
  }
  const format = isRecord(body.response_format) ? body.response_format : undefined;
  let responseFormat: Turn['responseFormat'];
  if (format?.type === 'json_object') responseFormat = 'json';
  else if (format?.type === 'json_schema') {
    const spec = isRecord(format.json_schema) ? format.json_schema : {};
    if (typeof spec.name !== 'string') {
      throw new RequestError(
        "Missing required parameter: 'response_format.json_schema.name'.",
        'response_format.json_schema.name',
        'missing_required_parameter',
      );
    }
    const schema = isRecord(spec.schema) ? spec.schema : {};
    if (spec.strict === true) checkStrict(schema, `response_format '${spec.name}'`);
    responseFormat = schema;
  }
  for (const tool of Array.isArray(body.tools) ? body.tools : []) {
    const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : undefined;
    if (fn?.strict === true && isRecord(fn.parameters))
      checkStrict(fn.parameters, `function '${String(fn.name)}'`);
  }
  return {
    key: JSON.stringify([model, messages]),
    lastUserText,
    toolResults: endsWithTools ? answered : undefined,
    tools,
    toolChoice,
    responseFormat,
    reasoning: typeof body.reasoning_effort === 'string' && body.reasoning_effort !== 'none',
    media,
  };
}

/** OpenAI's strict-schema rules: every object closed, every property required, a root object. */
function checkStrict(schema: Json, what: string): void {
  const fail = (context: string, rule: string) => {
    throw new RequestError(
      `Invalid schema for ${what}: In context=(${context}), ${rule}`,
      'response_format',
      'invalid_json_schema',
    );
  };
  if (schema.type !== 'object')
    fail('', `schema must be a JSON Schema of 'type: "object"', got 'type: "${String(schema.type)}"'.`);
  const visit = (node: unknown, context: string[]) => {
    if (Array.isArray(node)) {
      node.forEach((item, i) => {
        visit(item, [...context, String(i)]);
      });
      return;
    }
    if (!isRecord(node)) return;
    if (isRecord(node.properties)) {
      if (node.additionalProperties !== false) {
        fail(
          context.map((c) => `'${c}'`).join(', '),
          "'additionalProperties' is required to be supplied and to be false.",
        );
      }
      const required = Array.isArray(node.required) ? node.required : [];
      for (const key of Object.keys(node.properties)) {
        if (!required.includes(key)) {
          fail(
            context.map((c) => `'${c}'`).join(', '),
            `'required' is required to be supplied and to be an array including every key in properties. Missing '${key}'.`,
          );
        }
      }
    }
    for (const [key, value] of Object.entries(node))
      if (key !== 'enum' && key !== 'const') visit(value, [...context, key]);
  };
  visit(schema, []);
}
