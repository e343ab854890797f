/**
 * What a call reserves against its key's limits and budget before it is sent: the prompt's tokens
 * (a local estimate: no network call on the hot path) plus `maxTokens` (or a default for the answer), and
 * that estimate priced with the first deployment the model name leads to. The reservation is settled with
 * the real usage and cost once the call ends.
 */
import { costOf } from '../pricing/pricing.ts';
import type { CompletionRequest, ProviderName } from '../spec/types.ts';
import { estimateMessagesTokens, estimateTokens } from '../tokens/estimate.ts';
import type { Principal } from './auth.ts';
import { GatewayError } from './errors.ts';
import { gatewayMetrics } from './metrics.ts';
import type { GatewayStore, LedgerEntry, Reservation } from './state/types.ts';

/** The answer's tokens reserved when the request does not say (`maxTokens`). */
export const DEFAULT_ANSWER_TOKENS = 1024;

/** The prompt's tokens, estimated locally: system, messages, prompt and tool definitions. */
export function promptTokens(request: CompletionRequest): number {
  let tokens = request.system ? estimateTokens(request.system) : 0;
  if (request.messages) tokens += estimateMessagesTokens(request.messages as never);
  if (request.prompt) tokens += estimateTokens(request.prompt);
  if (request.tools) tokens += estimateTokens(JSON.stringify(request.tools));
  return tokens;
}

/** The reservation for a chat call priced as `provider`/`model` would bill it. */
export function estimateChat(
  keyId: string,
  requestId: string,
  request: CompletionRequest,
  pricedAs: { provider: ProviderName; model: string } | undefined,
  input = promptTokens(request),
): Reservation {
  const output = request.maxTokens ?? DEFAULT_ANSWER_TOKENS;
  const cost = pricedAs
    ? costOf(pricedAs.provider, pricedAs.model, {
        inputTokens: input,
        outputTokens: output,
        totalTokens: input + output,
      })
    : undefined;
  return { keyId, requestId, at: Date.now(), tokens: input + output, costUsd: cost ?? 0 };
}

/** The reservation for an embeddings call. */
export function estimateEmbeddings(keyId: string, requestId: string, texts: readonly string[]): Reservation {
  let tokens = 0;
  for (const text of texts) tokens += estimateTokens(text);
  return { keyId, requestId, at: Date.now(), tokens, costUsd: 0 };
}

/** Reserves, or refuses with a 429 that says which limit and when to come back. */
export async function reserve(
  store: GatewayStore,
  principal: Principal,
  reservation: Reservation,
): Promise<Reservation | undefined> {
  if (principal.kind === 'master') return undefined;
  const refusal = await store.reserve(principal.record, reservation);
  if (!refusal) return reservation;
  gatewayMetrics().refusals.inc({ key: principal.name, reason: refusal.reason });
  const hint = { retryAfterMs: refusal.retryAfterMs };
  switch (refusal.reason) {
    case 'budget':
      throw new GatewayError(429, 'budget_exceeded', refusal.message, { ...hint, code: 'budget_exceeded' });
    case 'revoked':
    case 'expired':
      throw new GatewayError(401, 'authentication_error', refusal.message, { code: `key_${refusal.reason}` });
    case 'unavailable':
      throw new GatewayError(503, 'overloaded_error', refusal.message, {
        ...hint,
        code: 'state_unavailable',
      });
    default:
      throw new GatewayError(429, 'rate_limit_error', refusal.message, {
        ...hint,
        code: `${refusal.reason}_limit_exceeded`,
      });
  }
}

/** Settles a reservation with what the call really used (nothing when it failed before an answer). */
export async function settle(
  store: GatewayStore,
  principal: Principal,
  reservation: Reservation | undefined,
  entry: LedgerEntry | undefined,
): Promise<void> {
  if (principal.kind === 'master' || !reservation) return;
  await store.settle(principal.record, reservation, entry);
}
