/**
 * One request's bookkeeping as it passes through the gateway: who asked, which model and deployment, the
 * usage the provider reported; what the metric, the access-log line and the key's ledger row are made of.
 */
import type { ProviderName, Usage } from '../spec/types.ts';
import type { Principal } from './auth.ts';
import { priced } from './pass-through.ts';
import type { LedgerEntry } from './state/types.ts';

/** The protocol a client speaks to the gateway. */
export type Protocol = 'openai' | 'anthropic';

/** One request's bookkeeping, for the metric and the access-log line at its end. */
export interface Exchange {
  id: string;
  endpoint: string;
  started: number;
  principal?: Principal;
  model: string;
  deployment?: string;
  usage?: Usage;
  status: number;
  stream: boolean;
  /** The client's protocol headers a pass-through keeps (`anthropic-version`, `anthropic-beta`). */
  protocolHeaders?: Record<string, string>;
  /** What the client's `cache-control` allows. */
  cacheControl?: { read: boolean; write: boolean };
  /** Served from the response cache. */
  cached?: boolean;
  /**
   * The provider was generating for this client: its answer began reaching the client, or the client left
   * while it was being generated. Such a call is charged even when its usage never came (see `chargeCutShort`).
   */
  begun?: boolean;
  /** The provider's final usage arrived: `usage` is what it billed. */
  complete?: boolean;
  /** Characters of output (text, reasoning, tool arguments) that reached the client. */
  outputChars?: number;
  /** The prompt's estimated tokens, and how the estimate is priced. */
  promptTokens?: number;
  pricedAs?: { provider: ProviderName; model: string } | undefined;
}

/** Keeps the usage a call reported and the deployment that answered it. */
export function answered(exchange: Exchange, usage: Usage, deployment: string | undefined): void {
  exchange.usage = usage;
  if (deployment !== undefined) exchange.deployment = deployment;
}

/** The ledger row of a virtual key's answered call; none for the master key or a call that reported nothing. */
export function ledgerEntry(exchange: Exchange): LedgerEntry | undefined {
  const principal = exchange.principal;
  if (principal?.kind !== 'key' || !exchange.usage) return undefined;
  return {
    keyId: principal.record.id,
    at: Date.now(),
    model: exchange.model,
    deployment: exchange.deployment,
    inputTokens: exchange.usage.inputTokens,
    outputTokens: exchange.usage.outputTokens,
    costUsd: exchange.usage.costUsd,
    requestId: exchange.id,
  };
}

/**
 * An answer cut short before its usage came (the client left mid-stream, the provider's stream broke, the
 * gateway shut down) was still generated, and billed, by the provider: it is charged an estimate rather than
 * nothing — the input the provider reported (or the prompt's estimate) and the larger of the output it
 * reported and the output that reached the client (4 characters a token), priced as the reservation was.
 */
export function chargeCutShort(exchange: Exchange): void {
  if (exchange.complete || !exchange.begun) return;
  const reported = exchange.usage;
  const input = reported?.inputTokens || exchange.promptTokens || 0;
  const output = Math.max(reported?.outputTokens ?? 0, Math.ceil((exchange.outputChars ?? 0) / 4));
  // What the provider did report (its cached input, say) is kept; only the cost is worked out again.
  const { costUsd: _reportedCost, ...kept } = reported ?? {};
  const usage: Usage = { ...kept, inputTokens: input, outputTokens: output, totalTokens: input + output };
  const pricedAs = exchange.pricedAs;
  exchange.usage = pricedAs ? priced(usage, pricedAs.provider, pricedAs.model) : usage;
}
