/**
 * Builds Anthropic Messages API bodies (`POST /v1/messages`, `POST /v1/messages/count_tokens`) from our
 * request shape. System turns are lifted into `system`; tool results become user turns with a
 * `tool_result` block; `max_tokens`, which the API requires, defaults to 4096.
 */
import { LLMBadRequestError } from '../../spec/errors.ts';
import type { ChatMessage } from '../../spec/types.ts';
import type { NormalizedRequest } from '../provider.ts';

/** `max_tokens` sent when the caller gives none: the API requires the field (the seed's value). */
export const DEFAULT_ANTHROPIC_MAX_TOKENS = 4096;

/** The API version every request names in `anthropic-version`. */
export const ANTHROPIC_VERSION = '2023-06-01';

/** Fields of `providerOptions` that change a prompt's size, so `count_tokens` takes them too. */
const COUNTED_OPTIONS = ['tools', 'tool_choice', 'thinking'] as const;

export interface AnthropicWireMessage {
  role: 'user' | 'assistant';
  content: string | Array<Record<string, unknown>>;
}

/** The system text (system turns joined by blank lines) and the turns, in Anthropic's shape. */
export function anthropicConversation(messages: readonly ChatMessage[]): {
  system: string | undefined;
  messages: AnthropicWireMessage[];
} {
  const system: string[] = [];
  const wire: AnthropicWireMessage[] = [];
  messages.forEach((message, index) => {
    switch (message.role) {
      case 'system':
        system.push(message.content);
        break;
      case 'tool':
        if (!message.toolCallId) {
          throw new LLMBadRequestError(
            `Invalid request: \`messages[${index}].toolCallId\` is required for a tool message (Anthropic's tool_use_id)`,
            { provider: 'anthropic' },
          );
        }
        wire.push({
          role: 'user',
          content: [{ type: 'tool_result', tool_use_id: message.toolCallId, content: message.content }],
        });
        break;
      default:
        // Consecutive turns of one role are sent as they are: the API merges them.
        wire.push({ role: message.role, content: message.content });
    }
  });
  return { system: system.length > 0 ? system.join('\n\n') : undefined, messages: wire };
}

/** The body of `POST /v1/messages`. `providerOptions` are merged last and win. */
export function messagesBody(request: NormalizedRequest, stream: boolean): string {
  const conversation = anthropicConversation(request.messages);
  const body: Record<string, unknown> = { model: request.model };
  if (conversation.system !== undefined) body.system = conversation.system;
  body.messages = conversation.messages;
  body.max_tokens = request.maxTokens ?? DEFAULT_ANTHROPIC_MAX_TOKENS;
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined)
    body.stop_sequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  // `seed` has no Anthropic equivalent and is not sent.
  if (stream) body.stream = true;
  if (request.providerOptions) Object.assign(body, request.providerOptions);
  return JSON.stringify(body);
}

/**
 * The body of `POST /v1/messages/count_tokens`: model, system and messages, plus the `providerOptions`
 * that change the count (tools, tool_choice, thinking). Sampling fields are not accepted there.
 */
export function countTokensBody(request: NormalizedRequest): string {
  const conversation = anthropicConversation(request.messages);
  const body: Record<string, unknown> = { model: request.model };
  if (conversation.system !== undefined) body.system = conversation.system;
  body.messages = conversation.messages;
  const options = request.providerOptions;
  if (options) {
    for (const name of COUNTED_OPTIONS) if (options[name] !== undefined) body[name] = options[name];
  }
  return JSON.stringify(body);
}
