/**
 * `promise`'s value if it settles within `ms`, else `undefined` at `ms`. The
 * timer is unref'd (it never keeps a process alive) and cleared as soon as
 * the promise wins. A rejection counts as no answer.
 *
 * @example
 * const answer = await within(askTheApi(), 150); // undefined: too slow, take the control path
 */
export function within<V>(promise: Promise<V>, ms: number): Promise<V | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms, undefined);
    timer.unref?.(); // workerd's timers are numbers
    const settle = (value: V | undefined): void => {
      clearTimeout(timer);
      resolve(value);
    };
    promise.then(settle, () => settle(undefined)); // a rejection is a miss, never an unhandled rejection
  });
}
