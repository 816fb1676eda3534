import { OursError } from '../../src/errors';
import type { ResponseControl } from '../../src/request/response-control';
import type { WaitUntil } from '../../src/request/web-response';
import { handOffAfterResponse, requestWaitUntil } from './delivery';
import { captureOr } from './delivery-slot';
import type { NextCookieOptions, NextCookieStore } from './next-server';

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
}

/** The attributes of a `Set-Cookie` line, as `cookies().set()` takes them. */
function cookieOptions(attributes: string[]): NextCookieOptions {
  const options: NextCookieOptions = {};
  for (const attribute of attributes) {
    const [key = '', value = ''] = attribute.split('=');
    switch (key.trim().toLowerCase()) {
      case 'path':
        options.path = value;
        break;
      case 'max-age':
        options.maxAge = Number(value);
        break;
      case 'domain':
        options.domain = value;
        break;
      case 'samesite':
        options.sameSite = value.toLowerCase() === 'none' ? 'none' : 'lax';
        break;
      case 'secure':
        options.secure = true;
        break;
      case 'httponly':
        options.httpOnly = true;
        break;
    }
  }
  return options;
}

/**
 * The tracker's view of a render: cookies through `cookies().set()`, the
 * hand-off through `after()`. Not the Web response side (`routeResponse`):
 * there is no `Response` to put cookies on, and no end to wait for.
 */
export const renderResponse: ResponseControl<NextRender> = {
  headersSent: (render) => !render.isAction,
  addCookie(render, cookie) {
    // The tracker's own cookies (visitor id, opt-out): a name, a URL-safe value, known attributes.
    const [pair = '', ...attributes] = cookie.split(';');
    const eq = pair.indexOf('=');
    render.cookies.set(
      pair.slice(0, eq).trim(),
      pair.slice(eq + 1).trim(),
      cookieOptions(attributes),
    );
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
  onDone(_render, done) {
    if (!handOffAfterResponse(done)) done();
  },
  waitUntil: (render) => captureOr(render.waitUntil ?? requestWaitUntil(undefined)),
  holdEnd() {
    // flushOnResponse: Next renders the response; nothing to hold here.
  },
};
