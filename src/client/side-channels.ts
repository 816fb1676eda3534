/*
 * The client's internal methods for the middleware and the adapters, keyed by
 * symbols so that they stay out of the public API (each is marked @internal).
 * Registered symbols (`Symbol.for`): a bundler may put several copies of the
 * package in one process (Next.js bundles it per route), and a client made
 * by one copy (kept on `globalThis`, as Next apps keep theirs) must work
 * with another copy's middleware.
 */

/**
 * How the adapters report a failure through the client's `error` channel
 * without a public method for it (Node throws on `emit('error')` with no
 * listener, which must never happen inside a host app).
 * @internal
 */
export const kReport = Symbol.for('ours-middleware.report');

/** Lets an adapter warn through the client's logger. @internal */
export const kWarn = Symbol.for('ours-middleware.warn');

/** Lets an adapter log at debug level through the client's logger. @internal */
export const kDebug = Symbol.for('ours-middleware.debug');

/** Whether `shutdown()` has been called: a closed client is never shared again. @internal */
export const kIsClosed = Symbol.for('ours-middleware.isClosed');

/** Registers work to drain before a flush, a shutdown or the exit (see `PendingWork`). @internal */
export const kBeforeFlush = Symbol.for('ours-middleware.beforeFlush');

/** The client's server-side experiments (see `Experiments`), made on first use. @internal */
export const kExperiments = Symbol.for('ours-middleware.experiments');

/**
 * The middleware's side of `stats()`: a `req.ours` call is tracked when it is
 * made (`kHold`), held until its response ends and its hooks have run, then
 * queued (`kAcceptHeld`) or dropped with a reason (`kRelease`).
 * @internal
 */
export const kHold = Symbol.for('ours-middleware.hold');
/** @internal */
export const kAcceptHeld = Symbol.for('ours-middleware.acceptHeld');
/** @internal */
export const kRelease = Symbol.for('ours-middleware.release');

/** `flush()` without taking requests still running: for `waitUntil`/`flushOnResponse`, per response. @internal */
export const kFlushQueued = Symbol.for('ours-middleware.flushQueued');
