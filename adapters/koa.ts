/**
 * Koa 2 and 3 adapter: `app.use(ours(...))` puts a request-scoped tracker on
 * `ctx.ours`. Only Koa's context is translated here; the rest is the core.
 */
import type { Context, Next } from 'koa';
import { kWarn, type OursClient } from '../src/client';
import { OursConfigError } from '../src/errors';
import { koaIp } from '../src/request/client-ip';
import type { MiddlewareOptions } from '../src/request/middleware-options';
import type { RequestSource } from '../src/request/request-source';
import { RequestTracker } from '../src/request/tracker';
import { resolveTrackerConfig } from '../src/request/tracker-config';
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
  readonly socketAddress: string | undefined;
  readonly url: string;
  /** Node builds `req.headers` in a getter; one read instead of one per header. */
  readonly #headers: KoaContext['req']['headers'];
  constructor(
    private readonly ctx: KoaContext,
    private readonly warnSpoofable: () => void,
  ) {
    this.#headers = ctx.req.headers;
    // Read now (the first track() of the request): the socket's address can be gone once the client disconnects.
    this.socketAddress = ctx.req.socket?.remoteAddress;
    this.url = ctx.originalUrl;
  }
  header(name: string): string | undefined {
    const value = this.#headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  /**
   * Koa's own `ctx.ip` with `app.proxy` and the default `maxIpsCount` 0 is the
   * leftmost X-Forwarded-For entry, which the client chooses. We walk from the
   * right over `maxIpsCount` hops instead, and take one hop when it is 0.
   */
  ip(): string | undefined {
    const { proxy = false, maxIpsCount = 0 } = this.ctx.app;
    const result = koaIp(this.socketAddress, this.header('x-forwarded-for'), proxy, maxIpsCount);
    if (result.usedRightmost) this.warnSpoofable();
    return result.ip;
  }
  protocol(): string | undefined {
    return this.ctx.protocol;
  }
  host(): string | undefined {
    return this.ctx.host || undefined;
  }
}

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
  if (options && 'proxy' in options) throw new OursConfigError('proxy', 'is a Koa app setting (app.proxy), not an ours() option');
  const config = resolveTrackerConfig(options);
  let warned = false;
  const warnSpoofable = (): void => {
    if (warned) return;
    warned = true;
    config.client[kWarn](
      "Koa app.proxy is on with maxIpsCount 0: Koa's ctx.ip is then the client-chosen leftmost X-Forwarded-For entry. ours-middleware uses the rightmost entry (one proxy); set app.maxIpsCount to your number of proxies.",
    );
  };
  const sourceOf = (ctx: KoaContext): RequestSource => new KoaSource(ctx, warnSpoofable);
  koaContextPrototype(); // now, so a middleware mounted too late says so even before it first runs
  let appContext: object | undefined;
  const middleware = function oursMiddleware(ctx: KoaContext, next: Next): Promise<unknown> {
    // The app's own context prototype: covers a Koa copy other than the one require() finds.
    if (appContext !== Object.getPrototypeOf(ctx)) defineOursAccessor((appContext = Object.getPrototypeOf(ctx) as object), 'ctx');
    ctx.ours = new RequestTracker(config, sourceOf, ctx.res, ctx);
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
    defineOursAccessor(require('koa/lib/context') as object, 'ctx');
  } catch {
    // Koa not resolvable from here: the middleware covers its app on its first request.
  }
}

export { RequestTracker } from '../src/request/tracker';
export type { TrackOverrides, IdentifyOverrides } from '../src/request/tracker';
export type { MiddlewareOptions } from '../src/request/middleware-options';
export type { RequestContext } from '../src/request/extract-context';
