import type { WaitUntil } from '../../src/request/web-response';

/*
 * Where `after()`'s callback gets the request's delivery promise from. The
 * tracker hands a request's delivery to its response's `waitUntil` while the
 * hand-off runs, synchronously; `after()`'s callback must return that promise
 * (Next and Vercel keep the function alive for it), so for the length of that
 * one call the response's `waitUntil` captures it.
 */

let capture: WaitUntil | undefined;

/** Runs the hand-off `done`; returns the delivery it started, for `after()`'s callback to return. */
export function handOffCapturing(done: () => void): Promise<unknown> | undefined {
  let delivery: Promise<unknown> | undefined;
  const outer = capture;
  capture = (promise) => void (delivery = promise);
  try {
    done();
  } finally {
    capture = outer;
  }
  return delivery;
}

/**
 * The response's `waitUntil`: the capture while `handOffCapturing` runs,
 * else the request's own (`platform`), if any. Always a function, so the
 * tracker delivers at the hand-off rather than batching it into the turn.
 */
export function captureOr(platform: WaitUntil | undefined): WaitUntil {
  return (promise) => (capture ? capture(promise) : platform?.(promise));
}
