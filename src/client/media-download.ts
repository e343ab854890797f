/**
 * Images and files given by URL to a provider that cannot fetch them itself (Gemini, Bedrock, Ollama; PDFs
 * on OpenAI) are downloaded here and sent inline — with a size limit and a timeout, so that a large or slow
 * URL fails clearly instead of hanging the call or filling memory.
 */
import { Agent, type Dispatcher, interceptors, request } from 'undici';
import type { MediaSource, NormalizedMessage, NormalizedUserPart } from '../providers/normalized.ts';
import type { ModelCapabilities, NormalizedRequest } from '../providers/provider.ts';
import { isLLMError, LLMBadRequestError, LLMUnsupportedError } from '../spec/errors.ts';
import { sniffMediaType } from './media.ts';

export interface MediaDownloadOptions {
  /** Largest image or file downloaded, in bytes. Default 20 MiB. */
  maxBytes?: number;
  /** Time allowed for one download, in ms. Default 30 000. */
  timeoutMs?: number;
}

export const DEFAULT_MEDIA_DOWNLOAD: Required<MediaDownloadOptions> = {
  maxBytes: 20 * 1024 * 1024,
  timeoutMs: 30_000,
};

let downloader: Dispatcher | undefined;
/** One agent for downloads, following up to five redirects. */
function dispatcher(): Dispatcher {
  downloader ??= new Agent().compose(interceptors.redirect({ maxRedirections: 5 }));
  return downloader;
}

type UrlPart = Extract<NormalizedUserPart, { type: 'image' | 'file' }> & {
  source: Extract<MediaSource, { kind: 'url' }>;
};

/** The URL parts of a request that `capabilities` says the provider will not fetch. */
function partsToDownload(messages: readonly NormalizedMessage[], capabilities: ModelCapabilities): UrlPart[] {
  const found: UrlPart[] = [];
  for (const message of messages) {
    if (message.role !== 'user' && message.role !== 'tool') continue;
    for (const part of message.content) {
      if (part.type === 'text' || part.source.kind !== 'url') continue;
      const fetchedByProvider = part.type === 'image' ? capabilities.imageUrls : capabilities.fileUrls;
      if (!fetchedByProvider) found.push(part as UrlPart);
    }
  }
  return found;
}

/** True when the request has media given by URL (a scan with no allocation, for the hot path). */
export function hasUrlMedia(request: NormalizedRequest): boolean {
  for (const message of request.messages) {
    if (message.role !== 'user' && message.role !== 'tool') continue;
    for (const part of message.content) if (part.type !== 'text' && part.source.kind === 'url') return true;
  }
  return false;
}

async function download(
  url: string,
  options: Required<MediaDownloadOptions>,
  signal: AbortSignal | undefined,
): Promise<{ data: string; mediaType: string | undefined }> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
  const fail = (why: string, cause?: unknown) =>
    new LLMBadRequestError(`Could not download ${url} to send it inline: ${why}`, cause ? { cause } : {});
  let response: Awaited<ReturnType<typeof request>>;
  try {
    response = await request(url, { method: 'GET', signal: combined, dispatcher: dispatcher() });
  } catch (error) {
    if (signal?.aborted) throw error;
    throw fail(
      timeout.aborted ? `no answer within ${options.timeoutMs} ms` : (error as Error).message,
      error,
    );
  }
  if (response.statusCode >= 300) {
    response.body.destroy();
    throw fail(`HTTP ${response.statusCode}`);
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    response.body.destroy();
    throw fail(`${declared} bytes is over the ${options.maxBytes}-byte limit (mediaDownload.maxBytes)`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += (chunk as Buffer).byteLength;
      if (size > options.maxBytes) {
        response.body.destroy();
        throw fail(`more than the ${options.maxBytes}-byte limit (mediaDownload.maxBytes)`);
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (isLLMError(error) || signal?.aborted) throw error;
    throw fail(
      timeout.aborted ? `no answer within ${options.timeoutMs} ms` : (error as Error).message,
      error,
    );
  }
  const bytes = Buffer.concat(chunks, size);
  const header = response.headers['content-type'];
  const contentType = (Array.isArray(header) ? header[0] : header)?.split(';', 1)[0]?.trim().toLowerCase();
  const mediaType =
    contentType && contentType !== 'application/octet-stream' ? contentType : sniffMediaType(bytes);
  return { data: bytes.toString('base64'), mediaType };
}

/**
 * A copy of `request` whose URL media the provider cannot fetch are inline, downloaded concurrently.
 * `options: false` forbids downloads: such a request fails with `LLMUnsupportedError`.
 */
export async function inlineMedia(
  request: NormalizedRequest,
  capabilities: ModelCapabilities,
  options: MediaDownloadOptions | false,
  context: { provider: string; model: string; signal?: AbortSignal | undefined },
): Promise<NormalizedRequest> {
  const parts = partsToDownload(request.messages, capabilities);
  if (parts.length === 0) return request;
  if (options === false) {
    const part = parts[0]!;
    throw new LLMUnsupportedError(
      `${context.provider} model ${context.model} cannot fetch ${part.type} URLs (${part.source.url}) and mediaDownload is off; send the bytes instead`,
      { provider: context.provider, model: context.model },
    );
  }
  const settings = { ...DEFAULT_MEDIA_DOWNLOAD, ...options };
  const inlined = new Map<UrlPart, MediaSource>();
  await Promise.all(
    parts.map(async (part) => {
      const { data, mediaType } = await download(part.source.url, settings, context.signal);
      const type = part.source.mediaType ?? mediaType;
      if (!type) {
        throw new LLMBadRequestError(
          `Could not tell the media type of ${part.source.url}; pass \`mediaType\` with the ${part.type}`,
        );
      }
      inlined.set(part, { kind: 'base64', data, mediaType: type });
    }),
  );
  const messages = request.messages.map((message): NormalizedMessage => {
    if (message.role !== 'user' && message.role !== 'tool') return message;
    if (!message.content.some((part) => inlined.has(part as UrlPart))) return message;
    return {
      ...message,
      content: message.content.map((part) => {
        const source = inlined.get(part as UrlPart);
        return source && part.type !== 'text' ? { ...part, source } : part;
      }),
    } as NormalizedMessage;
  });
  return { ...request, messages };
}
