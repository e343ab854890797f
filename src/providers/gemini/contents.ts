/**
 * Our conversation → Gemini's `contents` and `systemInstruction`.
 *
 * - System turns become `systemInstruction` (all of them, in order).
 * - User parts: text, and images and files as `inlineData` (Files API and YouTube URLs as `fileData`).
 * - Assistant turns become `model` turns, part for part: text; reasoning only when it carries Gemini's
 *   `thoughtSignature` (a thought summary is display text the model does not read back, and another
 *   provider's reasoning means nothing to Gemini); tool calls as `functionCall` with their signature on the
 *   same part. A call's `id` goes back only when Gemini gave it (ids we made up are marked `syntheticId`).
 * - Tool results become `functionResponse` parts, consecutive ones in one user turn, named by the tool; the
 *   response is the result's JSON object, or `{ output }` (`{ error }` for a failed tool) around its text —
 *   the keys the API documents. An object holding `$ref`/`$defs` goes as text: Gemini reads those as a schema.
 * - Gemini 3 refuses a function call replayed without its thought signature; a call that never had one (from
 *   another provider, or written by hand) gets the documented `skip_thought_signature_validator`, with a warning.
 * - Empty text parts are left out (`required oneof field 'data'`), and so are turns left with no parts.
 *
 * @see https://ai.google.dev/api/caching#Content
 * @see https://ai.google.dev/gemini-api/docs/thought-signatures
 */
import { LLMBadRequestError } from '../../spec/errors.ts';
import { isRecord, type Json } from '../../spec/json.ts';
import type { AssistantContentPart } from '../../spec/messages.ts';
import type { Warning } from '../../spec/tools.ts';
import {
  joinText,
  type MediaSource,
  type NormalizedMessage,
  type NormalizedToolMessage,
  type NormalizedUserPart,
} from '../normalized.ts';
import { unsupported } from '../request-helpers.ts';
import type { GeminiModel } from './capabilities.ts';

/** One turn of `contents`. */
export interface GeminiContent {
  role: 'user' | 'model';
  parts: Json[];
}

/** `contents` and the optional `systemInstruction` of a request. */
export interface GeminiConversation {
  contents: GeminiContent[];
  systemInstruction?: { parts: Json[] };
}

/** The documented stand-in for a signature a function call never had (Gemini 3). */
export const SKIP_SIGNATURE = 'skip_thought_signature_validator';

/** URLs Gemini fetches itself: its Files API and YouTube. */
const FETCHED_URL =
  /^https:\/\/(?:generativelanguage\.googleapis\.com\/v1\w*\/files\/|(?:www\.)?youtube\.com\/watch\?|youtu\.be\/)/;
/** Images Gemini reads. */
const IMAGE_TYPES = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/heic', 'image/heif']);
/** Files Gemini reads: PDFs, text of any kind, audio, video (and images). */
const FILE_TYPE = /^(?:application\/pdf|application\/json|text\/[\w.+-]+|audio\/[\w.+-]+|video\/[\w.+-]+)$/;

interface Context {
  model: string;
  info: GeminiModel;
  warnings: Warning[];
}

/** The opaque Gemini state on a part, when it has some. */
function geminiState(part: AssistantContentPart): Record<string, unknown> | undefined {
  const state = part.providerMetadata?.gemini;
  return isRecord(state) ? state : undefined;
}

function signatureOf(part: AssistantContentPart): string | undefined {
  const signature = geminiState(part)?.thoughtSignature;
  return typeof signature === 'string' && signature !== '' ? signature : undefined;
}

function media(source: MediaSource, kind: 'image' | 'file', context: Context): Json {
  const mediaType = source.mediaType;
  if (
    mediaType !== undefined &&
    !(kind === 'image' ? IMAGE_TYPES.has(mediaType) : IMAGE_TYPES.has(mediaType) || FILE_TYPE.test(mediaType))
  ) {
    throw unsupported(
      'gemini',
      context.model,
      `${mediaType} ${kind === 'image' ? 'images (PNG, JPEG, WebP, HEIC, HEIF)' : 'files (PDF, text, audio, video, images)'}`,
    );
  }
  if (source.kind === 'base64') return { inlineData: { mimeType: source.mediaType, data: source.data } };
  if (!FETCHED_URL.test(source.url)) {
    throw unsupported(
      'gemini',
      context.model,
      `${kind}s by URL other than its Files API or YouTube (${source.url})`,
    );
  }
  if (mediaType === undefined) {
    throw new LLMBadRequestError(
      `Invalid request: the ${kind} at ${source.url} needs a \`mediaType\` for Gemini`,
    );
  }
  return { fileData: { mimeType: mediaType, fileUri: source.url } };
}

function userParts(parts: readonly NormalizedUserPart[], context: Context): Json[] {
  const out: Json[] = [];
  for (const part of parts) {
    if (part.type === 'text') {
      if (part.text !== '') out.push({ text: part.text });
    } else out.push(media(part.source, part.type, context));
  }
  return out;
}

