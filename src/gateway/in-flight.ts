/**
 * What a server holds in flight (its responses, its connections), as a linked list whose links are cut when
 * an entry leaves — not a `Set`.
 *
 * Why: a long-lived `Set` that gains and loses an entry with every request is rehashed by V8 every few dozen
 * additions, and the table it leaves behind still points at the entries it held then. Until the next full
 * GC, which may be seconds away, a young-generation GC counts that dead table's pointers as live, so each
 * response in flight at a rehash — with its request, its upstream answer and its closures — survived two of
 * them and was promoted to the old generation, to be collected there at full cost. With the gateway's
 * responses in a `Set`, 64 connections at 15,000 requests/s promoted 517 MB in 6.7 s; without it 289 MB,
 * and CPU a request went 71 → 61 µs (bench/RESULTS.md). Here an entry that leaves points at nothing.
 */
interface Link<T extends object> {
  value: T | undefined;
  previous: Link<T> | undefined;
  next: Link<T> | undefined;
}

export class InFlight<T extends object> implements Iterable<T> {
  #first: Link<T> | undefined;
  #size = 0;

  get size(): number {
    return this.#size;
  }

  /** Adds `value`; the function returned takes it out again (once; later calls do nothing). */
  add(value: T): () => void {
    const link: Link<T> = { value, previous: undefined, next: this.#first };
    if (this.#first) this.#first.previous = link;
    this.#first = link;
    this.#size++;
    return () => this.#remove(link);
  }

  #remove(link: Link<T>): void {
    if (link.value === undefined) return;
    if (link.previous) link.previous.next = link.next;
    else this.#first = link.next;
    if (link.next) link.next.previous = link.previous;
    link.value = undefined;
    link.previous = undefined;
    link.next = undefined;
    this.#size--;
  }

  /** The entries at the moment of the call, newest first (taking entries out meanwhile changes nothing). */
  [Symbol.iterator](): Iterator<T> {
    const values: T[] = [];
    for (let link = this.#first; link; link = link.next) values.push(link.value!);
    return values[Symbol.iterator]();
  }
}
