/** Waiting on what a deadline must be able to cut short. */

/**
 * The longest delay `setTimeout` takes: a longer one (or `Infinity`) fires
 * after 1 ms instead, with a `TimeoutOverflowWarning`.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * `work`'s outcome, unless `signal` aborts first: then a rejection with its
 * reason, at once (also when it had aborted before the call: an abort
 * listener added then never fires). For what a deadline cannot otherwise
 * interrupt: a gzip queued behind other work on libuv's thread pool, or a
 * user's `fetch` that ignores its signal. The work itself goes on; its result
 * is ignored.
 */
export function abortable<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Resolves true when `work` settled within `ms`, false when it is still running then. */
export async function within(ms: number, work: Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  // A computed `ms` (a deadline minus now) can round a hair past the timer range, which Node turns into 1 ms.
  const late = new Promise<boolean>(
    (resolve) => (timer = setTimeout(resolve, Math.min(ms, MAX_TIMER_MS), false)),
  );
  const done = await Promise.race([work.then(() => true), late]);
  clearTimeout(timer);
  return done;
}

/**
 * `promise`'s value if it settles within `ms`, else `undefined` at `ms`. The
 * timer is unref'd (it never keeps a process alive) and cleared as soon as
 * the promise wins. A rejection counts as no answer.
 *
 * @example
 * const answer = await answerWithin(askTheApi(), 150); // undefined: too slow, take the control path
 */
export function answerWithin<V>(promise: Promise<V>, ms: number): Promise<V | undefined> {
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

/**
 * `promise`'s outcome if it settles within `ms`; else, at `ms`, a rejection
 * with `late()`. The timer is unref'd and cleared as soon as the promise
 * settles; a rejection that comes after the deadline is ignored.
 *
 * @example
 * const identity = await settleWithin(identifyHook(req), 5000, () => new Error('identify did not settle'));
 */
export function settleWithin<T>(
  promise: PromiseLike<T>,
  ms: number,
  late: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(late()), ms);
    timer.unref?.(); // workerd's timers are numbers
    Promise.resolve(promise).then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
