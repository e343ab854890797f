/**
 * Bodies clients send the gateway are checked field by field; every problem is collected with its path, and
 * the client gets all of them at once in a 400 of its own protocol's shape.
 */
import { isRecord } from '../spec/json.ts';
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
  const refuse = (message: string) =>
    new GatewayError(400, 'invalid_request_error', `Invalid request: ${message}`);
  if (!isRecord(body)) throw refuse('the body must be a JSON object');
  const { input, model, dimensions } = body;
  const texts =
    typeof input === 'string'
      ? [input]
      : Array.isArray(input) && input.every((text) => typeof text === 'string')
        ? (input as string[])
        : undefined;
  if (!texts || texts.length === 0) throw refuse('input: must be a string or a non-empty array of strings');
  if (typeof model !== 'string' || model === '') throw refuse('model: must be a non-empty string');
  if (
    dimensions !== undefined &&
    dimensions !== null &&
    !(Number.isSafeInteger(dimensions) && (dimensions as number) > 0)
  ) {
    throw refuse('dimensions: must be a positive integer');
  }
  return {
    texts,
    model,
    dimensions: typeof dimensions === 'number' ? dimensions : undefined,
    base64: body.encoding_format === 'base64',
  };
}
