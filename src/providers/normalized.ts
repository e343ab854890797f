/**
 * The conversation as adapters receive it, after the client has validated and normalised the request:
 * every `content` is an array of parts, every image and file is base64 with a media type or a URL the
 * provider can fetch, every tool message knows its tool's name, every schema is plain JSON Schema.
 * Adapters translate this to their wire and never see the many shapes a caller may write.
 */
import type { AssistantContentPart } from '../spec/messages.ts';
import type { JsonSchema, ReasoningOptions, ToolChoice } from '../spec/tools.ts';

/** Where an image's or file's bytes are: inline (base64, no `data:` prefix) or at a URL. */
export type MediaSource =
  | { kind: 'base64'; data: string; mediaType: string }
  | { kind: 'url'; url: string; mediaType: string | undefined };

export type NormalizedUserPart =
  | { type: 'text'; text: string }
  | { type: 'image'; source: MediaSource }
  | { type: 'file'; source: MediaSource; filename?: string | undefined };

export interface NormalizedSystemMessage {
  role: 'system';
  content: string;
}
export interface NormalizedUserMessage {
  role: 'user';
  content: NormalizedUserPart[];
  name?: string | undefined;
}
export interface NormalizedAssistantMessage {
  role: 'assistant';
  content: AssistantContentPart[];
  name?: string | undefined;
}
export interface NormalizedToolMessage {
  role: 'tool';
  toolCallId: string;
  /** Given by the caller or found from the call with the same id earlier in the conversation. */
  toolName: string;
  content: NormalizedUserPart[];
  isError: boolean;
}

export type NormalizedMessage =
  | NormalizedSystemMessage
  | NormalizedUserMessage
  | NormalizedAssistantMessage
  | NormalizedToolMessage;

export interface NormalizedTool {
  name: string;
  description?: string | undefined;
  /** Plain JSON Schema, converted from a Standard Schema when one was given; root `type: 'object'`. */
  parameters: JsonSchema;
  strict?: boolean | undefined;
}

export type NormalizedResponseFormat =
  | { type: 'text' }
  | { type: 'json' }
  | {
      type: 'json-schema';
      schema: JsonSchema;
      name: string;
      description?: string | undefined;
      strict: boolean;
    };

/** The conversation-level fields of a normalised request (sampling fields are on `NormalizedRequest`). */
export interface NormalizedConversation {
  messages: NormalizedMessage[];
  tools?: NormalizedTool[] | undefined;
  toolChoice?: ToolChoice | undefined;
  parallelToolCalls?: boolean | undefined;
  responseFormat?: NormalizedResponseFormat | undefined;
  reasoning?: ReasoningOptions | undefined;
}

/** The text of a message's parts joined (what a text-only wire, a log line or a token estimate needs). */
export function textOf(message: NormalizedMessage): string {
  if (message.role === 'system') return message.content;
  let text = '';
  for (const part of message.content) {
    if (part.type === 'text' || part.type === 'reasoning') text += part.text;
    else if (part.type === 'tool-call') text += part.name + part.arguments;
  }
  return text;
}

/** True when every part is text: such content may go out as one plain string. */
export function isTextOnly(parts: ReadonlyArray<{ type: string }>): boolean {
  for (const part of parts) if (part.type !== 'text') return false;
  return true;
}

/** The text parts of `parts` joined. */
export function joinText(parts: ReadonlyArray<{ type: string; text?: string }>): string {
  let text = '';
  for (const part of parts) if (part.type === 'text') text += part.text;
  return text;
}

/** The `data:` URL of inline media (OpenAI takes images and PDFs this way). */
export function dataUrl(source: Extract<MediaSource, { kind: 'base64' }>): string {
  return `data:${source.mediaType};base64,${source.data}`;
}
