/** Names from the OpenTelemetry GenAI semantic conventions, shared by the metrics and tracing layers. */
import { joinText, type NormalizedMessage, type NormalizedUserPart } from '../providers/normalized.ts';
import type { AssistantContentPart, ResultMessage } from '../spec/messages.ts';
import type { Operation } from './types.ts';

/** `gen_ai.provider.name` values, as the conventions spell them. */
export function genAiProviderName(provider: string): string {
  switch (provider) {
    case 'azure':
      return 'azure.ai.openai';
    case 'gemini':
      return 'gcp.gemini';
    case 'bedrock':
      return 'aws.bedrock';
    default:
      return provider;
  }
}

/** `gen_ai.operation.name`: the conventions' names, and `count_tokens` (which they do not name) in their style. */
export function genAiOperation(operation: Operation): 'chat' | 'embeddings' | 'count_tokens' {
  if (operation === 'embed') return 'embeddings';
  return operation === 'count-tokens' ? 'count_tokens' : 'chat';
}

/** The spec's bucket boundaries for `gen_ai.client.token.usage`. */
export const TOKEN_USAGE_BUCKETS = [
  1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864,
];

/** The spec's bucket boundaries for `gen_ai.client.operation.duration` (seconds). */
export const OPERATION_DURATION_BUCKETS = [
  0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92,
];

type SemconvPart = Record<string, unknown>;

function userParts(parts: readonly NormalizedUserPart[]): SemconvPart[] {
  return parts.map((part): SemconvPart => {
    if (part.type === 'text') return { type: 'text', content: part.text };
    const modality = part.type === 'image' ? 'image' : 'file';
    // Media bytes stay out of spans (megabytes of base64 in an attribute): their type and size say enough.
    if (part.source.kind === 'url')
      return { type: 'uri', modality, mime_type: part.source.mediaType, uri: part.source.url };
    return {
      type: 'blob',
      modality,
      mime_type: part.source.mediaType,
      size_bytes: Math.floor((part.source.data.length * 3) / 4),
    };
  });
}

function assistantParts(parts: readonly AssistantContentPart[]): SemconvPart[] {
  return parts.map((part): SemconvPart => {
    if (part.type === 'text') return { type: 'text', content: part.text };
    if (part.type === 'reasoning') return { type: 'reasoning', content: part.text };
    return { type: 'tool_call', id: part.id, name: part.name, arguments: part.arguments };
  });
}

/** `gen_ai.input.messages`: the conversation in the GenAI conventions' shape. */
export function genAiInputMessages(messages: readonly NormalizedMessage[]): string {
  return JSON.stringify(
    messages.map((message) => {
      switch (message.role) {
        case 'system':
          return { role: 'system', parts: [{ type: 'text', content: message.content }] };
        case 'user':
          return { role: 'user', parts: userParts(message.content) };
        case 'assistant':
          return { role: 'assistant', parts: assistantParts(message.content) };
        default:
          return {
            role: 'tool',
            parts: [
              { type: 'tool_call_response', id: message.toolCallId, response: joinText(message.content) },
            ],
          };
      }
    }),
  );
}

/** `gen_ai.output.messages`: the answer, with its finish reason. */
export function genAiOutputMessages(message: ResultMessage, finishReason: string): string {
  return JSON.stringify([
    { role: 'assistant', parts: assistantParts(message.content), finish_reason: finishReason },
  ]);
}
