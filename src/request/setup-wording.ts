/**
 * How an app sets an adapter up, in the adapter's own words: the messages
 * that tell an app it set tracking up wrong name the call it wrote and the
 * one to write instead (Koa's `app.use`, Fastify's `app.register`...).
 */
export interface SetupWording {
  /** The call that makes the adapter's middleware: `ours()`, `oursFetch()`, `withOurs()`. */
  readonly call: string;
  /** That call made per request, as apps write the mistake. */
  readonly perRequest: string;
  /** The fix: the call made once, and how its client is shut down. */
  readonly once: string;
}

/** Express's words; the default of code that names no adapter (tests, benches). */
export const EXPRESS_SETUP: SetupWording = {
  call: 'ours()',
  perRequest: '`app.use((req, res, next) => ours({...})(req, res, next))`',
  once: 'Make it once, at startup: `const tracking = ours({...}); app.use(tracking);`, and call `tracking.client.shutdown()` on exit.',
};
