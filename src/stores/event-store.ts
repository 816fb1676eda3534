import type { StoreDropReason } from '../stats';

/** Where an event goes: a `/batch` row, or a request of its own. */
export type EventPath = '/batch' | '/track' | '/identify';

/** One checked event, serialised once when queued. */
export interface QueuedEvent {
  /** The event's JSON without the token (spliced in per request). */
  readonly json: string;
  /** Size counted against the queue bound (UTF-16 length of `json`: cheap and close to bytes). */
  readonly bytes: number;
  readonly path: EventPath;
  /** Where a durable store keeps it (segment offset, stream id); the store's own business. */
  key?: unknown;
}

/** What the client gives a store when it starts using it. */
export interface StoreHooks {
  /** Events found from an earlier process, now waiting in the store: the client counts and sends them. */
  recovered(events: readonly QueuedEvent[]): void;
  /**
   * Events the store gave up, counted as dropped; `why` is logged.
   * `reason`: `expired` (too old for the API's 7-day window) or `corrupt`
   * (unreadable); a store that cannot tell leaves it out, and the drop is
   * reported as `corrupt` (what the store found could not be sent). @defaultValue 'corrupt'
   */
  dropped(count: number, why: string, reason?: StoreDropReason): void;
  /** A store failure that lost nothing yet but needs attention (disk full, Redis down). */
  error(err: Error): void;
}

/**
 * Holds events from `track()` until the API has them. The in-memory store is
 * the default; a durable store implements the same contract, persisting in
 * the background so that no call on it blocks or throws into the hot path.
 *
 * Life of an event: `append` → `lease` (in a request) → `ack` once settled
 * (delivered, or failed for good). A leased event that is never acked (the
 * process died) is the durable store's to deliver again after a restart.
 * `lease`, `forEach` and `ack` hand back the very objects the store was given
 * (by `append` or `hooks.recovered`): the client keeps its own bookkeeping on them.
 */
export interface EventStore {
  /** True when events outlive the process; `shutdown()` then leaves undelivered ones stored. */
  readonly durable: boolean;
  /** Events waiting (not leased). */
  readonly count: number;
  /** Their `bytes`, summed. */
  readonly bytes: number;
  /** Queues an event; false when the store's own bound (e.g. bytes on disk) is reached. */
  append(event: QueuedEvent): boolean;
  /**
   * Takes up to `maxCount` events (and, beyond the first, up to `maxBytes`)
   * from the head, all bound for the head event's path; an event bound for
   * `/track` or `/identify` is a request of its own, so it is leased alone.
   */
  lease(maxCount: number, maxBytes: number): QueuedEvent[];
  /** Settled for good: a durable store forgets them. */
  ack(events: readonly QueuedEvent[]): void;
  /** Visits every waiting event, oldest first. */
  forEach(visit: (event: QueuedEvent) => void): void;
  /**
   * Called once by the client; a durable store recovers here, and returns a
   * promise that settles when recovery is over: until then `flush()` waits
   * for what it may still find, and `stats().recovering` is true.
   */
  open?(hooks: StoreHooks): void | Promise<void>;
  /** Writes out what is buffered and releases files or connections. */
  close?(): Promise<void>;
}
