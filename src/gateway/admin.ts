/**
 * The administration API, for the master key only: `POST /admin/keys` (the key is shown this once),
 * `GET /admin/keys`, `DELETE /admin/keys/:id`, `GET /admin/keys/:id/spend`. Bodies are checked field by field.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from '../middleware/logging.ts';
import type { KeyAuth } from './auth.ts';
import { GatewayError, openAIErrorBody, toGatewayError } from './errors.ts';
import { parseJson, presentedKey, readBody, sendJson } from './http.ts';
import type { GatewayStore, KeyRecord, KeySpec } from './state/types.ts';
import { validateKeySpec } from './state/validate.ts';
import { invalidBody, isRecord } from './validate-body.ts';

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

/**
 * A `POST /admin/keys` body → a key spec: `expiresAt` may be an ISO date; everything else is checked by the
 * store's own validation (an unknown field is refused, so a typo cannot create a key without its limit).
 */
export function keySpecOf(body: unknown): KeySpec {
  if (isRecord(body) && typeof body.expiresAt === 'string') {
    const at = Date.parse(body.expiresAt);
    if (!Number.isFinite(at))
      throw invalidBody([{ path: 'expiresAt', message: 'must be an ISO date or epoch milliseconds' }]);
    return validateKeySpec({ ...body, expiresAt: at });
  }
  return validateKeySpec(body);
}

export class AdminApi {
  readonly #store: GatewayStore;
  readonly #auth: KeyAuth;
  readonly #bodyLimitBytes: number;
  readonly #logger: Logger | undefined;

  constructor(store: GatewayStore, auth: KeyAuth, bodyLimitBytes: number, logger?: Logger) {
    this.#store = store;
    this.#auth = auth;
    this.#bodyLimitBytes = bodyLimitBytes;
    this.#logger = logger;
  }

  create(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, 'admin.keys.create', async () => {
      const spec = keySpecOf(parseJson(await readBody(req, this.#bodyLimitBytes)));
      const { record, key } = await this.#store.createKey(spec);
      sendJson(res, 201, { ...shown(record), key });
    });
  }

  list(req: IncomingMessage, res: ServerResponse): Promise<void> {
    return this.#handle(req, res, 'admin.keys.list', async () => {
      const keys = await this.#store.listKeys();
      sendJson(res, 200, { object: 'list', data: keys.map(shown) });
    });
  }

  revoke(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    return this.#handle(req, res, 'admin.keys.revoke', async () => {
      if (!(await this.#store.revokeKey(id)))
        throw new GatewayError(404, 'not_found_error', `No key with id '${id}'`);
      this.#auth.forget(id);
      sendJson(res, 200, { id, revoked: true });
    });
  }

  spend(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    return this.#handle(req, res, 'admin.keys.spend', async () => {
      const record = await this.#store.getKey(id);
      if (!record) throw new GatewayError(404, 'not_found_error', `No key with id '${id}'`);
      sendJson(res, 200, await this.#store.spend(record, Date.now()));
    });
  }

  /** Checks the master key, runs `body`, answers an error in OpenAI's shape, and logs an access line. */
  async #handle(
    req: IncomingMessage,
    res: ServerResponse,
    endpoint: string,
    body: () => Promise<void>,
  ): Promise<void> {
    const started = performance.now();
    let master = false;
    try {
      const key = presentedKey(req);
      master = key !== undefined && this.#auth.isMaster(key);
      if (!key || !master) {
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
    } finally {
      // Who administered keys, and how it went: never the key.
      this.#logger?.info(
        {
          endpoint,
          status: res.statusCode,
          ms: Math.round(performance.now() - started),
          key: master ? 'master' : 'anonymous',
        },
        'request',
      );
    }
  }
}
