import type { ResponseControl } from '../../src/request/response-control';
import type { WebResponse } from '../../src/request/web-response';
import { handOffAfterResponse } from './delivery';
import { deliverTo } from './delivery-slot';

/**
 * The tracker's view of a route handler's or middleware's response: cookies
 * and a redirect collected on the Web response side and put on the
 * `Response` the handler returns. The hand-off runs in `after()` where Next
 * has it (once the body is sent, a streamed one too), else when the handler
 * returns, with its delivery handed to the request's `waitUntil`.
 */
export const routeResponse: ResponseControl<WebResponse> = {
  headersSent: (side) => side.headersSent,
  addCookie: (side, cookie) => side.addCookie(cookie),
  redirect: (side, location) => side.redirect(location),
  onDone(side, done) {
    if (side.headersSent || !handOffAfterResponse(() => deliverTo(undefined, done))) side.onDone(() => deliverTo(side.waitUntil, done));
  },
  holdEnd() {
    // refused in withOurs(): a returned Response cannot be held back.
  },
};
