/**
 * A prom-client counter for the hot path. prom-client's `inc(labels, value)` builds a key string from the
 * labels on every call to find the series (0.2–0.3 µs and some 350 bytes of garbage each: a request through
 * the gateway counted nine times, 9 % of everything it allocated). `add(by, ...values)` finds the series'
 * cell through a map per label instead, with nothing built, and adds to it; the cells are added into the
 * counter when it is read (a scrape, `get()`), and dropped by `reset()`. What it reports is the same.
 */
import type * as PromClient from 'prom-client';

interface Cell {
  labels: Record<string, string>;
  pending: number;
  /** Not yet added into the counter: added even at 0, so that the series shows, as `inc(labels, 0)` makes it. */
  fresh: boolean;
}

export interface HotCounter<T extends string> extends PromClient.Counter<T> {
  /** Adds `by` to the series of these label values, given in the order of `labelNames` (at most four). */
  add(by: number, a: string, b?: string, c?: string, d?: string): void;
}

export type HotCounterClass = new <T extends string>(
  configuration: PromClient.CounterConfiguration<T>,
) => HotCounter<T>;

function pick(index: number, a: string, b?: string, c?: string, d?: string): string {
  return (index === 0 ? a : index === 1 ? b : index === 2 ? c : d) ?? '';
}

/** The class, over the prom-client the caller loaded (it is loaded on first use). */
export function hotCounterClass(prom: typeof PromClient): HotCounterClass {
  class Hot<T extends string> extends prom.Counter<T> {
    readonly #names: readonly string[];
    readonly #root = new Map<string, unknown>();
    readonly #cells: Cell[] = [];

    constructor(configuration: PromClient.CounterConfiguration<T>) {
      super(configuration);
      this.#names = configuration.labelNames ?? [];
      if (this.#names.length > 4) throw new Error('A hot counter takes at most four labels');
    }

    add(by: number, a: string, b?: string, c?: string, d?: string): void {
      // prom-client's own checks, made here: a cell must never hold what a scrape would throw on.
      if (!Number.isFinite(by)) throw new TypeError(`Value is not a valid number: ${by}`);
      if (by < 0) throw new Error('It is not possible to decrease a counter');
      const count = this.#names.length;
      let level = this.#root;
      for (let i = 0; i < count - 1; i++) {
        const value = pick(i, a, b, c, d);
        let next = level.get(value) as Map<string, unknown> | undefined;
        if (!next) {
          next = new Map();
          level.set(value, next);
        }
        level = next;
      }
      const leaf = count === 0 ? '' : pick(count - 1, a, b, c, d);
      let cell = level.get(leaf) as Cell | undefined;
      if (!cell) {
        const labels: Record<string, string> = {};
        this.#names.forEach((name, index) => {
          labels[name] = pick(index, a, b, c, d);
        });
        cell = { labels, pending: 0, fresh: true };
        level.set(leaf, cell);
        this.#cells.push(cell);
      }
      cell.pending += by;
    }

    override async get(): Promise<PromClient.MetricObjectWithValues<PromClient.MetricValue<T>>> {
      for (const cell of this.#cells) {
        if (cell.pending === 0 && !cell.fresh) continue;
        this.inc(cell.labels as PromClient.LabelValues<T>, cell.pending);
        cell.pending = 0;
        cell.fresh = false;
      }
      return super.get();
    }

    override reset(): void {
      // A reset counter has no series: the cells start again, as new ones. (prom-client's constructor resets
      // too, before this class's fields exist.)
      if (#root in this) {
        this.#root.clear();
        this.#cells.length = 0;
      }
      super.reset();
    }
  }
  return Hot as unknown as HotCounterClass;
}
