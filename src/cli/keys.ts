/**
 * `llmf keys create | list | revoke`: the gateway's admin API from the command line. The gateway is
 * `--url` (default LLMF_GATEWAY_URL, then http://127.0.0.1:4000) and the master key `--master-key` (default
 * LLMF_MASTER_KEY). A created key is printed once; the gateway keeps only its hash.
 */
import { request } from 'undici';
import { LLMConfigurationError } from '../spec/errors.ts';

export interface KeysFlags {
  url?: string;
  masterKey?: string;
  json?: boolean;
}

export interface CreateFlags extends KeysFlags {
  name: string;
  models?: string;
  rpm?: number;
  tpm?: number;
  budgetUsd?: number;
  budgetPeriod?: string;
  expiresAt?: string;
}

interface Io {
  stdout: NodeJS.WritableStream;
  env: NodeJS.ProcessEnv;
}

async function admin(
  flags: KeysFlags,
  io: Io,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const url = (flags.url ?? io.env.LLMF_GATEWAY_URL ?? 'http://127.0.0.1:4000').replace(/\/+$/, '');
  const masterKey = flags.masterKey ?? io.env.LLMF_MASTER_KEY;
  if (!masterKey) throw new LLMConfigurationError('No master key: pass --master-key or set LLMF_MASTER_KEY');
  const response = await request(`${url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${masterKey}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  }).catch((error: Error) => {
    throw new LLMConfigurationError(`Could not reach the gateway at ${url}: ${error.message}`);
  });
  const text = await response.body.text();
  const parsed = text ? (JSON.parse(text) as Record<string, unknown>) : {};
  if (response.statusCode >= 300) {
    const message = (parsed.error as { message?: string } | undefined)?.message ?? text;
    throw new LLMConfigurationError(`The gateway answered ${response.statusCode}: ${message}`);
  }
  return parsed;
}

export async function runKeysCreate(flags: CreateFlags, io: Io): Promise<void> {
  const body: Record<string, unknown> = { name: flags.name };
  if (flags.models)
    body.models = flags.models
      .split(',')
      .map((model) => model.trim())
      .filter(Boolean);
  for (const field of ['rpm', 'tpm', 'budgetUsd', 'budgetPeriod', 'expiresAt'] as const) {
    if (flags[field] !== undefined) body[field] = flags[field];
  }
  const created = await admin(flags, io, 'POST', '/admin/keys', body);
  if (flags.json) io.stdout.write(`${JSON.stringify(created)}\n`);
  else io.stdout.write(`${created.key}\n(id ${created.id}; this key is shown once — store it now)\n`);
}

export async function runKeysList(flags: KeysFlags, io: Io): Promise<void> {
  const listed = await admin(flags, io, 'GET', '/admin/keys');
  const keys = listed.data as Array<Record<string, unknown>>;
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(keys)}\n`);
    return;
  }
  for (const key of keys) {
    const limits = ['rpm', 'tpm', 'budgetUsd', 'budgetPeriod']
      .filter((field) => key[field] !== undefined)
      .map((field) => `${field}=${key[field]}`);
    const state = key.revokedAt
      ? 'revoked'
      : key.expiresAt && Number(key.expiresAt) < Date.now()
        ? 'expired'
        : 'active';
    io.stdout.write(
      `${key.id}\t${key.name}\t${key.prefix}\t${state}${limits.length ? `\t${limits.join(' ')}` : ''}\n`,
    );
  }
}

export async function runKeysRevoke(id: string, flags: KeysFlags, io: Io): Promise<void> {
  await admin(flags, io, 'DELETE', `/admin/keys/${encodeURIComponent(id)}`);
  io.stdout.write(`revoked ${id}\n`);
}
