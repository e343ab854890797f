/**
 * Client options: every public option with its default, and strict validation that names the field that
 * is wrong (a typo such as `timeout` for `timeoutMs` is caught, not ignored).
 */
import type { Dispatcher } from 'undici';
import type { PoolOptions } from '../http/transport.ts';
import type { CacheSettings } from '../middleware/cache/index.ts';
import type { Logger } from '../middleware/logging.ts';
import type { RateLimitOptions } from '../middleware/rate-limit.ts';
import type { TracingOptions } from '../middleware/tracing.ts';
import type { Middleware } from '../middleware/types.ts';
import type { SpendTracker } from '../pricing/spend-tracker.ts';
import type { AwsCredentials } from '../providers/provider.ts';
import { LLMConfigurationError } from '../spec/errors.ts';
import { requireNodeFeature } from '../spec/node-support.ts';
import type { MediaDownloadOptions } from './media-download.ts';

export interface RetrySettings {
  /** Delay before the first retry when the server gives no hint, before jitter. Default 500. */
  initialDelayMs?: number;
  /** Ceiling for the exponential backoff. Default 8 000. */
  maxDelayMs?: number;
  /** Longest `retry-after` we wait for; a longer hint fails at once with `retryAfterMs` set. Default 60 000. */
  maxRetryAfterMs?: number;
  /**
   * Retry a generation that timed out once the server had the request: a non-streaming completion with no
   * response within `timeoutMs`, or a response (streamed or not) silent for `streamIdleTimeoutMs` before
   * any output. Default false: the provider is probably still generating and bills a retry as a second
   * answer.
   */
  generationTimeouts?: boolean;
}

export interface ClientOptions {
  /** The model (for Azure: the deployment). Default: the provider's default model. */
  model?: string;
  /** The API key. Default: the provider's environment variable (e.g. `OPENAI_API_KEY`). */
  apiKey?: string;
  /** The API root as the provider's official SDK means it (OpenAI: the `/v1` URL). */
  baseURL?: string;
  /** Retries after the first attempt. Default 2 (3 attempts in all). */
  maxRetries?: number;
  /**
   * Time allowed for one attempt, once its request is sent, until the response starts (its headers), in
   * ms. Default: 600 000 for a non-streaming completion (its headers come once the whole answer is
   * generated; more for a `maxTokens` above 21 333, up to 3 600 000), 60 000 for streams, embeddings and
   * token counts.
   */
  timeoutMs?: number;
  /** Longest silence between two chunks of a response body, in ms. Default 30 000. */
  streamIdleTimeoutMs?: number;
  /** Time allowed for a whole call, all attempts and waits included, in ms. Default: none. */
  deadlineMs?: number;
  /**
   * Largest single stream event accepted (an SSE event, an NDJSON line, an eventstream message), in
   * bytes. A larger one ends the stream with an `LLMInvalidResponseError` (not retried) as soon as the
   * limit is passed, and the connection is closed. Default 16 MiB (16 777 216), AWS eventstream's own limit.
   */
  maxEventBytes?: number;
  /**
   * Largest non-streamed response body accepted, in bytes. A larger one (or a larger `content-length`)
   * is an `LLMInvalidResponseError` (not retried), and the connection is closed. Default 256 MiB
   * (268 435 456): room for embedding batches sent as JSON floats.
   */
  maxResponseBytes?: number;
  /** Model used by `generateEmbeddings`. Default: the provider's (OpenAI: `text-embedding-3-small`). */
  embeddingModel?: string;
  /** Headers added to every request. */
  headers?: Record<string, string>;
  /** Backoff tuning. */
  retry?: RetrySettings;
  /** Connection pool limits for this origin (pools are shared per origin and settings). */
  pool?: PoolOptions;
  /** A custom undici dispatcher (a proxy agent, say) instead of the shared pool. */
  dispatcher?: Dispatcher;
  /** OpenAI: `OpenAI-Organization` header. Default `OPENAI_ORG_ID`. */
  organization?: string;
  /** OpenAI: `OpenAI-Project` header. Default `OPENAI_PROJECT_ID`. */
  project?: string;
  /** Azure: the resource URL. Default `AZURE_OPENAI_ENDPOINT`. */
  endpoint?: string;
  /** Azure: the `api-version`. Default `OPENAI_API_VERSION`, then 2024-10-21. */
  apiVersion?: string;
  /** Azure: an Entra ID access token, used instead of the key. Default `AZURE_OPENAI_AD_TOKEN`. */
  azureADToken?: string;
  /** Your own layers, outermost first; they wrap every built-in layer. */
  middleware?: Middleware[];
  /** Sums the cost and tokens of this client's calls into the tracker. */
  spend?: SpendTracker;
  /**
   * Client-side rate limits for this provider and model, shared by the process's clients: budgets that
   * queue instead of failing, paused by the provider's rate-limit headers, with adaptive concurrency.
   * Default: off.
   */
  rateLimit?: RateLimitOptions;
  /**
   * A response cache: `{ store: 'memory' }`, `{ store: 'sqlite', path }`, `{ store: 'redis', url }` or a
   * store of your own, with `ttlMs` and `namespace`. Default: off.
   */
  cache?: CacheSettings;
  /** Record Prometheus metrics (see `metricsText()`) and OpenTelemetry GenAI metrics. Default false. */
  metrics?: boolean;
  /** Emit an OpenTelemetry span per call; `{ captureContent: true }` also records prompts and answers. Default false. */
  tracing?: boolean | TracingOptions;
  /** A pino-compatible logger for one line per call and a warning per retry. Default: silent. */
  logger?: Logger;
  /** Bedrock: the AWS region. Default `AWS_REGION`, then `AWS_DEFAULT_REGION`. */
  region?: string;
  /** Bedrock: AWS credentials. Default `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`. */
  credentials?: AwsCredentials;
  /**
   * Images and files given by URL to a provider that cannot fetch them are downloaded and sent inline:
   * `{ maxBytes, timeoutMs }` (defaults 20 MiB, 30 000 ms), or `false` to refuse such requests.
   */
  mediaDownload?: MediaDownloadOptions | false;
}

