/**
 * Secret scrubbing. A client registers the secrets it holds (API keys, tokens); every message, body and
 * header value that leaves the library as an error or log passes through `redact` first.
 */

const REDACTED = '[REDACTED]';

/** Header names whose values are always secret. */
export const SECRET_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'proxy-authorization',
  'api-key',
  'x-api-key',
  'x-goog-api-key',
  'cookie',
  'set-cookie',
  'x-amz-security-token',
]);

// Key-shaped tokens even when we do not know them: OpenAI `sk-…`, Anthropic `sk-ant-…`, AWS access key ids,
// Google API keys, bearer tokens and signed query parameters.
const KEY_SHAPES =
  /\b(?:sk-[A-Za-z0-9_-]{16,}|AKIA[0-9A-Z]{16}|AIza[0-9A-Za-z_-]{30,})\b|(?<=\bBearer\s+)[A-Za-z0-9._~+/=-]{8,}|(?<=[?&](?:key|api-key|api_key|X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|sig)=)[^&\s"']+/g;

/**
 * Replaces every known secret and every key-shaped token in `text`. Secrets shorter than 6 characters are
 * ignored: replacing them would shred ordinary text and they are not real keys.
 */
export function redact(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret.length >= 6 && out.includes(secret)) out = out.split(secret).join(REDACTED);
  }
  return out.replace(KEY_SHAPES, REDACTED);
}

/** A copy of `headers` with secret header values replaced. */
export function redactHeaders(
  headers: Record<string, string | string[] | undefined>,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const joined = Array.isArray(value) ? value.join(', ') : value;
    out[name] = SECRET_HEADERS.has(name.toLowerCase()) ? REDACTED : redact(joined);
  }
  return out;
}
