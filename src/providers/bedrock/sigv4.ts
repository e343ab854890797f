/**
 * AWS Signature Version 4 for Bedrock, through the maintained `@smithy/signature-v4` signer (the one the AWS
 * SDK uses) with SHA-256 from `@smithy/hash-node`. Nothing here computes a hash itself. The path is signed
 * exactly as it is sent (already percent-encoded); the signer escapes it once more for the canonical
 * request, as the AWS SDK does for every service but S3.
 */
import { createRequire } from 'node:module';
import type * as HashNode from '@smithy/hash-node';
import type * as Signer from '@smithy/signature-v4';
import type { SignatureV4 } from '@smithy/signature-v4';
import type { PreparedRequest } from '../../http/transport.ts';
import type { AwsCredentials } from '../provider.ts';

/** Bedrock's signing name (the runtime endpoint is `bedrock-runtime`, its signing service is `bedrock`). */
export const BEDROCK_SIGNING_SERVICE = 'bedrock';

export interface SignerSettings {
  credentials: AwsCredentials;
  region: string;
  /**
   * Add `x-amz-content-sha256` when the request has none. Default true, as the AWS SDK does; a verifier
   * recomputing someone else's signature turns it off so that only the headers they signed are used.
   */
  applyChecksum?: boolean;
  /** The signing name. Default `bedrock`; AWS's published SigV4 test vectors use `service`. */
  service?: string;
}

/** A SigV4 signer for Bedrock in one region. */
// Loaded when a Bedrock client is made, not when the library is imported.
const require = createRequire(import.meta.url);

export function createBedrockSigner(settings: SignerSettings): SignatureV4 {
  const { SignatureV4 } = require('@smithy/signature-v4') as typeof Signer;
  const { Hash } = require('@smithy/hash-node') as typeof HashNode;
  return new SignatureV4({
    service: settings.service ?? BEDROCK_SIGNING_SERVICE,
    region: settings.region,
    credentials: settings.credentials,
    sha256: Hash.bind(null, 'sha256'),
    applyChecksum: settings.applyChecksum ?? true,
  });
}

/** The query string as the signer wants it: name → value (or values), decoded. */
export function queryOf(search: string): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = {};
  for (const [name, value] of new URLSearchParams(search)) {
    const seen = query[name];
    query[name] = seen === undefined ? value : Array.isArray(seen) ? [...seen, value] : [seen, value];
  }
  return query;
}

/**
 * Signs one attempt at `date` (default now): adds `host`, `x-amz-date`, `x-amz-content-sha256`,
 * `x-amz-security-token` (with temporary credentials) and `authorization`. Every other header present is
 * signed too, except those the AWS SDK never signs (`user-agent`, …).
 */
export async function signBedrockRequest(
  signer: SignatureV4,
  request: PreparedRequest,
  date: Date = new Date(),
): Promise<PreparedRequest> {
  const url = new URL(request.url);
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) headers[name.toLowerCase()] = value;
  headers.host = url.host;
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: url.protocol,
      hostname: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      path: url.pathname,
      query: queryOf(url.search),
      headers,
      body: request.body,
    },
    { signingDate: date },
  );
  return { ...request, headers: signed.headers };
}
