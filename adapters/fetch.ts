/**
 * Any `(Request) => Response` server (Bun.serve, Deno.serve, a Worker's
 * `fetch`, an edge function): `const ours = tracker(request, { client })`,
 * then `return ours.respond(response)`. Only the Web request is translated
 * here (`src/request/web-*.ts`); everything else is the core.
 */
import type { OursClient } from '../src/client';
import { OursConfigError, describeValue } from '../src/errors';
import type { MiddlewareOptions } from '../src/request/middleware-options';
import { resolveMiddlewareConfig } from '../src/request/middleware-config';
import { sharedTracker } from '../src/request/tracker';
import { RecentByOptions } from '../src/request/recent-by-options';
import { refuseFlushOnResponse, WebResponse, webResponse } from '../src/request/web-response';
import { WebRequestTracker } from '../src/request/web-tracker';
import { webSource } from '../src/request/web-source';
import type { RequestSource } from '../src/request/request-source';
import type { SetupWording } from '../src/request/setup-wording';

/** How a fetch handler sets tracking up, for the messages that name the fix. */
const FETCH_SETUP: SetupWording = {
  call: 'oursFetch() (or tracker() with options that differ each time)',
  perRequest:
    '`oursFetch({...})` inside the handler, or `tracker(request, { client, skip: (r) => ... })` with hooks defined inline',
  once: 'Make `const track = oursFetch({ client })` once, at module level, and call `track(request)` per request; with tracker(), define the hooks once, outside the handler.',
};

/**
 * Options of `oursFetch()` and `tracker()`; `req` in callbacks is the
 * `Request`. No `flushOnResponse`: a fetch handler returns its response, so
 * give `waitUntil` where the platform freezes (Workers, edge functions).
 */
export type OursFetchOptions = Omit<MiddlewareOptions<Request>, 'flushOnResponse'>;

/** What only this request knows. */
export interface FetchRequestOptions {
  /**
   * The platform's `waitUntil` for this request (a Worker's
   * `ctx.waitUntil.bind(ctx)`): the request's delivery is handed to it when
   * `respond()` runs. @defaultValue the `waitUntil` option, else none
   */
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
  /**
   * The peer's address, where the server tells it: Bun's
   * `server.requestIP(request)?.address`, Deno's `info.remoteAddr.hostname`.
   * The IP, or where `trustProxy` (a hop count or CIDR list) starts its walk
   * over `X-Forwarded-For`. @defaultValue none: no IP unless `trustProxy`
   * names the platform or `clientIp` gives one
   */
  remoteAddress?: string | undefined;
}

/** Options of `tracker(request, options)`: the app's options and this request's. */
export type TrackerOptions = OursFetchOptions & FetchRequestOptions;

/** The request's tracker: `track()`, `identify()`... and `respond(response)`. */
export type FetchTracker = WebRequestTracker<Request>;

/** `track(request, perRequest?)`: the request's tracker (the same one however often it is called), with the client. */
export interface OursFetch {
  (request: Request, perRequest?: FetchRequestOptions): FetchTracker;
  /** The client behind it: hand `flush()` to `waitUntil`, or shut it down on exit. */
  readonly client: OursClient;
}

/**
 * Where a request keeps its tracker, so a second call for it (another module
 * of the app) gets the same one. A property, not a WeakMap: a WeakMap entry
 * per request costs more than the rest of an untracked request (bench `parts`).
 */
const kTracker = Symbol('ours-middleware.tracker');
type WithTracker = Request & { [kTracker]?: FetchTracker };

const noWaitUntil = (): undefined => undefined;

const fetchSource = (request: Request, socketAddress: string | undefined): RequestSource =>
  webSource(request.headers, request.url, socketAddress);

/**
 * Request-scoped tracking for a fetch handler, with options checked once.
 *
 * @example
 * import { OursClient } from 'ours-middleware';
 * import { oursFetch } from 'ours-middleware/fetch';
 *
 * const track = oursFetch({ client: new OursClient({ token: process.env.OURS_TOKEN }) });
 * Bun.serve({
 *   fetch(request, server) {
 *     const ours = track(request, { remoteAddress: server.requestIP(request)?.address });
 *     ours.track('Page Viewed');
 *     return ours.respond(new Response('ok'));
 *   },
 * });
 */
export function oursFetch(options?: OursFetchOptions): OursFetch {
  refuseFlushOnResponse(options, 'a fetch handler');
  const config = resolveMiddlewareConfig(options, webResponse, FETCH_SETUP);
  const track = function oursTrack(
    request: Request,
    perRequest?: FetchRequestOptions,
  ): FetchTracker {
    const existing = (request as WithTracker)[kTracker];
    if (existing) return sharedTracker(existing, config);
    const { waitUntil, remoteAddress } = checked(perRequest);
    const response = new WebResponse(waitUntil ? () => waitUntil : noWaitUntil, request);
    const made = new WebRequestTracker(config, fetchSource, response, request, remoteAddress);
    (request as WithTracker)[kTracker] = made;
    return made;
  };
  return Object.assign(track, { client: config.client });
}

/**
 * The request's tracker, with the app's options and this request's in one
 * object. The app's options are checked the first time they are seen and
 * kept (the last few sets, compared by value), so pass the same hooks each
 * time: define them once, not inline per request.
 *
 * @example
 * import { OursClient } from 'ours-middleware';
 * import { tracker } from 'ours-middleware/fetch';
 *
 * const client = new OursClient({ token: 'tok_...' });
 * export default {
 *   async fetch(request: Request, env: unknown, ctx: { waitUntil(p: Promise<unknown>): void }) {
 *     const ours = tracker(request, { client, waitUntil: (p) => ctx.waitUntil(p), trustProxy: 'cloudflare' });
 *     ours.track('Page Viewed');
 *     return ours.respond(new Response('ok'));
 *   },
 * };
 */
export function tracker(request: Request, options: TrackerOptions): FetchTracker {
  const { waitUntil, remoteAddress, ...app } = options;
  return kept.get(app, oursFetch)(request, { waitUntil, remoteAddress });
}

/** The option sets `tracker()` keeps checked (an app has one, or one per route). */
const kept = new RecentByOptions<OursFetch>(16);

function checked(perRequest: FetchRequestOptions | undefined): FetchRequestOptions {
  if (!perRequest) return {};
  const { waitUntil, remoteAddress } = perRequest;
  if (waitUntil !== undefined && typeof waitUntil !== 'function')
    throw new OursConfigError(
      'waitUntil',
      `must be a function (a Worker's ctx.waitUntil.bind(ctx)), got ${describeValue(waitUntil)}`,
    );
  if (remoteAddress !== undefined && typeof remoteAddress !== 'string')
    throw new OursConfigError(
      'remoteAddress',
      `must be the peer's address as a string, got ${describeValue(remoteAddress)}`,
    );
  return perRequest;
}

export { WebRequestTracker } from '../src/request/web-tracker';
export { RequestTracker } from '../src/request/tracker';
export type { TrackOverrides, IdentifyOverrides } from '../src/request/tracker';
export type { MiddlewareOptions } from '../src/request/middleware-options';
export type { RequestContext } from '../src/request/extract-context';
