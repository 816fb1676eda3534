/**
 * Concurrent askers of the same question share one answer: while a promise
 * for `key` is pending, `share(key, start)` returns it instead of starting
 * another. The entry goes when the promise settles, so nothing is kept.
 *
 * @example
 * const inFlight = new InFlight<Answer>();
 * const [a, b] = await Promise.all([inFlight.share('v1\0k', ask), inFlight.share('v1\0k', ask)]); // one ask()
 */
export class InFlight<V> {
  readonly #pending = new Map<string, Promise<V>>();

  get size(): number {
    return this.#pending.size;
  }

  /** The pending promise for `key`, if any. */
  get(key: string): Promise<V> | undefined {
    return this.#pending.get(key);
  }

  /** The pending promise for `key`, or a new one from `start` (which must never reject). */
  share(key: string, start: () => Promise<V>): Promise<V> {
    const pending = this.#pending.get(key);
    if (pending !== undefined) return pending;
    const promise = start();
    this.#pending.set(key, promise);
    const forget = (): void => void this.#pending.delete(key);
    promise.then(forget, forget); // not .finally(): that would be a second promise to reject unhandled
    return promise;
  }
}
