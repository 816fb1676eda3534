import { OursError } from '../../src/errors';
import type { ResponseControl } from '../../src/request/response-control';
import type { WaitUntil } from '../../src/request/web-response';
import type { OursClient } from '../../src/client';
import { batchWindow } from './batch-window';
import { deliveryWaitUntil, handOffAfterResponse, requestWaitUntil } from './delivery';
import { setCookieLine } from './cookie-line';
import type { NextCookieStore } from './next-server';

/**
 * A server component's or server action's side of the response: Next renders
 * it, so the tracker has no `Response`; cookies go through `cookies()`.
 */
export interface NextRender {
  /** `cookies()` of this request. */
  readonly cookies: NextCookieStore;
  /** A server action (`Next-Action` header) may set cookies; a server component may not (Next throws). */
  readonly isAction: boolean;
  /** The `waitUntil` option, which wins over the request context's. */
  readonly waitUntil: WaitUntil | undefined;
  /** The client it sends through. */
  readonly client: OursClient;
}

/**
 * The tracker's view of a render: cookies through `cookies().set()`, the
 * hand-off through `after()`. Not the Web response side (`routeResponse`):
 * there is no `Response` to put cookies on, and no end to wait for.
 */
export const renderResponse: ResponseControl<NextRender> = {
  headersSent: (render) => !render.isAction,
  noCookieReason: (_render, cookie) =>
    `a server component cannot set cookies (Next.js allows it only in server actions, route handlers and middleware). ${
      cookie === 'opt-out'
        ? 'Call optOut() in a server action or a route handler (the form or request by which the visitor opts out).'
        : 'Mint the visitor in middleware.ts, `export default withOurs(() => undefined, { client, setVisitorCookie: true })`: the page then reads it, in the same request.'
    }`,
  addCookie: (render, cookie) => setCookieLine(render.cookies, cookie),
  /** A server action's visitor that opted out: Next keeps one cookie per name, so the minted one becomes an expired one. */
  removeCookie(render, cookie) {
    render.cookies.delete(cookie.slice(0, cookie.indexOf('=')).trim());
  },
  redirect() {
    throw new OursError(
      "ours.redirect() cannot answer from a server component or action: call redirect(variant.redirect) from 'next/navigation'",
    );
  },
  /**
   * After the render where `after()` exists (Next 15+); else at once: a
   * server component has no response end to wait for, and the calls go to
   * the client (with the request context's `waitUntil` where there is one).
   */
  onDone(render, done) {
    const batched = waitUntilOf(render) ? undefined : () => batchWindow(render.client);
    if (!handOffAfterResponse(done, batched)) done();
  },
  waitUntil: waitUntilOf,
  holdEnd() {
    // flushOnResponse: Next renders the response; nothing to hold here.
  },
};

/** A render's own delivery (see `deliveryWaitUntil`), or undefined where its events join the client's batches. */
function waitUntilOf(render: NextRender): WaitUntil | undefined {
  return deliveryWaitUntil(render.waitUntil ?? requestWaitUntil(undefined));
}
