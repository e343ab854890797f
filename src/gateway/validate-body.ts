/**
 * Bodies clients send the gateway are checked field by field; every problem is collected with its path, and
 * the client gets all of them at once in a 400 of its own protocol's shape.
 */
import { isRecord } from '../spec/json.ts';
import type { CompletionRequest } from '../spec/types.ts';
import { GatewayError } from './errors.ts';

export { isRecord, type Json } from '../spec/json.ts';

export interface BodyIssue {
  /** `messages[2].content`, or '' for the body itself. */
  path: string;
  message: string;
}

/** A 400 listing what is wrong: `messages[0].role: must be …; model: must be a non-empty string`. */
export function invalidBody(issues: readonly BodyIssue[]): GatewayError {
  const shown = issues
    .slice(0, 8)
    .map((issue) => (issue.path ? `${issue.path}: ${issue.message}` : issue.message));
  if (issues.length > 8) shown.push(`… and ${issues.length - 8} more`);
  return new GatewayError(400, 'invalid_request_error', `Invalid request: ${shown.join('; ')}`);
}

/** What a `POST /v1/embeddings` body asks for, checked; a 400 naming the field otherwise. */
export function embeddingsRequest(body: unknown): {
  texts: string[];
  model: string;
  dimensions: number | undefined;
  base64: boolean;
} {
  const refuse = (path: string, message: string) => invalidBody([{ path, message }]);
  if (!isRecord(body)) throw refuse('', 'the body must be a JSON object');
  const { input, model, dimensions } = body;
  const texts =
    typeof input === 'string'
      ? [input]
      : Array.isArray(input) && input.every((text) => typeof text === 'string')
        ? (input as string[])
        : undefined;
  if (!texts || texts.length === 0) throw refuse('input', 'must be a string or a non-empty array of strings');
  if (typeof model !== 'string' || model === '') throw refuse('model', 'must be a non-empty string');
  if (
    dimensions !== undefined &&
    dimensions !== null &&
    !(Number.isSafeInteger(dimensions) && (dimensions as number) > 0)
  ) {
    throw refuse('dimensions', 'must be a positive integer');
  }
  return {
    texts,
    model,
    dimensions: typeof dimensions === 'number' ? dimensions : undefined,
    base64: body.encoding_format === 'base64',
  };
}

/**
 * A body bound for a deployment of its own protocol, read only as far as the gateway needs it: the model,
 * whether it streams, and a request to estimate its reservation from (the messages as their JSON, which
 * over-counts a little). What the provider accepts is the provider's to judge: fields the translation cannot
 * carry (`n`, audio parts, custom tools, …) pass through, and the provider's own 400 reaches the client.
 */
export function passThroughCall(
  protocol: 'openai' | 'anthropic',
  body: unknown,
): { request: CompletionRequest; stream: boolean; includeUsage: boolean } {
  const refuse = (path: string, message: string) => invalidBody([{ path, message }]);
  if (!isRecord(body)) throw refuse('', 'the body must be a JSON object');
  if (typeof body.model !== 'string' || body.model === '')
    throw refuse('model', 'must be a non-empty string');
  if (!Array.isArray(body.messages)) throw refuse('messages', 'must be an array');
  // Inline media (base64 `data`, `data:` URLs) is not text: left out of the estimate.
  const text = (value: unknown) =>
    JSON.stringify(value, (key, item) =>
      typeof item === 'string' && (key === 'data' || item.startsWith('data:')) ? '' : item,
    ) ?? '';
  const request: CompletionRequest = { model: body.model, prompt: text(body.messages) + text(body.system) };
  if (Array.isArray(body.tools)) request.tools = body.tools as CompletionRequest['tools'];
  const maxTokens = protocol === 'openai' ? (body.max_completion_tokens ?? body.max_tokens) : body.max_tokens;
  const choices = protocol === 'openai' && Number.isSafeInteger(body.n) ? (body.n as number) : 1;
  if (Number.isSafeInteger(maxTokens) && (maxTokens as number) > 0)
    request.maxTokens = (maxTokens as number) * Math.max(1, choices);
  const options = isRecord(body.stream_options) ? body.stream_options : {};
  return { request, stream: body.stream === true, includeUsage: options.include_usage === true };
}

/**
 * Fields that change what the client gets back, which the conversation model cannot carry to a deployment of
 * another protocol: dropping them would answer a different question (no logprobs where they were asked for,
 * text where audio was). Sampling hints and metadata (`top_k`, `user`, `metadata`) are dropped instead.
 */
const UNTRANSLATABLE: Record<
  'openai' | 'anthropic',
  ReadonlyArray<[field: string, present: (value: unknown) => boolean]>
> = {
  openai: [
    ['logprobs', (value) => value === true],
    ['top_logprobs', (value) => value !== undefined && value !== null],
    ['logit_bias', (value) => isRecord(value) && Object.keys(value).length > 0],
    ['audio', (value) => value !== undefined && value !== null],
    ['modalities', (value) => Array.isArray(value) && value.some((modality) => modality !== 'text')],
  ],
  anthropic: [
    ['mcp_servers', (value) => Array.isArray(value) && value.length > 0],
    ['container', (value) => value !== undefined && value !== null],
  ],
};

/** A 400 naming the first field of `body` a translation for `model` would have to drop, if any. */
export function refuseUntranslatable(protocol: 'openai' | 'anthropic', body: unknown, model: string): void {
  if (!isRecord(body)) return;
  for (const [field, present] of UNTRANSLATABLE[protocol]) {
    if (present(body[field])) {
      throw new GatewayError(
        400,
        'invalid_request_error',
        `Invalid request: ${field}: not supported for "${model}", whose deployments do not all speak this protocol (the request would be translated, and ${field} cannot be carried)`,
      );
    }
  }
}
