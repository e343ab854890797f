/**
 * One request's bookkeeping as it passes through the gateway: who asked, which model and deployment, the
 * usage the provider reported; what the metric, the access-log line and the key's ledger row are made of.
 */
import type { Usage } from '../spec/types.ts';
import type { Principal } from './auth.ts';
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
