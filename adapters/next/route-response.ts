import type { ResponseControl } from '../../src/request/response-control';
import { webResponse, type WebResponse } from '../../src/request/web-response';
import { handOffAfterResponse } from './delivery';
import { captureOr } from './delivery-slot';

/**
 * The tracker's view of a route handler's or middleware's response: the Web
 * response side (cookies and a redirect collected, then put on the
 * `Response` the handler returns), with the hand-off in `after()` where Next
 * has it (once the body is sent, a streamed one too), else when the handler
 * returns, its delivery handed to the request's `waitUntil`.
 */
export const routeResponse: ResponseControl<WebResponse> = {
  ...webResponse,
  onDone(side, done) {
    if (side.headersSent || !handOffAfterResponse(done)) webResponse.onDone(side, done);
  },
  waitUntil: (side) => captureOr(side.waitUntil),
};
