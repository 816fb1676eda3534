/**
 * True for a Promise or any thenable. Hooks and listeners are sync in most
 * apps: their result is only ever wrapped in a Promise when it is one
 * already, so a sync one costs what it did before they could be async.
 */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}
