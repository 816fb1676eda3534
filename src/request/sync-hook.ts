import { isThenable } from '../is-thenable';

/**
 * The privacy hooks (`consent`, `redact`) are synchronous: they run while an
 * event is built. A hook written `async` returns a Promise instead; its
 * rejection must not become an unhandled rejection in the host (Node's
 * default ends the process), and the mistake must be reported, not taken for
 * an answer. Returns the value, or throws a readable error for a Promise.
 */
export function syncResult<T>(hook: string, value: T | PromiseLike<unknown>): T {
  if (!isThenable(value)) return value as T;
  Promise.resolve(value).catch(() => undefined); // observed: never an unhandled rejection
  throw new Error(`the ${hook} hook returned a Promise; it must return its answer synchronously`);
}
