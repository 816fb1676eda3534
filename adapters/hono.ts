/**
 * Hono 4 adapter: `app.use(ours({ client }))` puts a request-scoped tracker on
 * `c.var.ours` (typed through `Variables`: `new Hono<OursEnv>()`). After
 * `await next()` its cookies go on `c.res` and its events to
 * `c.executionCtx.waitUntil` where there is one (Workers, Vercel), else to
 * the client. Only Hono's request is translated here.
 */
import type { Context, Env, MiddlewareHandler } from 'hono';
import type { GetConnInfo } from 'hono/conninfo';
import type { OursClient } from '../src/client';
import { kReport } from '../src/client/side-channels';
import { OursError } from '../src/errors';
import type { MiddlewareOptions } from '../src/request/middleware-options';
import type { RequestSource } from '../src/request/request-source';
import { resolveMiddlewareConfig } from '../src/request/middleware-config';
import { RequestTracker, sharedTracker } from '../src/request/tracker';
import {
  redirectResponse,
  refuseFlushOnResponse,
  WebResponse,
  webResponse,
} from '../src/request/web-response';
import { webSource } from '../src/request/web-source';
import type { SetupWording } from '../src/request/setup-wording';
import { unmounted } from '../src/request/unmounted';

/** How a Hono app sets the middleware up, for the messages that name the fix. */
const HONO_SETUP: SetupWording = {
  call: 'ours()',
  perRequest: '`app.use((c, next) => ours({...})(c, next))`',
  once: 'Make it once, at startup: `const tracking = ours({ client }); app.use(tracking);` (or `app.use(ours({ client }))`), and shut the client down on exit.',
};

/**
 * Hono's `Context`, as option callbacks (`skip`, `identify`, `beforeSend`,
 * `clientIp`) receive it: with the app's `Env` given as `ours<AppEnv>({...})`,
 * `c.get('user')` and `c.env` are the app's types.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type OursHonoContext<E extends Env = any> = Context<E>;

/** The tracker on `c.var.ours`. */
export type HonoTracker = RequestTracker<OursHonoContext, WebResponse>;

/**
 * What the middleware adds to an app's `Env`: `new Hono<OursEnv>()`, or
 * `new Hono<{ Bindings: MyBindings } & OursEnv>()`, types `c.var.ours` and
 * `c.get('ours')` in every route. Read it as `c.var.ours`: where the
 * middleware did not run, that is a stand-in that says where to mount it,
 * while `c.get('ours')` is undefined (see docs/hono.md).
 */
export interface OursEnv {
  Variables: { ours: HonoTracker };
}

/**
 * Options of the Hono middleware; `req` in callbacks is Hono's `c`, typed
 * with the app's `Env` `E` when given (`ours<AppEnv>({...})`).
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export interface OursHonoOptions<E extends Env = any> extends Omit<
  MiddlewareOptions<OursHonoContext<E>>,
  'flushOnResponse'
> {
  /**
   * Hono's `getConnInfo` of the runtime (`@hono/node-server/conninfo`,
   * `hono/bun`, `hono/deno`): the peer's address, the IP itself or where
   * `trustProxy` (a hop count or CIDR list) starts its walk over
   * `X-Forwarded-For`. On Workers and Vercel use `trustProxy: 'cloudflare'`
   * or `'vercel'` instead. @defaultValue none: no IP unless `trustProxy`
   * names the platform or `clientIp` gives one
   */
  getConnInfo?: GetConnInfo | undefined;
}

/** The middleware, with the client it sends through. */
export interface OursHonoMiddleware extends MiddlewareHandler<OursEnv> {
  /** The client behind this middleware: flush or shut it down on exit. */
  readonly client: OursClient;
}

const honoSource = (c: OursHonoContext, socketAddress: string | undefined): RequestSource =>
  webSource(c.req.raw.headers, c.req.url, socketAddress);

