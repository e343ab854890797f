/**
 * The response cache as a layer. Completions are cached whole; streams are recorded as they pass and
 * replayed as streams with the same events; embeddings are cached per text, so a batch with some known
 * texts sends only the others. Identical concurrent completions share one upstream call. A result served
 * from the cache (or from another caller's identical call) has `cached: true`.
 *
 * A cache failure (Redis down, disk full) never fails the call: the layer logs nothing and goes upstream.
 */
import type { CompletionResult, StreamEvent } from '../../spec/types.ts';
import type { Middleware } from '../types.ts';
import { completionKey, embeddingKey, namespaceOf } from './keys.ts';
import { acquireStore, type CacheSettings } from './open-store.ts';
import type { CacheStore } from './store.ts';

export type { CacheSettings } from './open-store.ts';

export interface CacheObserver {
  onHit?(operation: 'complete' | 'stream' | 'embed', provider: string, model: string): void;
  onMiss?(operation: 'complete' | 'stream' | 'embed', provider: string, model: string): void;
}

async function safeGet(store: Promise<CacheStore>, key: string): Promise<string | undefined> {
  try {
    return await (await store).get(key);
  } catch {
    return undefined;
  }
}

async function safeSet(
  store: Promise<CacheStore>,
  key: string,
  value: string,
  ttlMs: number | undefined,
): Promise<void> {
  try {
    await (await store).set(key, value, ttlMs);
  } catch {
    // The answer is still good; only its reuse is lost.
  }
}

export function cacheMiddleware(settings: CacheSettings, observer: CacheObserver = {}): Middleware {
  const { shared, release } = acquireStore(settings);
  const store = shared.store;

  return {
    name: 'cache',
    async complete(request, call, next) {
      const control = request.cache ?? {};
      const key = completionKey(namespaceOf(call, settings.namespace), call, request, 'complete');
      if (control.read !== false) {
        const hit = await safeGet(store, key);
        if (hit !== undefined) {
          observer.onHit?.('complete', call.provider, request.model);
          return { ...(JSON.parse(hit) as CompletionResult), cached: true };
        }
        const pending = shared.inFlight.get(key) as Promise<CompletionResult> | undefined;
        if (pending) {
          observer.onHit?.('complete', call.provider, request.model);
          return { ...(await pending), cached: true };
        }
      }
      observer.onMiss?.('complete', call.provider, request.model);
      const upstream = next(request, call);
      shared.inFlight.set(key, upstream);
      try {
        const result = await upstream;
        if (control.write !== false)
          await safeSet(store, key, JSON.stringify(result), control.ttlMs ?? settings.ttlMs);
        return result;
      } finally {
        if (shared.inFlight.get(key) === upstream) shared.inFlight.delete(key);
      }
    },

    async *stream(request, call, next) {
      const control = request.cache ?? {};
      const key = completionKey(namespaceOf(call, settings.namespace), call, request, 'stream');
      if (control.read !== false) {
        const hit = await safeGet(store, key);
        if (hit !== undefined) {
          observer.onHit?.('stream', call.provider, request.model);
          for (const event of JSON.parse(hit) as StreamEvent[]) {
            yield event.type === 'finish' ? { ...event, cached: true } : event;
          }
          return;
        }
      }
      observer.onMiss?.('stream', call.provider, request.model);
      const recorded: StreamEvent[] = [];
      for await (const event of next(request, call)) {
        recorded.push(event);
        yield event;
      }
      if (control.write !== false && recorded.at(-1)?.type === 'finish') {
        await safeSet(store, key, JSON.stringify(recorded), control.ttlMs ?? settings.ttlMs);
      }
    },

    async embed(batch, call, next) {
      const control = batch.options.cache ?? {};
      const namespace = namespaceOf(call, settings.namespace);
      const keys = batch.texts.map((text) =>
        embeddingKey(namespace, call.provider, batch.model, batch.options.dimensions, text),
      );
      const vectors = new Array<number[] | undefined>(batch.texts.length);
      if (control.read !== false) {
        const hits = await Promise.all(keys.map((key) => safeGet(store, key)));
        hits.forEach((hit, i) => {
          if (hit !== undefined) vectors[i] = JSON.parse(hit) as number[];
        });
      }
      const missing: number[] = [];
      for (let i = 0; i < vectors.length; i++) if (vectors[i] === undefined) missing.push(i);
      if (missing.length < batch.texts.length) observer.onHit?.('embed', call.provider, batch.model);
      if (missing.length === 0) return { vectors: vectors as number[][] };
      observer.onMiss?.('embed', call.provider, batch.model);
      const result = await next({ ...batch, texts: missing.map((i) => batch.texts[i]!) }, call);
      const ttl = control.ttlMs ?? settings.ttlMs;
      await Promise.all(
        missing.map((index, j) => {
          vectors[index] = result.vectors[j]!;
          return control.write === false
            ? undefined
            : safeSet(store, keys[index]!, JSON.stringify(result.vectors[j]), ttl);
        }),
      );
      const out: { vectors: number[][]; usage?: typeof result.usage } = { vectors: vectors as number[][] };
      if (result.usage) out.usage = result.usage;
      return out;
    },

    close: release,
  };
}
