/** Builds Ollama's native `/api/chat` and `/api/embed` request bodies from our request shape. */

import { isRecord, type Json } from '../../spec/json.ts';
import type { EmbeddingOptions } from '../../spec/types.ts';
import type { NormalizedRequest } from '../provider.ts';

/**
 * `{model, messages, stream, options}`. Sampling settings go in `options` under Ollama's names
 * (`num_predict` for `maxTokens`); `stop` is always a list, as the server requires. `stream` is always
 * written, because the server streams when the field is absent. `providerOptions` are merged last: their
 * `options` object into ours (so `num_ctx` can sit beside `temperature`), every other field at the top
 * (`keep_alive`, `format`, `think`, `tools`, …).
 */
export function ollamaChatBody(request: NormalizedRequest, stream: boolean): string {
  const options: Json = {};
  if (request.temperature !== undefined) options.temperature = request.temperature;
  if (request.maxTokens !== undefined) options.num_predict = request.maxTokens;
  if (request.topP !== undefined) options.top_p = request.topP;
  if (request.stop !== undefined)
    options.stop = typeof request.stop === 'string' ? [request.stop] : request.stop;
  if (request.seed !== undefined) options.seed = request.seed;

  const body: Json = {
    model: request.model,
    messages: request.messages.map((message) => {
      const wire: Json = { role: message.role, content: message.content };
      // Ollama names the tool a result answers (`tool_name`); the call id is kept for servers that read it.
      if (message.role === 'tool' && message.name !== undefined) wire.tool_name = message.name;
      if (message.toolCallId !== undefined) wire.tool_call_id = message.toolCallId;
      return wire;
    }),
    stream,
  };
  const { options: extraOptions, ...extra } = request.providerOptions ?? {};
  if (isRecord(extraOptions)) Object.assign(options, extraOptions);
  if (Object.keys(options).length > 0) body.options = options;
  Object.assign(body, extra);
  return JSON.stringify(body);
}

/** `{model, input: [...], dimensions?}`: always a list, so one request shape serves every batch. */
export function ollamaEmbedBody(texts: readonly string[], model: string, options: EmbeddingOptions): string {
  const body: Json = { model, input: texts };
  if (options.dimensions !== undefined) body.dimensions = options.dimensions;
  return JSON.stringify(body);
}
