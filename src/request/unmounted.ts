import { OursError } from '../errors';
import { controlOf, NO_PERSONALIZATION } from '../experiments/parse-answer';
import { RateLimitedLog } from '../logger';

/*
 * `req.ours` / `ctx.ours` where the middleware did not run for the request
 * (mounted after the routes, or on another router). Without this it is
 * `undefined`, and `req.ours.track()` a TypeError that names nothing. An
 * accessor on the request (or Koa context) prototype gives instead a tracker
 * that does nothing but say, once a minute, where the middleware goes: the
 * route still answers, and the log says what to fix.
 */

/** Where the middleware keeps a request's tracker; `req.ours` reads it through the accessor. */
const kTracker = Symbol('ours-middleware.tracker');

const log = new RateLimitedLog();

/** The stand-in tracker: `name` is what the app reads it on (`req`, `ctx`, `c.var`), `fix` where to mount. */
export function unmounted(name: string, fix: string): object {
  const say = (call: string): void => {
    if (log.take(`${name}.${call}`) >= 0)
      console.error(
        `[ours-middleware] ${name}.ours.${call} was called, but ours() did not run for this request, so nothing was tracked: ${fix}`,
      );
  };
  return Object.freeze({
    track: () => say('track()'),
    identify: () => say('identify()'),
    setIdentity: () => say('setIdentity()'),
    optOut: () => say('optOut()'),
    // The control path, as when the experiments API cannot answer: the page still renders.
    experiment: (key: string) => (say('experiment()'), Promise.resolve(controlOf(String(key)))),
    personalization: () => (say('personalization()'), Promise.resolve(NO_PERSONALIZATION)),
    redirect: () => (say('redirect()'), false),
    get context(): never {
      throw new OursError(
        `${name}.ours.context was read, but ours() did not run for this request: ${fix}`,
      );
    },
  });
}

/**
 * The tracker stored on `target` (a request, a Koa context), read past the
 * accessor: one property read instead of a getter's call and its read.
 * Express gives every request a map of its own (its `setPrototypeOf` per
 * request), so each access to `req` misses V8's inline caches; the fewer,
 * the cheaper a request that tracks nothing (bench/RESULTS.md, issue 19).
 */
export function storedTracker(target: object): unknown {
  return (target as Record<symbol, unknown>)[kTracker];
}

/** Stores `tracker` on `target` as assigning `target.ours` would, past the accessor (see `storedTracker`). */
export function storeTracker(target: object, tracker: unknown): void {
  (target as Record<symbol, unknown>)[kTracker] = tracker;
}

/**
 * Defines `ours` on `proto` (once): the tracker the middleware stored for
 * this request, else the stand-in above. Assigning `req.ours` stores it, so
 * the middleware and apps that stub it in tests work as before.
 */
export function defineOursAccessor(proto: object, name: string, fix: string): void {
  if (Object.prototype.hasOwnProperty.call(proto, 'ours')) return;
  const standIn = unmounted(name, fix);
  Object.defineProperty(proto, 'ours', {
    configurable: true,
    enumerable: false,
    get(this: object) {
      return storedTracker(this) ?? standIn;
    },
    set(this: object, tracker: unknown) {
      storeTracker(this, tracker);
    },
  });
}
