/**
 * Images and files as callers write them (bytes, base64, `data:` URLs, `https:` URLs, `URL` objects) →
 * one `MediaSource`: base64 with a media type, or a URL. Media types of images are recognised from their
 * first bytes when not given, since Anthropic, Gemini and Bedrock all require one.
 */
import type { MediaSource } from '../providers/normalized.ts';
import { LLMBadRequestError } from '../spec/errors.ts';
import type { DataContent } from '../spec/messages.ts';

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** The media type the first bytes announce (images and PDF), or undefined. */
export function sniffMediaType(bytes: Uint8Array): string | undefined {
  const at = (i: number) => bytes[i];
  if (at(0) === 0x89 && at(1) === 0x50 && at(2) === 0x4e && at(3) === 0x47) return 'image/png';
  if (at(0) === 0xff && at(1) === 0xd8 && at(2) === 0xff) return 'image/jpeg';
  if (at(0) === 0x47 && at(1) === 0x49 && at(2) === 0x46 && at(3) === 0x38) return 'image/gif';
  if (
    at(0) === 0x52 &&
    at(1) === 0x49 &&
    at(2) === 0x46 &&
    at(3) === 0x46 &&
    at(8) === 0x57 &&
    at(9) === 0x45 &&
    at(10) === 0x42 &&
    at(11) === 0x50
  )
    return 'image/webp';
  if (at(0) === 0x25 && at(1) === 0x50 && at(2) === 0x44 && at(3) === 0x46) return 'application/pdf';
  return undefined;
}

function sniffBase64(data: string): string | undefined {
  // 16 base64 characters are 12 bytes: enough for every signature above.
  return sniffMediaType(Buffer.from(data.slice(0, 16), 'base64'));
}

function invalid(field: string, why: string): LLMBadRequestError {
  return new LLMBadRequestError(`Invalid request: \`${field}\` ${why}`);
}

/** Splits a `data:` URL into its media type and base64 payload. */
function fromDataUrl(url: string, field: string): { data: string; mediaType: string | undefined } {
  const comma = url.indexOf(',');
  if (comma === -1) throw invalid(field, 'is a data: URL without a comma');
  const meta = url.slice(5, comma);
  const payload = url.slice(comma + 1);
  const parts = meta.split(';');
  const mediaType = parts[0] ? parts[0].toLowerCase() : undefined;
  if (parts.includes('base64')) {
    const data = payload.replace(/\s+/g, '');
    if (!BASE64.test(data)) throw invalid(field, 'is a data: URL whose base64 payload is not base64');
    return { data, mediaType };
  }
  let decoded: string;
  try {
    decoded = decodeURIComponent(payload);
  } catch {
    throw invalid(field, 'is a data: URL with a malformed percent-encoded payload');
  }
  return { data: Buffer.from(decoded, 'utf8').toString('base64'), mediaType };
}

/**
 * One image or file → a `MediaSource`. `field` names it in errors (`messages[1].content[0].image`);
 * `mediaType` is what the caller gave (required for files, recognised for images when absent).
 */
export function toMediaSource(
  content: DataContent,
  mediaType: string | undefined,
  field: string,
  kind: 'image' | 'file',
): MediaSource {
  let source: MediaSource;
  if (content instanceof URL || (typeof content === 'string' && /^https?:\/\//i.test(content))) {
    const url = content instanceof URL ? content : parseUrl(content, field);
    if (url.protocol === 'data:') return toMediaSource(url.href, mediaType, field, kind);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw invalid(field, `is a ${url.protocol} URL; give bytes, base64, a data: URL or an https: URL`);
    }
    return { kind: 'url', url: url.href, mediaType: mediaType ?? mediaTypeFromUrl(url.href) };
  }
  if (typeof content === 'string') {
    if (content.startsWith('data:')) {
      const parsed = fromDataUrl(content, field);
      source = { kind: 'base64', data: parsed.data, mediaType: mediaType ?? parsed.mediaType ?? '' };
    } else {
      const data = content.replace(/\s+/g, '');
      if (data.length === 0 || !BASE64.test(data)) {
        throw invalid(
          field,
          'must be bytes, a base64 string, a data: URL or an https: URL (got a string that is none)',
        );
      }
      source = { kind: 'base64', data, mediaType: mediaType ?? '' };
    }
  } else if (content instanceof Uint8Array || content instanceof ArrayBuffer) {
    const bytes = content instanceof Uint8Array ? content : new Uint8Array(content);
    if (bytes.byteLength === 0) throw invalid(field, 'is empty');
    source = {
      kind: 'base64',
      data: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
      mediaType: mediaType ?? sniffMediaType(bytes) ?? '',
    };
  } else {
    throw invalid(
      field,
      `must be a Uint8Array, a base64 string, a data: URL or an https: URL (got ${content === null ? 'null' : typeof content})`,
    );
  }
  if (!source.mediaType) {
    const sniffed = sniffBase64(source.data);
    if (sniffed) source.mediaType = sniffed;
    else if (kind === 'image') {
      throw invalid(field, 'is an image whose type is not recognised; pass `mediaType` (e.g. image/png)');
    } else throw invalid(field, 'needs a `mediaType` (e.g. application/pdf)');
  }
  return source;
}

function parseUrl(text: string, field: string): URL {
  try {
    return new URL(text);
  } catch {
    throw invalid(field, `is not a valid URL: ${JSON.stringify(text.slice(0, 80))}`);
  }
}

/** The media type a URL's path suggests (for providers that need one before fetching). */
export function mediaTypeFromUrl(url: string): string | undefined {
  const path = url.split(/[?#]/, 1)[0]!.toLowerCase();
  if (path.endsWith('.png')) return 'image/png';
  if (path.endsWith('.jpg') || path.endsWith('.jpeg')) return 'image/jpeg';
  if (path.endsWith('.gif')) return 'image/gif';
  if (path.endsWith('.webp')) return 'image/webp';
  if (path.endsWith('.pdf')) return 'application/pdf';
  return undefined;
}
