/**
 * Counters of a client since it was made. At any moment
 * `tracked = delivered + failed + dropped + queued + inFlight + held`.
 */
export interface ClientStats {
  /** Calls of `track()` and `identify()`, on the client or on `req.ours` (counted when made). */
  tracked: number;
  /**
   * `req.ours` calls held by their request: until its response ends (a
   * streaming download holds them to its end), then while async hooks run.
   * `flush()` and `shutdown()` take them.
   */
  held: number;
  /** Events waiting to be sent, retries included. */
  queued: number;
  /** Events in requests that have not answered yet. */
  inFlight: number;
  /** Events the API accepted. */
  delivered: number;
  /** Event sends that failed and were scheduled again (an event retried twice counts twice). */
  retried: number;
  /** Events given up: rejected by the API, out of retries, or cut off by a shutdown deadline. */
  failed: number;
  /** Events never queued: without a visitor, invalid, queue full, tracked after shutdown, filtered by a hook, or a hook failed. */
  dropped: number;
  /**
   * A durable store is still reading what an earlier process left: the
   * events it finds are counted (in `tracked` and `queued`) as they are
   * found, and `flush()` waits for the end of it.
   */
  recovering: boolean;
}

/** Why a durable store gave up events it found (see {@link DropInfo}). */
export type StoreDropReason = 'expired' | 'corrupt';

/** Why events were dropped, as the `drop` event reports it. */
export interface DropInfo {
  /**
   * `no_visitor`: the event named no visitor (no `ours_device_id` cookie, no
   * `userId`, `externalId` or `email`). `invalid`: it broke the contract in
   * another way. `expired`: a durable store found it older than the API's
   * 7-day window. `corrupt`: a durable store could not read it back (a
   * record torn by a crash, changed bytes, an entry that is not one of ours).
   * `filtered`: the app chose not to send it (`skip`, `gpc: 'drop'`,
   * `beforeSend` returned `null`). `hook_failed`: `skip`, `identify` or
   * `beforeSend` threw, rejected or did not settle in time (also an `error`).
   */
  reason:
    | 'no_visitor'
    | 'invalid'
    | 'queue_full'
    | 'shutdown'
    | 'filtered'
    | 'hook_failed'
    | StoreDropReason;
  /** How many events this drop covers. */
  count: number;
}
