import { settleWithin } from '../deadline';
import { OursError } from '../errors';

/** The option hooks a request's events go through. */
export type HookName = 'skip' | 'identify' | 'beforeSend';

/** What a failed hook is reported as: the hook's name, how it failed, and what that cost. */
export function hookError(hook: HookName, how: 'threw' | 'rejected', err: unknown): OursError {
  return new OursError(`${hook} ${how}: ${(err as Error)?.message ?? String(err)}; ${LOST[hook]}`);
}

const LOST: Record<HookName, string> = {
  skip: "the request's events are dropped",
  identify: "the request's events are dropped",
  beforeSend: 'its event is dropped',
};

/**
 * Waits for an async hook, at most `timeoutMs`: resolves with its value, or
 * rejects with the {@link OursError} to report (it rejected, or did not settle
 * in time). The timer is unref'd; `flush()` keeps the process alive while it
 * waits (see `HandOffBatch.settle`).
 */
export function settleHook<T>(
  hook: HookName,
  result: PromiseLike<T>,
  timeoutMs: number,
): Promise<T> {
  const settled = Promise.resolve(result).then(undefined, (err: unknown) => {
    throw hookError(hook, 'rejected', err);
  });
  return settleWithin(
    settled,
    timeoutMs,
    () => new OursError(`${hook} did not settle within ${timeoutMs} ms; ${LOST[hook]}`),
  );
}
