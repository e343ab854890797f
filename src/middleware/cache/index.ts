/**
 * The response cache as a layer. Completions are cached whole; streams are recorded as they pass and
 * replayed as streams with the same events; embeddings are cached per text, so a batch with some known
 * texts sends only the others. Identical concurrent completions share one upstream call. A result served
 * from the cache (or from another caller's identical call) has `cached: true`.
 *
 * A cache failure (Redis down, disk full, an entry that does not parse) never fails the call: the layer
 * logs nothing and goes upstream.
 */
import { abortError } from '../../http/abort.ts';
import { isLLMError } from '../../spec/errors.ts';
import type { CompletionResult, StreamEvent } from '../../spec/types.ts';
import type { CallInfo, EmbedResult, Middleware } from '../types.ts';
import { completionKey, embeddingKey, namespaceOf } from './keys.ts';
import { acquireStore, type CacheSettings, type SharedStore } from './open-store.ts';

export type { CacheSettings } from './open-store.ts';

export interface CacheObserver {
  onHit?(operation: 'complete' | 'stream' | 'embed', provider: string, model: string): void;
  onMiss?(operation: 'complete' | 'stream' | 'embed', provider: string, model: string): void;
}

async function safeGet(shared: SharedStore, key: string): Promise<string | undefined> {
  try {
    return await (await shared.store()).get(key);
  } catch {
    return undefined;
  }
}

async function safeSet(
  shared: SharedStore,
  key: string,
  value: string,
  ttlMs: number | undefined,
): Promise<void> {
  try {
    await (await shared.store()).set(key, value, ttlMs);
  } catch {
    // The answer is still good; only its reuse is lost.
  }
}

/** An entry as stored, or undefined when it does not parse as what it should be (a miss, not a failure). */
function parseEntry<T>(text: string | undefined, valid: (value: unknown) => boolean): T | undefined {
  if (text === undefined) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return valid(value) ? (value as T) : undefined;
  } catch {
    return undefined;
  }
}

const isCompletion = (value: unknown) =>
  typeof value === 'object' && value !== null && typeof (value as CompletionResult).text === 'string';
const isRecordedStream = (value: unknown) =>
  Array.isArray(value) && (value.at(-1) as StreamEvent | undefined)?.type === 'finish';
const isVector = (value: unknown) => Array.isArray(value) && value.every((x) => typeof x === 'number');

/** `promise`, or this caller's own abort as soon as its signal fires. */
function untilAborted<T>(promise: Promise<T>, call: CallInfo): Promise<T> {
  const signal = call.signal;
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortError(signal, call));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortError(signal, call));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

export function cacheMiddleware(settings: CacheSettings, observer: CacheObserver = {}): Middleware {
  const { shared, release } = acquireStore(settings);

  return {
    name: 'cache',
    async complete(request, call, next) {
      const control = request.cache ?? {};
      const key = completionKey(namespaceOf(call, settings.namespace), call, request, 'complete');
      if (control.read !== false) {
        const hit = parseEntry<CompletionResult>(await safeGet(shared, key), isCompletion);
        if (hit !== undefined) {
          observer.onHit?.('complete', call.provider, request.model);
          return { ...hit, cached: true };
        }
        const pending = shared.inFlight.get(key) as Promise<CompletionResult> | undefined;
        if (pending) {
          try {
            const result = await untilAborted(pending, call);
            observer.onHit?.('complete', call.provider, request.model);
            return { ...result, cached: true };
          } catch (error) {
            // The call we joined was cancelled by its own caller, not by us: make our own.
            const othersAbort = isLLMError(error) && error.code === 'aborted' && !call.signal?.aborted;
            if (!othersAbort) {
              observer.onMiss?.('complete', call.provider, request.model);
              throw error;
            }
          }
        }
      }
      observer.onMiss?.('complete', call.provider, request.model);
      const upstream = next(request, call);
      shared.inFlight.set(key, upstream);
      try {
        const result = await upstream;
        if (control.write !== false)
          await safeSet(shared, key, JSON.stringify(result), control.ttlMs ?? settings.ttlMs);
        return result;
      } finally {
        if (shared.inFlight.get(key) === upstream) shared.inFlight.delete(key);
      }
    },

    async *stream(request, call, next) {
      const control = request.cache ?? {};
      const key = completionKey(namespaceOf(call, settings.namespace), call, request, 'stream');
      if (control.read !== false) {
        const hit = parseEntry<StreamEvent[]>(await safeGet(shared, key), isRecordedStream);
        if (hit !== undefined) {
          observer.onHit?.('stream', call.provider, request.model);
          for (const event of hit) yield event.type === 'finish' ? { ...event, cached: true } : event;
          return;
        }
      }
      observer.onMiss?.('stream', call.provider, request.model);
      const recorded: StreamEvent[] = [];
      for await (const event of next(request, call)) {
        recorded.push(event);
        yield event;
      }
      // Only a stream that ran to its finish is kept; one the caller left early is not.
      if (control.write !== false && recorded.at(-1)?.type === 'finish') {
        await safeSet(shared, key, JSON.stringify(recorded), control.ttlMs ?? settings.ttlMs);
      }
    },

    async embed(batch, call, next) {
      const control = batch.options.cache ?? {};
      const namespace = namespaceOf(call, settings.namespace);
      const keys = batch.texts.map((text) =>
        embeddingKey(namespace, call.provider, batch.model, batch.options, text),
      );
      const vectors = new Array<number[] | undefined>(batch.texts.length);
      if (control.read !== false) {
        const hits = await Promise.all(keys.map((key) => safeGet(shared, key)));
        hits.forEach((hit, i) => {
          vectors[i] = parseEntry<number[]>(hit, isVector);
        });
      }
      const missing: number[] = [];
      for (let i = 0; i < vectors.length; i++) if (vectors[i] === undefined) missing.push(i);
      if (missing.length < batch.texts.length) observer.onHit?.('embed', call.provider, batch.model);
      // Every vector from the cache: nothing was billed.
      if (missing.length === 0) {
        return {
          vectors: vectors as number[][],
          usage: { inputTokens: 0, outputTokens: 0, totalTokens: 0, costUsd: 0 },
        };
      }
      observer.onMiss?.('embed', call.provider, batch.model);
      const result = await next({ ...batch, texts: missing.map((i) => batch.texts[i]!) }, call);
      const ttl = control.ttlMs ?? settings.ttlMs;
      await Promise.all(
        missing.map((index, j) => {
          vectors[index] = result.vectors[j]!;
          return control.write === false
            ? undefined
            : safeSet(shared, keys[index]!, JSON.stringify(result.vectors[j]), ttl);
        }),
      );
      const out: EmbedResult = { vectors: vectors as number[][] };
      if (result.usage) out.usage = result.usage;
      if (result.requestId) out.requestId = result.requestId;
      return out;
    },

    close: release,
  };
}