/**
 * Hono middleware that sets `c.var.ours`.
 *
 * @example
 * import { Hono } from 'hono';
 * import { OursClient } from 'ours-middleware';
 * import { ours, type OursEnv } from 'ours-middleware/hono';
 *
 * const client = new OursClient({ token: 'tok_...' });
 * const app = new Hono<OursEnv>();
 * app.use(ours({ client, trustProxy: 'cloudflare' }));
 * app.post('/signup', (c) => {
 *   c.var.ours.track('Signed Up');
 *   return c.json({ ok: true });
 * });
 * export default app;
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function ours<E extends Env = any>(options: OursHonoOptions<E> = {}): OursHonoMiddleware {
  const { getConnInfo, ...rest } = options as OursHonoOptions;
  refuseFlushOnResponse(rest, 'Hono');
  const config = resolveMiddlewareConfig<OursHonoContext, WebResponse>(
    rest,
    webResponse,
    HONO_SETUP,
  );
  const peerOf = (c: OursHonoContext): string | undefined => {
    try {
      return getConnInfo?.(c).remote.address;
    } catch (err) {
      config.client[kReport](
        new OursError(
          `getConnInfo threw: ${(err as Error)?.message ?? String(err)}; the event goes without an IP`,
        ),
      );
      return undefined;
    }
  };
  coverLoadedHono(); // routes this middleware does not run for read a stand-in, from the first request
  let contextPrototype: object | undefined;
  const middleware = async function oursMiddleware(
    c: Context<OursEnv>,
    next: () => Promise<void>,
  ): Promise<void> {
    // A copy of Hono not found at startup: from now on, its routes this middleware does not run for read a stand-in.
    if (contextPrototype !== Object.getPrototypeOf(c))
      coverUnmounted((contextPrototype = Object.getPrototypeOf(c) as object));
    const existing = c.get('ours') as HonoTracker | undefined;
    if (existing) {
      sharedTracker(existing, config); // the first mount's tracker serves, and that mount finishes it
      return next();
    }
    const response = new WebResponse(() => waitUntilOf(c), c.req.raw);
    c.set('ours', new RequestTracker(config, honoSource, response, c, getConnInfo && peerOf(c)));
    try {
      await next();
    } finally {
      try {
        finish(c, response);
      } catch (err) {
        config.client[kReport](
          new OursError(`tracking failed: ${(err as Error)?.message ?? String(err)}`),
        ); // the app's response stands
      }
    }
  };
  return Object.assign(middleware, { client: config.client });
}

/*
 * `c.var.ours` where the middleware did not run for the request (mounted on
 * a path, `app.use('/api/*', ours(...))`, and a route outside it): the
 * stand-in that says where to mount, as `req.ours` on Express, rather than
 * `undefined` and a TypeError. Hono builds `c.var` in a getter on its
 * `Context` prototype, which is wrapped here. `c.get('ours')` cannot be
 * covered: `get` is an arrow-function field of each Context instance (not a
 * prototype method) that reads a private `#var` Map, which only a middleware
 * that runs for the request can fill.
 */

/** What a route that reads `c.var.ours` where the middleware did not run is told to do. */
const STAND_IN = unmounted(
  'c.var',
  "mount it before the routes that track, on a path that covers them: `app.use(ours({ client }))` first (Hono runs middleware in the order it is added). Read it as `c.var.ours`: `c.get('ours')` is undefined where ours() did not run",
);

/** Marks a Context prototype whose `var` getter gives the stand-in. */
const kCovered = Symbol.for('ours-middleware.honoVar');

/** Hono's module, as far as it is read here. */
interface HonoModule {
  readonly Context?: { readonly prototype: object };
}

/**
 * Wraps the `var` getter of `proto`, a Hono `Context` prototype (once per
 * Hono copy): where `ours` was not set, `c.var.ours` is the stand-in. The
 * getter builds a fresh object per read, so adding to it changes nothing else.
 */
