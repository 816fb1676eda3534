import type { WaitUntil } from '../../src/request/web-response';
import { captureOr, handOffCapturing } from './delivery-slot';
import { onLongRunningNextServer } from './long-running';
import { nextAfter } from './next-server';

/** Where the platform keeps the request's `waitUntil`: Vercel's runtime, then Next's own. */
const REQUEST_CONTEXTS = [
  Symbol.for('@vercel/request-context'),
  Symbol.for('@next/request-context'),
];

/**
 * Runs `task` once the response has been sent, through Next's `after()`,
 * which keeps the function (and `next start` at SIGTERM) alive for the
 * promise it returns. False where there is no `after()` (Next 14, 15.0
 * without its flag) or it refuses this scope.
 */
export function runAfterResponse(task: () => Promise<unknown> | undefined): boolean {
  const after = nextAfter();
  if (!after) return false;
  try {
    after(task);
    return true;
  } catch {
    return false; // called outside a request scope, or unstable_after without experimental.after
  }
}

/**
 * Runs the hand-off `done` once the response has been sent (see
 * `runAfterResponse`), keeping the function alive for the delivery it starts
 * (see `handOffCapturing`), or, for events that joined the client's batches,
 * for `batched` (the flush that will take them). False where `after()` is
 * not there or refuses: the caller then hands off at the response's end.
 */
export function handOffAfterResponse(done: () => void, batched?: () => Promise<unknown>): boolean {
  return runAfterResponse(() => handOffCapturing(done) ?? batched?.());
}

/**
 * The request's `waitUntil`, where one exists: the middleware's
 * `NextFetchEvent`, else the one Vercel or Next's edge sandbox keep in the
 * request context (what `@vercel/functions`' `waitUntil` reads).
 */
export function requestWaitUntil(ctx: unknown): WaitUntil | undefined {
  const own = (ctx as { waitUntil?: unknown } | undefined)?.waitUntil;
  if (typeof own === 'function') return (promise) => void own.call(ctx, promise);
  const scope = globalThis as Record<
    symbol,
    { get?: () => { waitUntil?: unknown } | undefined } | undefined
  >;
  for (const key of REQUEST_CONTEXTS) {
    const store = scope[key]?.get?.();
    const waitUntil = store?.waitUntil;
    if (typeof waitUntil === 'function') return (promise) => void waitUntil.call(store, promise);
  }
  return undefined;
}

/**
 * The tracker's `waitUntil` for a Next request whose platform keeps `platform`
 * (none: see `requestWaitUntil`): a delivery of its own, started at the
 * hand-off, except on Next's own long-running server, where nothing freezes
 * the process after the response and the events join the client's batches
 * (undefined: no delivery of their own).
 */
export function deliveryWaitUntil(platform: WaitUntil | undefined): WaitUntil | undefined {
  return platform || !onLongRunningNextServer() ? captureOr(platform) : undefined;
}