type Kind =
  | 'string'
  | 'url'
  | 'count'
  | 'duration'
  | 'bytes'
  | 'headers'
  | 'object'
  | 'dispatcher'
  | 'credentials'
  | 'middleware'
  | 'boolean'
  | 'cacheStore'
  | 'tracing'
  | 'logger'
  | 'objectOrFalse';

const SCHEMA: Record<keyof ClientOptions, Kind> = {
  model: 'string',
  apiKey: 'string',
  baseURL: 'url',
  maxRetries: 'count',
  timeoutMs: 'duration',
  streamIdleTimeoutMs: 'duration',
  deadlineMs: 'duration',
  maxEventBytes: 'bytes',
  maxResponseBytes: 'bytes',
  embeddingModel: 'string',
  headers: 'headers',
  retry: 'object',
  pool: 'object',
  dispatcher: 'dispatcher',
  organization: 'string',
  project: 'string',
  endpoint: 'url',
  apiVersion: 'string',
  azureADToken: 'string',
  region: 'string',
  credentials: 'credentials',
  middleware: 'middleware',
  spend: 'object',
  rateLimit: 'object',
  cache: 'object',
  metrics: 'boolean',
  tracing: 'tracing',
  logger: 'logger',
  mediaDownload: 'objectOrFalse',
};

type NestedOption = 'retry' | 'pool' | 'rateLimit' | 'cache' | 'mediaDownload';

const NESTED: Record<NestedOption, Record<string, Kind>> = {
  mediaDownload: { maxBytes: 'count', timeoutMs: 'duration' },
  cache: {
    store: 'cacheStore',
    path: 'string',
    url: 'string',
    ttlMs: 'duration',
    namespace: 'string',
    maxEntries: 'count',
    maxBytes: 'count',
  },
  rateLimit: {
    requestsPerMinute: 'duration',
    tokensPerMinute: 'duration',
    maxConcurrency: 'count',
    adaptive: 'boolean',
  },
  retry: {
    initialDelayMs: 'duration',
    maxDelayMs: 'duration',
    maxRetryAfterMs: 'duration',
    generationTimeouts: 'boolean',
  },
  pool: { connections: 'count', keepAliveTimeoutMs: 'duration' },
};

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
  if (typeof value === 'object')
    return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
  return String(value);
}

