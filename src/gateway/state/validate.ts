/**
 * Strict in: a key spec is checked field by field before anything is stored (an unknown field is refused,
 * so a typo such as `budget` cannot create a key without a budget), and the reservations and ledger entries
 * the gateway hands the store are checked before they touch a counter. Every problem is named in one
 * `LLMBadRequestError`.
 */
import { LLMBadRequestError } from '../../spec/errors.ts';
import type { KeyRecord, KeySpec, LedgerEntry, Reservation } from './types.ts';

const SPEC_FIELDS = new Set(['name', 'models', 'rpm', 'tpm', 'budgetUsd', 'budgetPeriod', 'expiresAt']);
const MAX_NAME_LENGTH = 200;

function isPositiveInteger(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) > 0;
}

function isCount(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isAmount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 40 ? `${text.slice(0, 40)}…` : text;
}

function fail(what: string, issues: string[]): never {
  throw new LLMBadRequestError(`Invalid ${what}: ${issues.join('; ')}`);
}

/** The spec with only its known fields, or an `LLMBadRequestError` naming every wrong one. */
export function validateKeySpec(spec: unknown): KeySpec {
  if (typeof spec !== 'object' || spec === null || Array.isArray(spec)) {
    fail('key spec', [`must be an object (got ${describe(spec)})`]);
  }
  const input = spec as Record<string, unknown>;
  const issues: string[] = [];
  for (const field of Object.keys(input)) {
    if (!SPEC_FIELDS.has(field)) issues.push(`\`${field}\` is not a key field`);
  }
  const { name, models, rpm, tpm, budgetUsd, budgetPeriod, expiresAt } = input;
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_NAME_LENGTH) {
    issues.push(`\`name\` must be a non-empty string of at most ${MAX_NAME_LENGTH} characters`);
  }
  if (
    models !== undefined &&
    !(Array.isArray(models) && models.every((model) => typeof model === 'string' && model !== ''))
  ) {
    issues.push(`\`models\` must be an array of model names (got ${describe(models)})`);
  }
  if (rpm !== undefined && !isPositiveInteger(rpm)) {
    issues.push(`\`rpm\` must be a positive integer (got ${describe(rpm)})`);
  }
  if (tpm !== undefined && !isPositiveInteger(tpm)) {
    issues.push(`\`tpm\` must be a positive integer (got ${describe(tpm)})`);
  }
  if (budgetUsd !== undefined && !isAmount(budgetUsd)) {
    issues.push(`\`budgetUsd\` must be a number of dollars, 0 or more (got ${describe(budgetUsd)})`);
  }
  if (budgetPeriod !== undefined && budgetPeriod !== 'day' && budgetPeriod !== 'month') {
    issues.push(`\`budgetPeriod\` must be 'day' or 'month' (got ${describe(budgetPeriod)})`);
  } else if (budgetPeriod !== undefined && budgetUsd === undefined) {
    issues.push('`budgetPeriod` needs `budgetUsd`');
  }
  if (expiresAt !== undefined && !isPositiveInteger(expiresAt)) {
    issues.push(`\`expiresAt\` must be epoch milliseconds (got ${describe(expiresAt)})`);
  }
  if (issues.length > 0) fail('key spec', issues);
  const clean: KeySpec = { name: name as string };
  if (models !== undefined) clean.models = [...(models as string[])];
  if (rpm !== undefined) clean.rpm = rpm as number;
  if (tpm !== undefined) clean.tpm = tpm as number;
  if (budgetUsd !== undefined) clean.budgetUsd = budgetUsd as number;
  if (budgetPeriod !== undefined) clean.budgetPeriod = budgetPeriod as KeySpec['budgetPeriod'];
  if (expiresAt !== undefined) clean.expiresAt = expiresAt as number;
  return clean;
}

/** Throws unless `reservation` belongs to `record` and its numbers can be counted. */
export function validateReservation(record: KeyRecord, reservation: Reservation): void {
  const issues: string[] = [];
  if (reservation.keyId !== record.id) {
    issues.push(`\`keyId\` ${describe(reservation.keyId)} is not the key's id ${describe(record.id)}`);
  }
  if (typeof reservation.requestId !== 'string' || reservation.requestId === '') {
    issues.push('`requestId` must be a non-empty string');
  }
  if (!isCount(reservation.at))
    issues.push(`\`at\` must be epoch milliseconds (got ${describe(reservation.at)})`);
  if (!isCount(reservation.tokens)) {
    issues.push(`\`tokens\` must be an integer, 0 or more (got ${describe(reservation.tokens)})`);
  }
  if (!isAmount(reservation.costUsd)) {
    issues.push(`\`costUsd\` must be a number of dollars, 0 or more (got ${describe(reservation.costUsd)})`);
  }
  if (issues.length > 0) fail('reservation', issues);
}

/** Throws unless `entry` belongs to `record` and its numbers can be charged. */
export function validateLedgerEntry(record: KeyRecord, entry: LedgerEntry): void {
  const issues: string[] = [];
  if (entry.keyId !== record.id) {
    issues.push(`\`keyId\` ${describe(entry.keyId)} is not the key's id ${describe(record.id)}`);
  }
  if (!isCount(entry.at)) issues.push(`\`at\` must be epoch milliseconds (got ${describe(entry.at)})`);
  if (typeof entry.model !== 'string') issues.push('`model` must be a string');
  if (entry.deployment !== undefined && typeof entry.deployment !== 'string') {
    issues.push('`deployment` must be a string');
  }
  if (!isCount(entry.inputTokens)) {
    issues.push(`\`inputTokens\` must be an integer, 0 or more (got ${describe(entry.inputTokens)})`);
  }
  if (!isCount(entry.outputTokens)) {
    issues.push(`\`outputTokens\` must be an integer, 0 or more (got ${describe(entry.outputTokens)})`);
  }
  if (entry.costUsd !== undefined && !isAmount(entry.costUsd)) {
    issues.push(`\`costUsd\` must be a number of dollars, 0 or more (got ${describe(entry.costUsd)})`);
  }
  if (typeof entry.requestId !== 'string' || entry.requestId === '') {
    issues.push('`requestId` must be a non-empty string');
  }
  if (issues.length > 0) fail('ledger entry', issues);
}

/** A second reservation under a request id that still holds one. */
export function duplicateReservation(reservation: Reservation): LLMBadRequestError {
  return new LLMBadRequestError(
    `Request ${reservation.requestId} already holds a reservation of key ${reservation.keyId}: settle it first.`,
  );
}
