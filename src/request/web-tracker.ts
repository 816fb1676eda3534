import { kResponse, RequestTracker } from './tracker';
import { respondWith, type WebResponse } from './web-response';

/**
 * The tracker of a request on Web-standard APIs (fetch handlers, Next.js
 * route handlers): the core's tracker, plus `respond(response)`, which puts
 * its cookies on the `Response` the handler returns and hands its events off.
 * No constructor of its own: it takes the base tracker's arguments (a config
 * made with `webResponse`, and this request's `WebResponse`).
 *
 * @example
 * const ours = tracker(request, { client });
 * ours.track('Signed Up');
 * return ours.respond(Response.json({ ok: true }));
 */
export class WebRequestTracker<Req = Request> extends RequestTracker<Req, WebResponse> {
  /**
   * The response to return: `response` with this request's cookies (a
   * minted visitor, an opt-out), or the 302 of `redirect()`. It ends the
   * request for tracking: the calls made so far are handed to the client
   * (and their delivery to `waitUntil`); calls made later, while a streamed
   * body is still being written, are sent as they come. Call it once, on
   * every path that returns (a second call returns `response` unchanged).
   * A copy is returned when `response`'s headers cannot be changed.
   */
  respond(response: Response): Response {
    const added = this[kResponse].end();
    return added ? respondWith(response, added) : response;
  }
}
