/**
 * Writes that could not reach the store (a settlement during a Redis outage), kept in memory in order and
 * written once the store answers again: a call that ran is charged even when the outage hid it. At most
 * `max` wait; beyond that the oldest is dropped and counted.
 */
export class PendingWrites {
  readonly #writes: Array<() => Promise<void>> = [];
  readonly #max: number;
  /** True for an error the server answered with: that write will never succeed, so it is dropped. */
  readonly #isRefusedByServer: (error: unknown) => boolean;
  #flushing: Promise<void> | undefined;
  #dropped = 0;

  constructor(max: number, isRefusedByServer: (error: unknown) => boolean) {
    this.#max = max;
    this.#isRefusedByServer = isRefusedByServer;
  }

  get size(): number {
    return this.#writes.length;
  }

  /** Writes lost: too many waited, or the server refused one. */
  get dropped(): number {
    return this.#dropped;
  }

  add(write: () => Promise<void>): void {
    this.#writes.push(write);
    if (this.#writes.length > this.#max) {
      this.#writes.shift();
      this.#dropped++;
    }
  }

  /** Writes what waits, oldest first; stops at the first that still cannot reach the store. */
  flush(): Promise<void> {
    if (this.#flushing) return this.#flushing;
    this.#flushing = (async () => {
      try {
        while (this.#writes.length > 0) {
          try {
            await this.#writes[0]!();
          } catch (error) {
            if (!this.#isRefusedByServer(error)) return;
            this.#dropped++;
          }
          this.#writes.shift();
        }
      } finally {
        this.#flushing = undefined;
      }
    })();
    return this.#flushing;
  }

  /** After a command that reached the store: write what waits, in the background. */
  flushSoon(): void {
    if (this.#writes.length > 0 && !this.#flushing) void this.flush();
  }
}
