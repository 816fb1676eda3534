import type { QueuedEvent } from '../stores/event-store';

/** What a `flush()` or `shutdown()` saw happen to the events it waited for. */
export interface FlushReport {
  /** Accepted by the API. */
  delivered: number;
  /** Given up: rejected by the API, out of retries, or cut off by a shutdown deadline. */
  failed: number;
  /**
   * Never queued: invalid, or the queue was full. Counts the drops since the
   * previous report up to this one's: every drop is in exactly one report
   * (the first made after it, or the one pending when it happened).
   */
  dropped: number;
}

/**
 * A queued event as the client keeps it: the store's event, plus the newest
 * `flush()` waiting for it. Stores never read `waiter`; they hand back the
 * objects they were given, so it stays on the event until it settles.
 */
export interface AwaitedEvent extends QueuedEvent {
  waiter?: FlushWaiter | undefined;
}

/**
 * One `flush()` call: counts down the events that were unsettled when it was
 * made. Events queued later are not its concern, so a flush under steady load
 * still ends. A waiter chains to the one before it, because the earlier
 * events are also "queued before" the later call.
 */
export class FlushWaiter {
  pending = 0;
  readonly promise: Promise<FlushReport>;
  /** This waiter's own counts; its report adds those of the waiters before it. */
  readonly #own: FlushReport;
  #resolve!: () => void;
  #done = false;
  #reported = false;

  constructor(previous: FlushWaiter | undefined, dropped: number) {
    this.#own = { delivered: 0, failed: 0, dropped };
    const own = new Promise<void>((resolve) => (this.#resolve = resolve));
    this.promise = Promise.all([previous?.promise, own]).then(([before]) => {
      this.#reported = true;
      const { delivered, failed, dropped } = this.#own;
      if (!before) return { delivered, failed, dropped };
      return {
        delivered: before.delivered + delivered,
        failed: before.failed + failed,
        dropped: before.dropped + dropped,
      };
    });
  }

  /** Every event it adopted is settled (it may still wait for the waiters before it). */
  get done(): boolean {
    return this.#done;
  }

  /** Its report has been handed out: what happens from now on belongs to a later one. */
  get reported(): boolean {
    return this.#reported;
  }

  /** Marks an event as one this flush waits for. */
  adopt(event: AwaitedEvent): void {
    if (event.waiter) return; // an earlier waiter has it; we wait for that waiter
    event.waiter = this;
    this.pending++;
  }

  /** Keeps it pending for something other than an event (a store still recovering) until `release()`. */
  hold(): void {
    this.pending++;
  }

  release(): void {
    this.pending--;
    this.resolveIfDone();
  }

  /** Records the fate of one adopted event; resolves when the last one settles. */
  settle(outcome: 'delivered' | 'failed'): void {
    this.#own[outcome]++;
    this.pending--;
    this.resolveIfDone();
  }

  /** Drops counted while this flush is pending go into its report; false once it has been handed out. */
  addDropped(count: number): boolean {
    if (this.#reported) return false;
    this.#own.dropped += count;
    return true;
  }

  resolveIfDone(): void {
    if (this.pending === 0 && !this.#done) {
      this.#done = true;
      this.#resolve();
    }
  }
}
