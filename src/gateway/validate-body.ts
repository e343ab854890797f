/**
 * Bodies clients send the gateway are checked field by field; every problem is collected with its path, and
 * the client gets all of them at once in a 400 of its own protocol's shape.
 */
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