function check(path: string, kind: Kind, value: unknown): void {
  const fail = (expected: string) => {
    // Never echo a credential back, even a malformed one.
    const shown = /key|token/i.test(path) ? `a ${typeof value}` : describe(value);
    throw new LLMConfigurationError(`Invalid option \`${path}\`: expected ${expected}, got ${shown}`);
  };
  switch (kind) {
    case 'string':
      if (typeof value !== 'string' || value.length === 0) fail('a non-empty string');
      return;
    case 'url':
      if (typeof value !== 'string' || !URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol)) {
        fail('an http(s) URL');
      }
      return;
    case 'count':
      if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail('a non-negative integer');
      return;
    case 'duration':
      if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0)
        fail('a positive number of milliseconds');
      return;
    case 'bytes':
      if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0)
        fail('a positive whole number of bytes');
      return;
    case 'headers':
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        fail('an object of header strings');
      for (const [name, header] of Object.entries(value as object)) {
        if (typeof header !== 'string') fail(`a string for header "${name}"`);
      }
      return;
    case 'object':
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('an object');
      return;
    case 'objectOrFalse':
      if (value !== false && (typeof value !== 'object' || value === null || Array.isArray(value))) {
        fail('an object or false');
      }
      return;
    case 'credentials': {
      const creds = value as Partial<AwsCredentials> | null;
      if (typeof creds !== 'object' || creds === null)
        fail('{ accessKeyId, secretAccessKey, sessionToken? }');
      for (const field of ['accessKeyId', 'secretAccessKey'] as const) {
        if (typeof creds?.[field] !== 'string' || creds[field] === '') {
          throw new LLMConfigurationError(
            `Invalid option \`credentials.${field}\`: expected a non-empty string`,
          );
        }
      }
      if (creds?.sessionToken !== undefined && typeof creds.sessionToken !== 'string') {
        throw new LLMConfigurationError('Invalid option `credentials.sessionToken`: expected a string');
      }
      return;
    }
    case 'cacheStore':
      // Checked here, at creation: a store that fails to open later is only retried, never reported.
      if (value === 'sqlite') requireNodeFeature('sqlite');
      if (value === 'memory' || value === 'sqlite' || value === 'redis') return;
      if (
        typeof (value as { get?: unknown })?.get === 'function' &&
        typeof (value as { set?: unknown })?.set === 'function'
      )
        return;
      fail("'memory', 'sqlite', 'redis' or a store with get/set/delete/close");
      return;
    case 'tracing':
      if (
        typeof value === 'boolean' ||
        (typeof value === 'object' && value !== null && !Array.isArray(value))
      )
        return;
      fail('true, false or { captureContent }');
      return;
    case 'logger':
      for (const level of ['debug', 'info', 'warn', 'error'] as const) {
        if (typeof (value as Record<string, unknown>)?.[level] !== 'function')
          fail(`a pino-compatible logger (missing ${level}())`);
      }
      return;
    case 'boolean':
      if (typeof value !== 'boolean') fail('true or false');
      return;
    case 'middleware':
      if (!Array.isArray(value) || value.some((layer) => typeof layer?.name !== 'string')) {
        fail('an array of middleware layers (objects with a `name`)');
      }
      return;
    case 'dispatcher':
      if (typeof (value as { request?: unknown })?.request !== 'function') fail('an undici Dispatcher');
      return;
  }
}

/** Throws `LLMConfigurationError` naming the first unknown or ill-typed option. */
export function validateClientOptions(options: unknown): asserts options is ClientOptions {
  if (options === undefined) return;
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new LLMConfigurationError(`Client options must be an object, got ${describe(options)}`);
  }
  for (const [name, value] of Object.entries(options)) {
    if (value === undefined) continue;
    const kind = SCHEMA[name as keyof ClientOptions];
    if (!kind) {
      const known = Object.keys(SCHEMA);
      const hint = known.find((k) => k.toLowerCase().startsWith(name.toLowerCase().slice(0, 5)));
      throw new LLMConfigurationError(
        `Unknown option \`${name}\`${hint ? ` (did you mean \`${hint}\`?)` : ''}; known options: ${known.join(', ')}`,
      );
    }
    check(name, kind, value);
    if (name in NESTED && typeof value === 'object') {
      const nested = NESTED[name as NestedOption];
      for (const [inner, innerValue] of Object.entries(value as object)) {
        const innerKind = nested[inner];
        if (!innerKind) {
          throw new LLMConfigurationError(
            `Unknown option \`${name}.${inner}\`; known: ${Object.keys(nested).join(', ')}`,
          );
        }
        if (innerValue !== undefined) check(`${name}.${inner}`, innerKind, innerValue);
      }
    }
  }
}
