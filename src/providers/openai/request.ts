/** Builds OpenAI Chat Completions and Embeddings request bodies from our request shape. */
import type { EmbeddingOptions } from '../../spec/types.ts';
import type { NormalizedRequest } from '../provider.ts';

export interface OpenAIBodyOptions {
  /**
   * Which field carries `maxTokens`. OpenAI's current models take `max_completion_tokens` (reasoning models
   * reject `max_tokens`); most OpenAI-compatible servers and older Azure API versions only know `max_tokens`.
   */
  maxTokensField: 'max_completion_tokens' | 'max_tokens';
  /** Whether to send `model` in the body (Azure's deployment URLs carry it in the path). */
  includeModel: boolean;
}

export function chatCompletionBody(
  request: NormalizedRequest,
  stream: boolean,
  options: OpenAIBodyOptions,
): string {
  const body: Record<string, unknown> = {};
  if (options.includeModel) body.model = request.model;
  body.messages = request.messages.map((message) => {
    const wire: Record<string, unknown> = { role: message.role, content: message.content };
    if (message.name !== undefined) wire.name = message.name;
    if (message.toolCallId !== undefined) wire.tool_call_id = message.toolCallId;
    return wire;
  });
  if (request.temperature !== undefined) body.temperature = request.temperature;
  if (request.maxTokens !== undefined) body[options.maxTokensField] = request.maxTokens;
  if (request.topP !== undefined) body.top_p = request.topP;
  if (request.stop !== undefined) body.stop = request.stop;
  if (request.seed !== undefined) body.seed = request.seed;
  if (stream) {
    body.stream = true;
    body.stream_options = { include_usage: true };
  }
  if (request.providerOptions) Object.assign(body, request.providerOptions);
  return JSON.stringify(body);
}

export function embeddingsBody(
  texts: readonly string[],
  model: string | undefined,
  options: EmbeddingOptions,
  encoding: 'base64' | 'float',
): string {
  const body: Record<string, unknown> = {};
  if (model !== undefined) body.model = model;
  body.input = texts;
  body.encoding_format = encoding;
  if (options.dimensions !== undefined) body.dimensions = options.dimensions;
  return JSON.stringify(body);
}
