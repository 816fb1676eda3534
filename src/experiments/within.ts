/**
 * `promise`'s value if it settles within `ms`, else `undefined` at `ms`. The
 * timer is unref'd (it never keeps a process alive) and cleared as soon as
 * the promise wins. `promise` must not reject.
 *
 * @example
 * const answer = await within(askTheApi(), 150); // undefined: too slow, take the control path
 */
export function within<V>(promise: Promise<V>, ms: number): Promise<V | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms, undefined);
    timer.unref();
    void promise.then((value) => {
      clearTimeout(timer);
      resolve(value);
    });
  });
}
