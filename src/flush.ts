import type { QueuedEvent } from './queue';

/** What a `flush()` or `shutdown()` saw happen to the events it waited for. */
export interface FlushReport {
  /** Accepted by the API. */
  delivered: number;
  /** Given up: rejected by the API, out of retries, or cut off by a shutdown deadline. */
  failed: number;
  /** Never queued: invalid, or the queue was full. Counted since the previous flush. */
  dropped: number;
}

/**
 * One `flush()` call: counts down the events that were unsettled when it was
 * made. Events queued later are not its concern, so a flush under steady load
 * still ends. A waiter chains to the one before it, because the earlier
 * events are also "queued before" the later call.
 */
export class FlushWaiter {
  pending = 0;
  readonly report: FlushReport = { delivered: 0, failed: 0, dropped: 0 };
  readonly promise: Promise<FlushReport>;
  #resolve!: (report: FlushReport) => void;
  #done = false;

  constructor(readonly previous: FlushWaiter | undefined, dropped: number) {
    this.report.dropped = dropped;
    const own = new Promise<FlushReport>((resolve) => (this.#resolve = resolve));
    this.promise = previous
      ? Promise.all([previous.promise, own]).then(([before, mine]) => ({
          delivered: before.delivered + mine.delivered,
          failed: before.failed + mine.failed,
          dropped: before.dropped + mine.dropped,
        }))
      : own;
  }

  get done(): boolean {
    return this.#done;
  }

  /** Marks an event as one this flush waits for. */
  adopt(event: QueuedEvent): void {
    if (event.waiter) return; // an earlier waiter has it; we wait for that waiter
    event.waiter = this;
    this.pending++;
  }

  /** Records the fate of one adopted event; resolves when the last one settles. */
  settle(outcome: 'delivered' | 'failed'): void {
    this.report[outcome]++;
    this.pending--;
    this.resolveIfDone();
  }

  resolveIfDone(): void {
    if (this.pending === 0 && !this.#done) {
      this.#done = true;
      this.#resolve(this.report);
    }
  }
}
