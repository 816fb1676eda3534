/**
 * Counters of a client since it was made. At any moment
 * `tracked = delivered + failed + dropped + queued + inFlight`.
 */
export interface ClientStats {
  /** Calls of `track()` and `identify()`. */
  tracked: number;
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
  /** Events never queued: without a visitor, invalid, queue full, or tracked after shutdown. */
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
   */
  reason: 'no_visitor' | 'invalid' | 'queue_full' | 'shutdown' | StoreDropReason;
  /** How many events this drop covers. */
  count: number;
}
