/**
 * Next.js 14, 15 and 16 (App Router): `withOurs(handler, options)` for route
 * handlers and `middleware.ts`, `await oursTracker(options)` for server
 * components and server actions. Only Next's request, response and delivery
 * are translated here; the tracker and its options are the core's.
 */
import type { OursClient } from '../../src/client';
import type { MiddlewareOptions } from '../../src/request/middleware-options';
import { resolveMiddlewareConfig } from '../../src/request/middleware-config';
import { requestTracker, type RequestTracker } from '../../src/request/tracker';
import {
  refuseFlushOnResponse,
  respondWith,
  withCookies,
  WebResponse,
  type AddedToResponse,
} from '../../src/request/web-response';
import { webSource } from '../../src/request/web-source';
import { requestWaitUntil } from './delivery';
import { nextResponseNext, type NextCookieStore } from './next-server';
import { routeResponse } from './route-response';
import { NEXT_ROUTE_SETUP } from './setup';
import { setCookieLine } from './cookie-line';

export { oursTracker, type OursTrackerOptions } from './render-tracker';

/**
 * Options of `withOurs()` and `oursTracker()`; `req` in callbacks is the Web
 * `Request` (a `NextRequest` in a route handler or middleware).
 */
export type OursNextOptions = MiddlewareOptions<Request>;

/** The tracker of one Next.js request: `ctx.ours` in a route handler, what `oursTracker()` resolves to. */
export type NextTracker = RequestTracker<Request>;

/** Next's second argument (`{ params }`, or middleware's `NextFetchEvent`), with the request's tracker. */
export type WithOurs<Ctx> = Ctx & { readonly ours: NextTracker };

/** A route handler or middleware wrapped by `withOurs`, with the client it sends through. */
export interface OursRouteHandler<Req extends Request, Ctx, Res> {
  (request: Req, ctx: Ctx): Promise<Res>;
  /** The client behind this handler. */
  readonly client: OursClient;
}

const sourceOf = (request: Request): ReturnType<typeof webSource> =>
  webSource(request.headers, request.url, undefined);

/**
 * Wraps a route handler (`export const POST = withOurs(...)`) or a
 * middleware (`export default withOurs(...)`): the handler gets Next's own
 * context with `ours` added (`ctx.params` as Next gives it), and what it
 * tracks is sent after the response, through `after()` on Next 15+.
 *
 * @example
 * export const POST = withOurs(
 *   async (request, ctx) => {
 *     ctx.ours.track('Signed Up');
 *     return Response.json({ ok: true });
 *   },
 *   { client },
 * );
 */
export function withOurs<
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- a handler without Next's context: `{}` adds nothing to `ctx`
  Ctx extends object = {},
  Req extends Request = Request,
  Res extends Response | undefined | void = Response,
>(
  handler: (request: Req, ctx: WithOurs<Ctx>) => Res | Promise<Res>,
  options?: OursNextOptions,
): OursRouteHandler<Req, Ctx, Res> {
  refuseFlushOnResponse(options, 'Next.js route handlers and middleware');
  const own = options?.waitUntil;
  const config = resolveMiddlewareConfig<Request, WebResponse>(
    options,
    routeResponse((): OursClient => config.client),
    NEXT_ROUTE_SETUP,
  );
  const route = async function oursRoute(request: Req, ctx: Ctx): Promise<Res> {
    // Next 14 prerenders at build time a GET handler that does not read the request.
    void request.headers;
    const side = new WebResponse(() => own ?? requestWaitUntil(ctx), request);
    const context = withTracker(
      ctx,
      requestTracker<Request, WebResponse>(undefined, config, sourceOf, side, request, undefined),
    );
    let response: Res;
    try {
      response = await handler(request, context);
    } catch (err) {
      side.end(); // what was tracked is still handed off; the error is Next's
      throw err;
    }
    return finish(response, side.end());
  };
  return Object.assign(route, { client: config.client });
}

/** Next's context with `ours` on it: the same object where it can be (`ctx.params`, the event's methods stay), else one inheriting from it. */
function withTracker<Ctx extends object>(ctx: Ctx | undefined, ours: NextTracker): WithOurs<Ctx> {
  const target = ctx && Object.isExtensible(ctx) ? ctx : (Object.create(ctx ?? null) as Ctx);
  Object.defineProperty(target, 'ours', { value: ours, configurable: true, enumerable: false });
  return target as WithOurs<Ctx>;
}

/** The handler's response with what the tracker added: the visitor or opt-out cookie, or a split-URL redirect. */
function finish<Res extends Response | undefined | void>(
  response: Res,
  added: AddedToResponse | undefined,
): Res {
  if (!added) return response;
  // A middleware that returned nothing continues the request: NextResponse.next() carries the cookies.
  // The redirect as everywhere; the cookies through Next's own API where the response has one.
  const final = respondWith(response ?? undefined, { ...added, cookies: [] }, nextResponseNext);
  if (!isNextResponse(final)) return withCookies(final, added.cookies) as Res;
  // Through its own cookie API, which in middleware also hands them to the request's pages (cookies()).
  for (const cookie of added.cookies) setCookieLine(final.cookies, cookie);
  return final as Response as Res;
}

/** A `NextResponse` (`NextResponse.next()`, `.json()`, `.rewrite()`...): a Response with Next's cookie API. */
function isNextResponse(
  response: Response,
): response is Response & { cookies: Pick<NextCookieStore, 'set'> } {
  return typeof (response as { cookies?: { set?: unknown } }).cookies?.set === 'function';
}
