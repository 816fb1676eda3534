import type { OursClient } from '../../src/client';
import type { ResponseControl } from '../../src/request/response-control';
import { webResponse, type WebResponse } from '../../src/request/web-response';
import { batchWindow } from './batch-window';
import { deliveryWaitUntil, handOffAfterResponse } from './delivery';

/**
 * The tracker's view of a route handler's or middleware's response: the Web
 * response side (cookies and a redirect collected, then put on the
 * `Response` the handler returns), with the hand-off in `after()` where Next
 * has it (once the body is sent, a streamed one too), else when the handler
 * returns. Its delivery goes to the request's `waitUntil`, or, on Next's own
 * long-running server, into the client's batches (see `deliveryWaitUntil`).
 * `clientOf`: the client it sends through.
 */
export function routeResponse(clientOf: () => OursClient): ResponseControl<WebResponse> {
  const batched = (): Promise<unknown> => batchWindow(clientOf());
  return {
    ...webResponse,
    onDone(side, done) {
      const window = deliveryWaitUntil(side.waitUntil) ? undefined : batched;
      if (side.headersSent || !handOffAfterResponse(done, window)) webResponse.onDone(side, done);
    },
    waitUntil: (side) => deliveryWaitUntil(side.waitUntil),
  };
}
