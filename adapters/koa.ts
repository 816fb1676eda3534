/**
 * Koa 2 and 3 adapter: `app.use(ours(...))` puts a request-scoped tracker on
 * `ctx.ours`. Only Koa's context is translated here; the rest is the core.
 */
import type { Context, Next } from 'koa';
import type { OursClient } from '../src/client';
import { kWarn } from '../src/client/side-channels';
import { OursConfigError } from '../src/errors';
import { koaIp } from '../src/request/client-ip';
import type { MiddlewareOptions } from '../src/request/middleware-options';
import type { RequestSource } from '../src/request/request-source';
import { requestTracker, type RequestTracker } from '../src/request/tracker';
import { resolveMiddlewareConfig } from '../src/request/middleware-config';
import { nodeResponse } from '../src/request/node-response';
import type { SetupWording } from '../src/request/setup-wording';
import { defineOursAccessor } from '../src/request/unmounted';

/**
 * Koa's context, as option callbacks (`skip`, `identify`, `beforeSend`,
 * `clientIp`) receive it: `ctx.state`, `ctx.path`, your own extensions.
 */
export type KoaContext = Context;

declare module 'koa' {
  interface DefaultContext {
    /** The Ours tracker for this request (ours-middleware). */
    ours: RequestTracker<KoaContext>;
  }
}

/** Options of the Koa middleware; `req` in callbacks is Koa's `ctx`. */
export type OursKoaOptions = MiddlewareOptions<KoaContext>;

/** The middleware, with the client it sends through. */
export interface OursKoaMiddleware {
  (ctx: KoaContext, next: Next): Promise<unknown>;
  /** The client behind this middleware: flush or shut it down on exit. */
  readonly client: OursClient;
}

/** Reads a Koa context; made when the request first tracks, every member lazy. */
class KoaSource implements RequestSource {
  readonly url: string;
  /** Node builds `req.headers` in a getter; one read instead of one per header. */
  readonly #headers: KoaContext['req']['headers'];
  constructor(
    private readonly ctx: KoaContext,
    readonly socketAddress: string | undefined,
    private readonly warnSpoofable: () => void,
  ) {
    this.#headers = ctx.req.headers;
    this.url = ctx.originalUrl;
  }
  header(name: string): string | undefined {
    const value = this.#headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  /**
   * Koa's `ctx.ip` (`app.proxy`, `app.proxyIpHeader`, `app.maxIpsCount`),
   * from the socket address read when the request started: Koa reads the
   * socket, which is empty once the client has gone.
   */
  ip(): string | undefined {
    const { proxy, proxyIpHeader = 'X-Forwarded-For', maxIpsCount = 0 } = this.ctx.app;
    if (!proxy) return this.socketAddress;
    if (maxIpsCount <= 0) this.warnSpoofable();
    return koaIp(this.socketAddress, this.header(proxyIpHeader.toLowerCase()), maxIpsCount);
  }
  protocol(): string | undefined {
    return this.ctx.protocol;
  }
  host(): string | undefined {
    return this.ctx.host || undefined;
  }
}

/** How a Koa app sets the middleware up, for the messages that name the fix. */
const KOA_SETUP: SetupWording = {
  call: 'ours()',
  perRequest: '`app.use((ctx, next) => ours({...})(ctx, next))`',
  once: 'Make it once, at startup: `const tracking = ours({...}); app.use(tracking);`, and call `tracking.client.shutdown()` on exit.',
};

/** What middleware that reads `ctx.ours` where this one did not run is told to do. */
const UNMOUNTED =
  'mount it before the middleware that tracks: `app.use(ours({...}))` first (Koa runs middleware in the order it is added)';

/**
 * Koa middleware that attaches `ctx.ours`.
 *
 * @example
 * import Koa from 'koa';
 * import { ours } from 'ours-middleware/koa';
 *
 * const app = new Koa();
 * const tracking = ours({ token: process.env.OURS_TOKEN });
 * app.use(tracking);
 * app.use((ctx) => {
 *   ctx.ours.track('Page Viewed');
 *   ctx.body = 'ok';
 * });
 */
export function ours(options?: OursKoaOptions): OursKoaMiddleware {
  if (options && 'proxy' in options)
    throw new OursConfigError('proxy', 'is a Koa app setting (app.proxy), not an ours() option');
  const config = resolveMiddlewareConfig(options, nodeResponse, KOA_SETUP);
  let warned = false;
  const warnSpoofable = (): void => {
    if (warned) return;
    warned = true;
    config.client[kWarn](
      'Koa app.proxy is on with maxIpsCount 0: ctx.ip, and so the IP in events, is the leftmost entry of app.proxyIpHeader, which any client can choose. Set app.maxIpsCount to your number of proxies.',
    );
  };
  const sourceOf = (ctx: KoaContext, socketAddress: string | undefined): RequestSource =>
    new KoaSource(ctx, socketAddress, warnSpoofable);
  koaContextPrototype(); // now, so a middleware mounted too late says so even before it first runs
  let appContext: object | undefined;
  const middleware = function oursMiddleware(ctx: KoaContext, next: Next): Promise<unknown> {
    // The app's own context prototype: covers a Koa copy other than the one require() finds.
    if (appContext !== Object.getPrototypeOf(ctx))
      defineOursAccessor((appContext = Object.getPrototypeOf(ctx) as object), 'ctx', UNMOUNTED);
    ctx.ours = requestTracker(ctx.ours, config, sourceOf, ctx.res, ctx, ctx.req.socket);
    return next();
  };
  return Object.assign(middleware, { client: config.client });
}

/**
 * Gives Koa's context prototype (every app's `app.context` inherits from it)
 * the `ours` accessor that explains a middleware mounted too late. Koa is an
 * optional peer: without it, nothing to do.
 */
function koaContextPrototype(): void {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    defineOursAccessor(require('koa/lib/context') as object, 'ctx', UNMOUNTED);
  } catch {
    // Koa not resolvable from here: the middleware covers its app on its first request.
  }
}

export { RequestTracker } from '../src/request/tracker';
export type { TrackOverrides, IdentifyOverrides } from '../src/request/tracker';
export type { MiddlewareOptions } from '../src/request/middleware-options';
export type { RequestContext } from '../src/request/extract-context';
