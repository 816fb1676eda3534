import type { OursClient } from '../../src/client';
import type { ResponseControl } from '../../src/request/response-control';
import { webResponse, type WebResponse } from '../../src/request/web-response';
import { keepWindow } from './batch-window';
import { deliveryWaitUntil, handOffAfterResponse, runAfterResponse } from './delivery';

/**
 * The tracker's view of a route handler's or middleware's response: the Web
 * response side (cookies and a redirect collected, then put on the
 * `Response` the handler returns). Where the request has a delivery of its
 * own (see `deliveryWaitUntil`), the hand-off is when the handler returns
 * and the delivery goes to the platform's `waitUntil`; without one, through
 * `after()` where Next has it (once the body is sent, a streamed one too),
 * which keeps the function alive for it. On Next's own long-running server
 * the events join the client's batches as the handler returns. `clientOf`:
 * the client it sends through.
 */
export function routeResponse(clientOf: () => OursClient): ResponseControl<WebResponse> {
  return {
    ...webResponse,
    onDone(side, done) {
      if (!deliveryWaitUntil(side.waitUntil)) {
        // Next's long-running server: the events join the batches as the handler returns; one after()
        // per window keeps `next start` up at SIGTERM for their flush (one per request cost more than the event).
        keepWindow(clientOf(), runAfterResponse);
        return webResponse.onDone(side, done);
      }
      // With the platform's own waitUntil (Vercel's request context, middleware's event) the hand-off is as the
      // handler returns, its delivery kept alive by that waitUntil: what after() would do, at a fraction of its cost.
      if (side.waitUntil || side.headersSent || !handOffAfterResponse(done))
        webResponse.onDone(side, done);
    },
    waitUntil: (side) => deliveryWaitUntil(side.waitUntil),
  };
}
