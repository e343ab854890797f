/**
 * Reads an Ollama `/api/chat` request into the planner's `Turn`, enforcing what a real server enforces,
 * with its words:
 * - images must be base64 (Go decodes them into bytes): `illegal base64 data at input byte N`;
 * - tool-call arguments must be an object (Go decodes them into a map);
 * - `think` on a model without the thinking capability: `"qwen2.5" does not support thinking`;
 * - tools for a model without the tools capability: `registry.ollama.ai/library/gemma3:4b does not support
 *   tools`.
 *
 * And nothing more: Ollama renders whatever history it is given through the model's template, so a tool
 * result with no call before it is accepted (and answered), unlike OpenAI's or Anthropic's APIs. A thinking
 * model thinks unless `think: false` (Ollama ≥ 0.12.5 turns thinking on by default).
 */
import { sniffMediaType } from '../client/media.ts';
import { isRecord, type Json } from '../spec/json.ts';
import { base64Bytes, type ReceivedMedia, type Turn, type TurnToolResult } from './conversation.ts';
import { fullModelName, modelInfo } from './ollama-models.ts';

/** A request the real server refuses: the status and `error` text it answers with. */
export class OllamaRequestError extends Error {
  readonly status: number;
  constructor(status: number, message: string) {
    super(message);
    this.status = status;
  }
}

const BASE64_CHAR = /[^A-Za-z0-9+/=]/;

/** Go's `base64.StdEncoding` error for text that is not base64, or undefined when it is. */
function base64Error(data: string): string | undefined {
  const bad = BASE64_CHAR.exec(data);
  if (bad) return `illegal base64 data at input byte ${bad.index}`;
  if (data.length % 4 !== 0) return `illegal base64 data at input byte ${data.length - (data.length % 4)}`;
  return undefined;
}

function mediaOf(message: Json): ReceivedMedia[] {
  if (message.images === undefined || message.images === null) return [];
  if (!Array.isArray(message.images)) {
    throw new OllamaRequestError(
      400,
      `json: cannot unmarshal ${typeof message.images} into Go struct field Message.messages.images of type []api.ImageData`,
    );
  }
  return message.images.map((image) => {
    const error = typeof image === 'string' ? base64Error(image) : 'illegal base64 data at input byte 0';
    if (error) throw new OllamaRequestError(400, error);
    const data = image as string;
    const mediaType = sniffMediaType(Buffer.from(data.slice(0, 16), 'base64')) ?? 'image';
    return { mediaType, bytes: base64Bytes(data) };
  });
}

/** The messages as the planner's key sees them: role and text, plus calls and images where there are any. */
function keyOf(model: string, messages: readonly Json[]): string {
  const plain = messages.map((message) => {
    const entry: Json = {
      role: message.role,
      content: typeof message.content === 'string' ? message.content : '',
    };
    if (Array.isArray(message.tool_calls)) entry.tool_calls = message.tool_calls;
    if (Array.isArray(message.images)) entry.images = message.images.length;
    return entry;
  });
  return JSON.stringify([model, plain]);
}

function checkToolCalls(message: Json): Array<{ id?: string; name: string }> {
  if (!Array.isArray(message.tool_calls)) return [];
  return message.tool_calls.map((call) => {
    const fn = isRecord(call) && isRecord(call.function) ? call.function : {};
    const args = fn.arguments;
    if (args !== undefined && args !== null && !isRecord(args)) {
      const kind = Array.isArray(args) ? 'array' : typeof args;
      throw new OllamaRequestError(
        400,
        `json: cannot unmarshal ${kind} into Go struct field ToolCallFunction.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments`,
      );
    }
    const id = isRecord(call) && typeof call.id === 'string' ? call.id : undefined;
    return { id, name: typeof fn.name === 'string' ? fn.name : '' };
  });
}

/** The conversation as the planner needs it, after the rules the real server enforces. */
export function readOllamaTurn(body: Json, model: string): Turn {
  const messages = (Array.isArray(body.messages) ? body.messages : []).filter(isRecord);
  const info = modelInfo(model);
  const think = body.think;
  const thinks = think === true || (typeof think === 'string' && think !== '');
  if (thinks && !info.capabilities.includes('thinking')) {
    throw new OllamaRequestError(400, `${JSON.stringify(model)} does not support thinking`);
  }
  const tools = Array.isArray(body.tools)
    ? body.tools.flatMap((tool) => {
        const fn = isRecord(tool) && isRecord(tool.function) ? tool.function : undefined;
        if (!fn || typeof fn.name !== 'string') return [];
        const schema = isRecord(fn.parameters) ? fn.parameters : { type: 'object', properties: {} };
        return [{ name: fn.name, schema }];
      })
    : [];
  if (tools.length > 0 && !info.capabilities.includes('tools')) {
    throw new OllamaRequestError(
      400,
      `registry.ollama.ai/library/${fullModelName(model)} does not support tools`,
    );
  }

  const callNames = new Map<string, string>();
  let lastUserText = '';
  let media: ReceivedMedia[] = [];
  let trailing: TurnToolResult[] = [];
  for (const message of messages) {
    const received = mediaOf(message);
    const content = typeof message.content === 'string' ? message.content : '';
    if (message.role === 'tool') {
      // Lenient, as Ollama is: no preceding call is needed; the name comes from the message or its call.
      const byId = typeof message.tool_call_id === 'string' ? callNames.get(message.tool_call_id) : undefined;
      const name = typeof message.tool_name === 'string' && message.tool_name ? message.tool_name : byId;
      trailing.push({ name, content });
      continue;
    }
    trailing = [];
    if (message.role === 'assistant') {
      for (const call of checkToolCalls(message)) if (call.id) callNames.set(call.id, call.name);
    } else if (message.role === 'user') {
      lastUserText = content;
      media = received;
    }
  }

  let responseFormat: Turn['responseFormat'];
  if (body.format === 'json') responseFormat = 'json';
  else if (isRecord(body.format)) responseFormat = body.format;
  return {
    key: keyOf(model, messages),
    lastUserText,
    toolResults: trailing.length > 0 ? trailing : undefined,
    tools,
    responseFormat,
    reasoning: think === undefined || think === null ? info.capabilities.includes('thinking') : thinks,
    media,
  };
}

/**
 * Ollama's own check of `format`, made when the model starts: `"json"`, a schema object, or nothing. The
 * answer is a 500 (or an error line, when streaming), as the real server gives it.
 */
export function formatError(format: unknown): string | undefined {
  if (format === undefined || format === null || format === '' || format === 'json' || isRecord(format)) {
    return undefined;
  }
  const raw = JSON.stringify(format);
  return `invalid format: ${JSON.stringify(raw)}; expected "json" or a valid JSON Schema object`;
}