function callArguments(text: string, field: string): Json {
  if (text.trim() === '') return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed)) {
    throw new LLMBadRequestError(
      `Invalid request: \`${field}\` must be the JSON text of an object (Gemini sends arguments as an object)`,
    );
  }
  return parsed;
}

function modelParts(content: readonly AssistantContentPart[], index: number, context: Context): Json[] {
  const out: Json[] = [];
  let firstCall: Json | undefined;
  let signedCall = false;
  let foreignNoted = false;
  content.forEach((part, at) => {
    const signature = signatureOf(part);
    if (part.type === 'text') {
      if (part.text === '' && !signature) return;
      out.push(signature ? { text: part.text, thoughtSignature: signature } : { text: part.text });
    } else if (part.type === 'reasoning') {
      if (signature) out.push({ text: part.text, thought: true, thoughtSignature: signature });
      else if (part.providerMetadata && !geminiState(part) && !foreignNoted) {
        foreignNoted = true;
        context.warnings.push({
          code: 'metadata-dropped',
          message: `messages[${index}]: reasoning from another provider (${Object.keys(part.providerMetadata).join(', ')}) is not sent to gemini`,
        });
      }
    } else {
      const call: Json = {
        name: part.name,
        args: callArguments(part.arguments, `messages[${index}].content[${at}].arguments`),
      };
      if (geminiState(part)?.syntheticId !== true) call.id = part.id;
      const wire: Json = { functionCall: call };
      if (signature) {
        wire.thoughtSignature = signature;
        signedCall = true;
      }
      firstCall ??= wire;
      out.push(wire);
    }
  });
  if (context.info.gemini3 && firstCall && !signedCall) {
    firstCall.thoughtSignature = SKIP_SIGNATURE;
    context.warnings.push({
      code: 'thought-signature-skipped',
      message: `messages[${index}]: its tool calls carry no Gemini thought signature (another provider made them, or they were written by hand); sent with ${SKIP_SIGNATURE}, which Gemini 3 accepts at some cost to its reasoning`,
    });
  }
  return out;
}

/** `{ output }` around text, the object itself for a JSON object result, `{ error }` for a failure. */
function responseOf(text: string, isError: boolean): Json {
  if (isError) return { error: text };
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed) && !hasSchemaKeys(parsed)) return parsed;
  } catch {
    // Not JSON: sent as text.
  }
  return { output: text };
}

function hasSchemaKeys(node: unknown): boolean {
  if (Array.isArray(node)) return node.some(hasSchemaKeys);
  if (!isRecord(node)) return false;
  for (const [key, value] of Object.entries(node)) {
    if (key === '$ref' || key === '$defs' || hasSchemaKeys(value)) return true;
  }
  return false;
}

function functionResponse(
  message: NormalizedToolMessage,
  realIds: ReadonlySet<string>,
  context: Context,
): Json {
  const response: Json = {
    name: message.toolName,
    response: responseOf(joinText(message.content), message.isError),
  };
  if (realIds.has(message.toolCallId)) response.id = message.toolCallId;
  const attachments = message.content.filter((part) => part.type !== 'text');
  if (attachments.length > 0) {
    if (!context.info.gemini3)
      throw unsupported('gemini', context.model, 'images or files in tool results (Gemini 3 takes them)');
    response.parts = attachments.map((part) => media(part.source, part.type, context));
  }
  return { functionResponse: response };
}

/** Our messages → `contents` and `systemInstruction`, and what could not be carried over exactly. */
export function geminiConversation(
  messages: readonly NormalizedMessage[],
  model: string,
  info: GeminiModel,
  warnings: Warning[],
): GeminiConversation {
  const context: Context = { model, info, warnings };
  const realIds = new Set<string>();
  for (const message of messages) {
    if (message.role !== 'assistant') continue;
    for (const part of message.content)
      if (part.type === 'tool-call' && geminiState(part)?.syntheticId !== true) realIds.add(part.id);
  }
  const contents: GeminiContent[] = [];
  const system: Json[] = [];
  let results: GeminiContent | undefined;
  messages.forEach((message, index) => {
    if (message.role === 'system') {
      if (message.content !== '') system.push({ text: message.content });
      return;
    }
    if (message.role === 'tool') {
      const part = functionResponse(message, realIds, context);
      if (results) results.parts.push(part);
      else {
        results = { role: 'user', parts: [part] };
        contents.push(results);
      }
      return;
    }
    results = undefined;
    const parts =
      message.role === 'assistant'
        ? modelParts(message.content, index, context)
        : userParts(message.content, context);
    if (parts.length > 0) contents.push({ role: message.role === 'assistant' ? 'model' : 'user', parts });
  });
  const conversation: GeminiConversation = { contents };
  if (system.length > 0) conversation.systemInstruction = { parts: system };
  return conversation;
}
