/** The error of a state store that cannot be reached (Redis down, a command timed out). */
import { LLMConnectionError } from '../../spec/errors.ts';

/**
 * Thrown by the key operations (`findKey`, `createKey`, …) when the store cannot be reached: without it no key
 * can be checked, so the gateway answers 503 whatever `whenUnavailable` says. `reserve` does not throw it: it
 * refuses (`reason: 'unavailable'`) or admits, as the store is set. Retryable.
 */
export class GatewayStateUnavailableError extends LLMConnectionError {
  constructor(operation: string, cause: unknown) {
    super(
      `The gateway's state store (Redis) cannot be reached, so ${operation} failed: ${(cause as Error)?.message ?? String(cause)}`,
      { retryable: true, cause },
    );
  }
}
