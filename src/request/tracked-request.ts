import type { Decision } from './held-call';
import type { RequestContext } from './extract-context';
import type { RequestSource } from './request-source';

/** @internal */
export const kSource = Symbol('ours-middleware.source');
/** @internal */
export const kDecide = Symbol('ours-middleware.decide');
/** @internal */
export const kNoVisitorCookie = Symbol('ours-middleware.noVisitorCookie');

/**
 * What a request's held calls read of it when they are handed off: the
 * request's own state, which `RequestTracker` keeps because experiment calls
 * share it before any `track()` (the `skip` answer, a minted visitor).
 * Symbol-keyed, so `req.ours` shows none of it.
 * @internal
 */
export interface TrackedRequest {
  /** What was read from the request, on first read. */
  readonly context: Readonly<RequestContext>;
  /** The adapter's view of the request. */
  [kSource](): RequestSource;
  /**
   * `gpc: 'drop'`, `skip` and `identify`: whether the request sends, and as
   * whom (see `decide`). Reads the request now, so it may throw.
   */
  [kDecide](): Decision | Promise<Decision>;
  /** Why `setVisitorCookie` could not give a visitor (the headers were sent), when it could not. */
  readonly [kNoVisitorCookie]: string | undefined;
}
