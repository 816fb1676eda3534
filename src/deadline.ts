/** Waiting on what a deadline must be able to cut short. */

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
  const late = new Promise<boolean>((resolve) => (timer = setTimeout(resolve, ms, false)));
  const done = await Promise.race([work.then(() => true), late]);
  clearTimeout(timer);
  return done;
}
