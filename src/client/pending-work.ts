/**
 * Work outside the client that holds events tracked before a `flush()`: the
 * middleware's hand-offs (calls held until the end of the turn, for a
 * response still streaming, or for an async hook). The client knows nothing
 * of requests; it drains what is registered (`kBeforeFlush`) first thing in
 * `flush()` and `shutdown()`, and before the process exits.
 */
export interface PendingWork {
  /** Hands over at once what waits for the end of this turn (a no-op when nothing waits). */
  drain(): void;
  /**
   * Hands over everything it holds, and returns what to wait for while the
   * rest settles (async hooks), or undefined. The promise never rejects,
   * and settles within a bound.
   */
  settle(): Promise<void> | undefined;
}

/** The pending work registered with one client, drained and settled together. */
export class PendingWorkList implements PendingWork {
  readonly #list: PendingWork[] = [];

  add(work: PendingWork): void {
    this.#list.push(work);
  }

  drain(): void {
    for (const work of this.#list) work.drain();
  }

  settle(): Promise<void> | undefined {
    if (this.#list.length <= 1) return this.#list[0]?.settle();
    const waits = this.#list.map((work) => work.settle()).filter((wait) => wait !== undefined);
    return waits.length ? Promise.all(waits).then(() => undefined) : undefined;
  }
}
