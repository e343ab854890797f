/**
 * The administration API, for the master key only: `POST /admin/keys` (the key is shown this once),
 * `GET /admin/keys`, `DELETE /admin/keys/:id`, `GET /admin/keys/:id/spend`. Bodies are checked field by field.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KeyAuth } from './auth.ts';
import { GatewayError, openAIErrorBody, toGatewayError } from './errors.ts';
import { parseJson, presentedKey, readBody, sendJson } from './http.ts';
import type { GatewayStore, KeyRecord, KeySpec } from './state/types.ts';
import { type BodyIssue, invalidBody, isRecord } from './validate-body.ts';

/** A key as the API shows it: never the key, never its hash. */
function shown(record: KeyRecord): Record<string, unknown> {
  const out: Record<string, unknown> = {
    id: record.id,
    name: record.name,
    prefix: record.prefix,
    createdAt: record.createdAt,
  };
  for (const field of [
    'models',
    'rpm',
    'tpm',
    'budgetUsd',
    'budgetPeriod',
    'expiresAt',
    'revokedAt',
  ] as const) {
    if (record[field] !== undefined) out[field] = record[field];
  }
  return out;
}

function positive(
  body: Record<string, unknown>,
  field: string,
  issues: BodyIssue[],
  integer: boolean,
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !(value > 0) || (integer && !Number.isInteger(value))) {
    issues.push({
      path: field,
      message: integer ? 'must be a positive integer' : 'must be a positive number',
    });
    return undefined;
  }
  return value;
}

/** A `POST /admin/keys` body → a key spec, or every problem with it. */
export function keySpecOf(body: unknown, now: number): KeySpec {
  if (!isRecord(body)) throw invalidBody([{ path: '', message: 'the body must be a JSON object' }]);
  const issues: BodyIssue[] = [];
  if (typeof body.name !== 'string' || body.name.trim() === '' || body.name.length > 200) {
    issues.push({ path: 'name', message: 'must be a non-empty string of at most 200 characters' });
  }
  const spec: KeySpec = { name: String(body.name ?? '').trim() };
  if (body.models !== undefined) {
    if (
      !Array.isArray(body.models) ||
      !body.models.every((model) => typeof model === 'string' && model !== '')
    ) {
      issues.push({ path: 'models', message: 'must be an array of model names' });
    } else spec.models = body.models as string[];
  }
  spec.rpm = positive(body, 'rpm', issues, true);
  spec.tpm = positive(body, 'tpm', issues, true);
  spec.budgetUsd = positive(body, 'budgetUsd', issues, false);
  if (body.budgetPeriod !== undefined) {
    if (body.budgetPeriod !== 'day' && body.budgetPeriod !== 'month')
      issues.push({ path: 'budgetPeriod', message: "must be 'day' or 'month'" });
    else spec.budgetPeriod = body.budgetPeriod;
    if (spec.budgetUsd === undefined) issues.push({ path: 'budgetPeriod', message: 'needs budgetUsd' });
  }
  if (body.expiresAt !== undefined) {
    const at = typeof body.expiresAt === 'string' ? Date.parse(body.expiresAt) : body.expiresAt;
    if (typeof at !== 'number' || !Number.isFinite(at))
      issues.push({ path: 'expiresAt', message: 'must be an ISO date or epoch milliseconds' });
    else if (at <= now) issues.push({ path: 'expiresAt', message: 'must be in the future' });
    else spec.expiresAt = at;
  }
  if (issues.length > 0) throw invalidBody(issues);
  for (const field of ['rpm', 'tpm', 'budgetUsd'] as const) if (spec[field] === undefined) delete spec[field];
  return spec;
}

export class AdminApi {
  readonly #store: GatewayStore;
  readonly #auth: KeyAuth;
  readonly #bodyLimitBytes: number;

  constructor(store: GatewayStore, auth: KeyAuth, bodyLimitBytes: number) {
    this.#store = store;
    this.#auth = auth;
    this.#bodyLimitBytes = bodyLimitBytes;
  }

  create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, async () => {
      const spec = keySpecOf(parseJson(await readBody(req, this.#bodyLimitBytes)), Date.now());
      const { record, key } = await this.#store.createKey(spec);
      sendJson(res, 201, { ...shown(record), key });
    });
  }

  list(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, async () => {
      const keys = await this.#store.listKeys();
      sendJson(res, 200, { object: 'list', data: keys.map(shown) });
    });
  }

  revoke(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    return this.#handle(req, res, async () => {
      if (!(await this.#store.revokeKey(id)))
        throw new GatewayError(404, 'not_found_error', `No key with id '${id}'`);
      this.#auth.forget(id);
      sendJson(res, 200, { id, revoked: true });
    });
  }

  spend(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    return this.#handle(req, res, async () => {
      const record = await this.#store.getKey(id);
      if (!record) throw new GatewayError(404, 'not_found_error', `No key with id '${id}'`);
      sendJson(res, 200, await this.#store.spend(record, Date.now()));
    });
  }

  async #handle(req: IncomingMessage, res: ServerResponse, body: () => Promise<void>): Promise<void> {
    try {
      const key = presentedKey(req);
      if (!key || !this.#auth.isMaster(key)) {
        if (!key)
          throw new GatewayError(
            401,
            'authentication_error',
            'No API key: the admin API takes the master key',
          );
        throw new GatewayError(403, 'permission_error', 'The admin API takes the master key');
      }
      await body();
    } catch (error) {
      const failure = toGatewayError(error);
      sendJson(res, failure.status, openAIErrorBody(failure), failure.headers());
      if (!req.complete) req.resume();
    }
  }
}
