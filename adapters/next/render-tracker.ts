import { OursConfigError } from '../../src/errors';
import type { MiddlewareConfig } from '../../src/request/middleware-config';
import { resolveMiddlewareConfig } from '../../src/request/middleware-config';
import { RecentByOptions } from '../../src/request/recent-by-options';
import type { MiddlewareOptions } from '../../src/request/middleware-options';
import { requestTracker, type RequestTracker } from '../../src/request/tracker';
import { WebSource } from '../../src/request/web-source';
import { readCookie } from '../../src/request/cookies';
import { nextHeaders, type NextCookieStore } from './next-server';
import { renderResponse, type NextRender } from './render-response';
import { NEXT_RENDER_SETUP } from './setup';

/** Options of `oursTracker()`: those of `withOurs()`, and the page's URL. */
export interface OursTrackerOptions extends MiddlewareOptions<Request> {
  /**
   * The page's URL or path (`'/pricing'`), for `current_url` and `pathname`:
   * Next gives a server component no way to read its own. @defaultValue a
   * server action's `Referer` (the page whose form called it); none in a server component
   */
  url?: string | undefined;
}

/** The request a render reads: its headers, and its page when known (else no page fields). */
class RenderSource extends WebSource {
  override readonly url: string;
  constructor(headers: Headers, page: URL, known: boolean) {
    super(headers, page, undefined);
    this.url = known ? page.pathname + page.search : '';
  }
}

/** The site's origin as the request names it (`next start` sets `X-Forwarded-Proto`); a Host that is not one gives `localhost`. */
function baseUrl(headers: Headers): URL {
  const scheme = headers.get('x-forwarded-proto') === 'https' ? 'https' : 'http';
  try {
    return new URL(`${scheme}://${headers.get('host') ?? 'localhost'}/`);
  } catch {
    return new URL(`${scheme}://localhost/`);
  }
}

/** `page` against `base`; undefined when it is none or not a URL (a forged Referer must not throw into the render). */
function pageUrl(page: string | null | undefined, base: URL): URL | undefined {
  if (!page) return undefined;
  try {
    return new URL(page, base);
  } catch {
    return undefined;
  }
}

/**
 * `headers` with the visitor cookie that `middleware.ts` minted for this very
 * request: Next hands a cookie middleware set to the request's `cookies()`,
 * not to its `Cookie` header, which the tracker reads like every adapter's.
 */
function withMiddlewareVisitor(headers: Headers, cookies: NextCookieStore, name: string): Headers {
  if (readCookie(headers.get('cookie') ?? undefined, name) !== undefined) return headers;
  const minted = cookies.get(name)?.value;
  if (!minted) return headers;
  const out = new Headers(headers);
  const cookie = headers.get('cookie');
  out.set('cookie', cookie ? `${cookie}; ${name}=${minted}` : `${name}=${minted}`);
  return out;
}

/** Each render's tracker, by its `headers()` object (one per request): a layout and its page share one. */
const trackers = new WeakMap<object, RequestTracker<Request, NextRender>>();

/** Resolved configs by their options (the page's `url` aside), so a render costs no option check. */
const configs = new RecentByOptions<MiddlewareConfig<Request, NextRender>>(16);

/**
 * The tracker of the request a server component or server action runs for,
 * read through `headers()` and `cookies()` from `next/headers`. Events are
 * sent after the response (`after()`, Next 15+), else handed to the client
 * at once. A server action can set the visitor cookie; a server component
 * cannot (Next forbids it): there, set it in `middleware.ts`.
 *
 * @example
 * const ours = await oursTracker({ client });
 * ours.track('Pricing Viewed');
 */
export async function oursTracker(
  options: OursTrackerOptions = {},
): Promise<RequestTracker<Request>> {
  if (options.url !== undefined && typeof options.url !== 'string')
    throw new OursConfigError('url', `must be a URL or a path, got ${typeof options.url}`);
  const { url: _page, ...appOptions } = options;
  const config = configs.get(appOptions, (o) =>
    resolveMiddlewareConfig<Request, NextRender>(o, renderResponse, NEXT_RENDER_SETUP),
  );
  const next = nextHeaders();
  const [headers, cookies] = await Promise.all([next.headers(), next.cookies()]);
  const existing = trackers.get(headers);
  if (existing) return existing; // a layout and its page: one tracker, one visitor
  const isAction = headers.has('next-action');
  const base = baseUrl(headers);
  const page = pageUrl(options.url ?? (isAction ? headers.get('referer') : undefined), base);
  const request = new Request(page ?? base, {
    headers: withMiddlewareVisitor(headers, cookies, config.cookieName),
  });
  const tracker = requestTracker(
    undefined,
    config,
    (req) => new RenderSource(req.headers, page ?? base, page !== undefined),
    { cookies, isAction, waitUntil: options.waitUntil, client: config.client },
    request,
    undefined,
  );
  trackers.set(headers, tracker);
  return tracker;
}
