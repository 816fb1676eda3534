/*
 * The tracker hands a request's delivery promise to the middleware config's
 * `waitUntil`, one function shared by every request; in Next the place to
 * keep a request alive is per request (its `after()` callback, its
 * `NextFetchEvent`, its request context). The hand-off is synchronous, so the
 * adapter points this slot at the request's sink for the length of that one
 * call.
 */

type Sink = ((delivery: Promise<unknown>) => void) | undefined;

let sink: Sink;

/** The config's `waitUntil`: this hand-off's delivery goes to the request's sink. */
export function toCurrentSink(delivery: Promise<unknown>): void {
  sink?.(delivery);
}

/**
 * Runs the hand-off `done` with `to` as the sink, and returns the delivery
 * promise it produced (for `after()`'s callback to return, which keeps the
 * function alive for it).
 */
export function deliverTo(to: Sink, done: () => void): Promise<unknown> | undefined {
  let delivery: Promise<unknown> | undefined;
  const outer = sink;
  sink = (promise) => {
    delivery = promise;
    to?.(promise);
  };
  try {
    done();
  } finally {
    sink = outer;
  }
  return delivery;
}