function coverUnmounted(proto: object | undefined): void {
  const descriptor = proto && Object.getOwnPropertyDescriptor(proto, 'var');
  const read = descriptor?.get;
  if (!read || (proto as Record<symbol, unknown>)[kCovered]) return;
  Object.defineProperty(proto, kCovered, { value: true });
  Object.defineProperty(proto, 'var', {
    ...descriptor,
    get(this: Context) {
      const vars = read.call(this) as Record<string, unknown>;
      if (vars.ours === undefined) vars.ours = STAND_IN;
      return vars;
    },
  });
}

/** Whether `import('hono')` was asked already (once per process). */
let imported = false;

/**
 * Covers the app's Hono from the start, before any request went through the
 * middleware (a route outside its path may be the first one asked): a
 * CommonJS app's (see `coverCommonJs`), else the one `import('hono')` gives
 * (once per process), which is an ES module app's, a bundle's (a Worker's)
 * and Bun's and Deno's. A copy found neither way (Hono from jsr, a second
 * copy) is covered at the first request the middleware sees (`coverUnmounted`).
 */
function coverLoadedHono(): void {
  if (coverCommonJs() || imported) return;
  imported = true;
  import('hono').then(
    (hono: HonoModule) => coverUnmounted(hono.Context?.prototype),
    () => undefined, // no Hono to import here (a bundle without it): the first request covers it
  );
}

/**
 * Covers the CommonJS Hono of a CommonJS app (its entry point is
 * `require.main`), as the app's `require('hono')` gives it: the loaded one,
 * or, when the app has not required Hono yet (it may do so after `ours()`),
 * loaded now (the app's own require caches it, so it is the same copy). False where there is
 * none: an ES module app (no `require.main`; `import('hono')` finds its
 * Hono), a bundle or a Worker (no `require`), no Hono resolvable.
 */
function coverCommonJs(): boolean {
  let hono: HonoModule | undefined;
  try {
    const main = require.main;
    hono = (main ? main.require('hono') : require.cache[require.resolve('hono')]?.exports) as
      HonoModule | undefined;
  } catch {
    return false; // no `require` (a Worker), or no Hono resolvable from here
  }
  coverUnmounted(hono?.Context?.prototype);
  return hono?.Context !== undefined;
}

/**
 * The request's cookies and redirect onto `c.res`, through Hono's own API;
 * the hand-off runs. Not `respondWith()` (fetch, Next): Hono merges the old
 * response's headers into a new `c.res`, so it is unset first (the 302 takes
 * none of the app's headers), and `c.header()` copies a response whose
 * headers are immutable itself.
 */
function finish(c: Context, response: WebResponse): void {
  const added = response.end();
  if (!added) return;
  if (added.redirect !== undefined) {
    void c.res.body?.cancel().catch(() => undefined);
    c.res = undefined; // not merged into: the app's response is replaced
    c.res = redirectResponse(added.redirect);
  }
  for (const cookie of added.cookies) c.header('set-cookie', cookie, { append: true });
}

/**
 * `c.executionCtx.waitUntil` where the platform gives one. Hono's getter
 * throws where there is none (Node, Bun, Deno), once per tracked request:
 * not asked on @hono/node-server, which never passes one, and elsewhere the
 * error is made without a stack, whose capture cost several times the rest
 * of the throw (bench/RESULTS.md, issue 19).
 */
function waitUntilOf(c: Context): ((promise: Promise<unknown>) => void) | undefined {
  if (onNodeServer(c.env)) return undefined;
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    const ctx = c.executionCtx;
    return (promise) => ctx.waitUntil(promise);
  } catch {
    return undefined;
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

/** @hono/node-server's `c.env`, `{ incoming, outgoing }`: Node's request and response. */
function onNodeServer(env: unknown): boolean {
  const outgoing = (env as { outgoing?: { writeHead?: unknown } } | undefined)?.outgoing;
  return typeof outgoing?.writeHead === 'function';
}

export { RequestTracker } from '../src/request/tracker';
export type { TrackOverrides, IdentifyOverrides } from '../src/request/tracker';
export type { MiddlewareOptions } from '../src/request/middleware-options';
export type { RequestContext } from '../src/request/extract-context';
