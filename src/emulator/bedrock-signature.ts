/**
 * The emulator's SigV4 check, as Bedrock's front door does it: the signature in `Authorization` is
 * recomputed with the same maintained signer (`@smithy/signature-v4`) from the secret of the access key id
 * its `Credential` names, over exactly the headers it lists in `SignedHeaders`, the path as sent and the
 * body as received. Answers carry AWS's own exception names and messages.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { BEDROCK_SIGNING_SERVICE, createBedrockSigner, queryOf } from '../providers/bedrock/sigv4.ts';
import type { Exchange } from './exchange.ts';

export type SignatureVerdict =
  | { ok: true; accessKeyId: string }
  | { ok: false; name: string; message: string };

const SKEW_MS = 5 * 60_000;
const MISMATCH =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` → its parts, or what is missing. */
function parseAuthorization(value: string): ParsedAuthorization | string {
  const fields = new Map<string, string>();
  for (const part of value.slice('AWS4-HMAC-SHA256'.length).split(',')) {
    const equals = part.indexOf('=');
    if (equals > 0) fields.set(part.slice(0, equals).trim(), part.slice(equals + 1).trim());
  }
  const missing = ['Credential', 'Signature', 'SignedHeaders'].filter((name) => !fields.get(name));
  if (missing.length > 0) {
    return `${missing.map((name) => `Authorization header requires '${name}' parameter.`).join(' ')} Authorization=${value.split(' ')[0]}`;
  }
  const scope = fields.get('Credential')!.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request') {
    return `Credential should be scoped to a valid region. Authorization=${value.split(' ')[0]}`;
  }
  return {
    accessKeyId: scope[0]!,
    date: scope[1]!,
    region: scope[2]!,
    service: scope[3]!,
    signedHeaders: fields
      .get('SignedHeaders')!
      .split(';')
      .map((name) => name.trim().toLowerCase()),
    signature: fields.get('Signature')!,
  };
}

/** `20250101T000000Z` → a Date, or undefined. */
function parseAmzDate(value: string | undefined): Date | undefined {
  const match = value ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value) : null;
  if (!match) return undefined;
  const [, year, month, day, hour, minute, second] = match.map(Number) as number[];
  return new Date(Date.UTC(year!, month! - 1, day!, hour!, minute!, second!));
}

const amzDate = (date: Date) => date.toISOString().replace(/[-:]|\.\d{3}/g, '');

function header(exchange: Exchange, name: string): string | undefined {
  const value =
    exchange.req.headers[name] ?? (name === 'host' ? exchange.req.headers[':authority'] : undefined);
  return Array.isArray(value) ? value.join(',') : value;
}

/**
 * Checks a SigV4 `Authorization` header against the emulator's credentials. `service` is the signing name
 * required in the credential scope (AWS's published test vectors use `service`).
 */
export async function checkSignature(
  exchange: Exchange,
  authorization: string,
  now: number = Date.now(),
  service: string = BEDROCK_SIGNING_SERVICE,
): Promise<SignatureVerdict> {
  const parsed = parseAuthorization(authorization);
  if (typeof parsed === 'string') return { ok: false, name: 'IncompleteSignatureException', message: parsed };
  const known = exchange.awsCredentials.find((pair) => pair.accessKeyId === parsed.accessKeyId);
  if (!known) {
    return {
      ok: false,
      name: 'UnrecognizedClientException',
      message: 'The security token included in the request is invalid.',
    };
  }
  const dateHeader = header(exchange, 'x-amz-date');
  const signingDate = parseAmzDate(dateHeader);
  if (!signingDate) {
    return {
      ok: false,
      name: 'IncompleteSignatureException',
      message: "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    };
  }
  const fail = (message: string): SignatureVerdict => ({
    ok: false,
    name: 'InvalidSignatureException',
    message,
  });
  if (parsed.service !== service)
    return fail(`Credential should be scoped to correct service: '${service}'. `);
  if (parsed.date !== dateHeader!.slice(0, 8)) {
    return fail(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${parsed.date}' != '${dateHeader!.slice(0, 8)}', from '${dateHeader}'.`,
    );
  }
  if (signingDate.getTime() < now - SKEW_MS) {
    return fail(
      `Signature expired: ${dateHeader} is now earlier than ${amzDate(new Date(now - SKEW_MS))} (${amzDate(new Date(now))} - 5 min.)`,
    );
  }
  if (signingDate.getTime() > now + SKEW_MS) {
    return fail(
      `Signature not yet current: ${dateHeader} is still later than ${amzDate(new Date(now + SKEW_MS))} (${amzDate(new Date(now))} + 5 min.)`,
    );
  }
  // HTTP/1.1 clients sign `host`; the AWS SDK over HTTP/2 signs `:authority` instead.
  if (!parsed.signedHeaders.includes('host') && !parsed.signedHeaders.includes(':authority'))
    return fail("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");

  const headers: Record<string, string> = {};
  for (const name of parsed.signedHeaders) {
    const value = header(exchange, name);
    if (value === undefined) return fail(MISMATCH);
    headers[name] = value;
  }
  const claimedHash = headers['x-amz-content-sha256'];
  if (claimedHash !== undefined && claimedHash !== 'UNSIGNED-PAYLOAD') {
    const actual = createHash('sha256').update(exchange.rawBody).digest('hex');
    if (claimedHash !== actual)
      return fail("The provided 'x-amz-content-sha256' header does not match what was computed.");
  }

  const raw = exchange.req.url ?? '/';
  const question = raw.indexOf('?');
  const signer = createBedrockSigner({
    credentials: { accessKeyId: known.accessKeyId, secretAccessKey: known.secretAccessKey },
    region: parsed.region,
    applyChecksum: false,
  });
  const signed = await signer.sign(
    {
      method: exchange.req.method ?? 'POST',
      protocol: 'http:',
      hostname: headers.host ?? headers[':authority'] ?? 'localhost',
      path: question === -1 ? raw : raw.slice(0, question),
      query: question === -1 ? {} : queryOf(raw.slice(question)),
      headers,
      body: exchange.rawBody,
    },
    {
      signingDate,
      signingRegion: parsed.region,
      signingService: parsed.service,
      signableHeaders: new Set(parsed.signedHeaders),
      // The signer always sets x-amz-date; it counts only when the client signed it.
      unsignableHeaders: parsed.signedHeaders.includes('x-amz-date') ? undefined : new Set(['x-amz-date']),
    },
  );
  const expected = /Signature=([0-9a-f]+)/.exec(String(signed.headers.authorization))?.[1] ?? '';
  const given = Buffer.from(parsed.signature);
  const ok = expected.length === given.length && timingSafeEqual(Buffer.from(expected), given);
  return ok ? { ok: true, accessKeyId: known.accessKeyId } : fail(MISMATCH);
}
