import type { Reporter } from '../reporter';
import type { ClientStats, DropInfo } from '../stats';
import type { AwaitedEvent, FlushWaiter } from './flush-waiter';

/**
 * The client's books: what `stats()` reports, what the memory bound is
 * checked against, and which flush report each drop goes into.
 *
 * Invariant (`stats()`): every event tracked is, at any time, exactly one of
 * delivered, failed, dropped, queued (store or retry list), in flight, or
 * held (a `req.ours` call waiting for its response and hooks).
 *
 * Invariant (memory bound): every accepted event counts in `unsettled` and
 * `unsettledBytes` from the moment it is queued until it is settled, whether
 * it waits in the store, in the retry list, or in flight. The bound is
 * checked against that total, so retries cannot push memory past
 * `maxQueueSize` or `maxQueueBytes`: new events are dropped instead, and counted.
 */
export class Ledger {
  readonly counts = { tracked: 0, delivered: 0, retried: 0, failed: 0, dropped: 0 };
  /** `req.ours` calls tracked and not yet queued or dropped. */
  held = 0;
  /** Events accepted and not yet settled, and their `bytes`. */
  unsettled = 0;
  unsettledBytes = 0;
  /** Since the newest flush was made: whether a new one must be made, and the drops it reports. */
  appendsSinceFlush = 0;
  droppedSinceFlush = 0;
  /** The newest `flush()`: drops go into its report while it is pending. */
  waiter: FlushWaiter | undefined;
  readonly #reporter: Reporter;

  constructor(reporter: Reporter) {
    this.#reporter = reporter;
  }

  /** Whether one more event of `bytes` stays within the bound. */
  fits(bytes: number, maxCount: number, maxBytes: number): boolean {
    return this.unsettled < maxCount && this.unsettledBytes + bytes <= maxBytes;
  }

  /** An event was queued: it counts against the bound until settled. */
  queued(bytes: number): void {
    this.unsettled++;
    this.unsettledBytes += bytes;
    this.appendsSinceFlush++;
  }

  /** Events a durable store kept from an earlier process: tracked there, held and sent here. */
  recovered(events: readonly AwaitedEvent[], waiter: FlushWaiter | undefined): void {
    for (const event of events) {
      this.unsettled++;
      this.unsettledBytes += event.bytes;
      waiter?.adopt(event);
    }
    this.counts.tracked += events.length;
  }

  /** Events delivered or failed for good: off the bound, into the stats and their flush's report. */
  settled(events: readonly AwaitedEvent[], outcome: 'delivered' | 'failed'): void {
    for (const event of events) {
      this.unsettled--;
      this.unsettledBytes -= event.bytes;
      event.waiter?.settle(outcome);
    }
    this.counts[outcome] += events.length;
  }

  /** Events that will never be queued: counted, reported, and put in a flush report. */
  drop(reason: DropInfo['reason'], count: number, logMessage?: string): void {
    this.counts.dropped += count;
    // Into the pending flush's report (the newest: it reports last), else the next flush's.
    if (!this.waiter?.addDropped(count)) this.droppedSinceFlush += count;
    this.#reporter.drop({ reason, count }, this.counts.dropped, logMessage);
  }

  /** The drops not yet in any report, now taken by one. */
  takeDropped(): number {
    const dropped = this.droppedSinceFlush;
    this.droppedSinceFlush = 0;
    return dropped;
  }

  /** From a shutdown's deadline on: calls still waiting for their hooks are dropped now, never queued later. */
  dropHeld(): void {
    const held = this.held;
    this.held = 0;
    if (held > 0)
      this.drop(
        'shutdown',
        held,
        `shutdown deadline passed with ${held} req.ours calls waiting for their hooks: dropped`,
      );
  }

  stats(queued: number, inFlight: number, recovering: boolean): ClientStats {
    return { ...this.counts, queued, inFlight, held: this.held, recovering };
  }
}
