/**
 * What was made for the last few option objects, found again by value (same
 * keys, same values): `tracker(request, { client })` and
 * `oursTracker({ client })` are called per request with a new object literal,
 * and checking the options each time would cost every request.
 */
export class RecentByOptions<T> {
  readonly #entries: { options: object; made: T }[] = [];

  constructor(readonly limit: number) {}

  /** The value made for options equal to `options`, or `make(options)`, kept (the oldest set leaves). */
  get<O extends object>(options: O, make: (options: O) => T): T {
    const found = this.#entries.find((e) => sameOptions(e.options, options));
    if (found) return found.made;
    const made = make(options);
    if (this.#entries.unshift({ options: { ...options }, made }) > this.limit) this.#entries.pop();
    return made;
  }
}

function sameOptions(a: object, b: object): boolean {
  const keys = Object.keys(a);
  if (keys.length !== Object.keys(b).length) return false;
  return keys.every((k) =>
    Object.is((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
  );
}
