/**
 * The conversation: messages made of ordered parts. `content` may always be a plain string; it may also be
 * an array of parts — text, images and files from the user; text, reasoning and tool calls from the
 * assistant — and a tool message answers one tool call.
 *
 * Opaque provider state (Anthropic thinking signatures and redacted thinking, Gemini `thoughtSignature`,
 * Bedrock reasoning signatures) rides on the part that produced it, in `providerMetadata` under the
 * provider's name, and is sent back byte for byte to that provider only. `result.message` carries all of it:
 * append it to `messages` unchanged for the next turn.
 */

/**
 * Opaque state a provider attached to a part, keyed by provider name (`{ anthropic: { signature } }`).
 * Only the provider named reads its entry; the others ignore it.
 */
export type ProviderMetadata = Record<string, Record<string, unknown>>;

/**
 * Bytes of an image or file: a `Uint8Array` (or `ArrayBuffer`), a base64 string, a `data:` URL, or an
 * `https:` URL (as a string or a `URL`). A URL the provider cannot fetch itself is downloaded and inlined.
 */
export type DataContent = Uint8Array | ArrayBuffer | string | URL;

export interface TextPart {
  type: 'text';
  text: string;
  providerMetadata?: ProviderMetadata;
}

export interface ImagePart {
  type: 'image';
  image: DataContent;
  /** `image/png`, `image/jpeg`, `image/gif`, `image/webp`; recognised from the bytes when omitted. */
  mediaType?: string;
}

export interface FilePart {
  type: 'file';
  data: DataContent;
  /** `application/pdf`, `text/plain`, … */
  mediaType: string;
  filename?: string;
}

export interface ReasoningPart {
  type: 'reasoning';
  /** The model's reasoning as the provider showed it ('' for redacted or encrypted-only reasoning). */
  text: string;
  providerMetadata?: ProviderMetadata;
}

/** A call the model made. */
export interface ToolCall {
  /** The provider's id for the call (synthesised when the provider gives none). */
  id: string;
  name: string;
  /** The arguments as complete JSON text (`'{}'` when the model sent none). */
  arguments: string;
}

export interface ToolCallPart extends ToolCall {
  type: 'tool-call';
  providerMetadata?: ProviderMetadata;
}

export type UserContentPart = TextPart | ImagePart | FilePart;
export type AssistantContentPart = TextPart | ReasoningPart | ToolCallPart;
export type ToolResultContentPart = TextPart | ImagePart | FilePart;

export interface SystemMessage {
  role: 'system';
  content: string;
}

export interface UserMessage {
  role: 'user';
  content: string | UserContentPart[];
  /** Optional participant name (OpenAI `name`). */
  name?: string;
}

export interface AssistantMessage {
  role: 'assistant';
  content: string | AssistantContentPart[];
  name?: string;
}

/** The result of one tool call, sent back to the model. */
export interface ToolMessage {
  role: 'tool';
  /** The id of the call this answers. */
  toolCallId: string;
  content: string | ToolResultContentPart[];
  /** The tool's name; found from the matching call in the conversation when omitted. */
  toolName?: string;
  /** True when the tool failed and `content` says how. */
  isError?: boolean;
}

export type ChatMessage = SystemMessage | UserMessage | AssistantMessage | ToolMessage;

export type Role = ChatMessage['role'];

/** The assistant's answer as a message: every part, every opaque field, ready to append to `messages`. */
export interface ResultMessage extends AssistantMessage {
  content: AssistantContentPart[];
}
