import type { EventStore } from '../stores/event-store';
import type { Dispatcher } from './dispatcher';
import { FlushWaiter, type FlushReport } from './flush-waiter';
import type { Ledger } from './ledger';

/**
 * Makes `flush()` waiters: each adopts the events unsettled when it is made
 * (in the store, retrying, in flight, and those a durable store has yet to
 * recover), and chains to the one before it, so concurrent flushes share
 * the work and report in order.
 */
export class Flushes {
  readonly #ledger: Ledger;
  readonly #store: EventStore;
  readonly #dispatcher: Dispatcher;
  /** While the store recovers: the flushes made meanwhile, which wait for its end; the first adopts what it finds. */
  #recovering: FlushWaiter[] | undefined;

  constructor(ledger: Ledger, store: EventStore, dispatcher: Dispatcher) {
    this.#ledger = ledger;
    this.#store = store;
    this.#dispatcher = dispatcher;
  }

  get recovering(): boolean {
    return this.#recovering !== undefined;
  }

  /** The store started recovering: flushes wait for what it finds until `recoveryOver()`. */
  recoveryStarted(): void {
    this.#recovering = [];
  }

  /** The flush that adopts events the store recovers now, if one waits. */
  get recoveryWaiter(): FlushWaiter | undefined {
    return this.#recovering?.[0];
  }

  /** The store has read all it had: the flushes that waited for it wait for its events only. */
  recoveryOver(): void {
    this.stopWaitingForRecovery();
    this.#recovering = undefined;
  }

  /** Past the shutdown deadline: what the store has not found by now stays in it, for the next start. */
  stopWaitingForRecovery(): void {
    for (const waiter of this.#recovering?.splice(0) ?? []) waiter.release();
  }

  /**
   * The flush of what is queued now; `after`: the waiter of the same flush,
   * joined even when done. `join`: only a platform waits for it (a request's
   * `waitUntil`), so its events may join the batch in flight (see JoinWindow).
   */
  queued(after?: FlushWaiter, join = false): FlushWaiter {
    const ledger = this.#ledger;
    // A waiter whose own events are settled may still wait for one before it: chain to it until it has reported.
    const previous =
      after ?? (ledger.waiter && !ledger.waiter.reported ? ledger.waiter : undefined);
    if (previous && ledger.appendsSinceFlush === 0 && ledger.droppedSinceFlush === 0) {
      // Awaited now: what it waits for no longer waits to join the batch in flight, though a delivery only a
      // platform waits for made it (a turn's, which the flush's drain of the hand-offs ran just before).
      if (!join && !previous.done) this.#dispatcher.sendNow();
      return previous;
    }
    const waiter = new FlushWaiter(previous, ledger.takeDropped());
    ledger.appendsSinceFlush = 0;
    this.#store.forEach((e) => waiter.adopt(e));
    this.#dispatcher.forEachTaken((e) => waiter.adopt(e));
    if (this.#recovering) {
      waiter.hold(); // what the store has yet to find was queued before this call too
      this.#recovering.push(waiter);
    }
    waiter.resolveIfDone();
    if (waiter.done && !previous) return waiter;
    ledger.waiter = waiter;
    this.#dispatcher.keepAlive(true);
    void waiter.promise.then(() => ledger.waiter?.done && this.#dispatcher.keepAlive(false));
    this.#dispatcher.sendNow(!join);
    return waiter;
  }

  /**
   * A `flush()` call: what is queued now, and then what `handing` (the
   * middleware's calls still waiting for an async hook) hands over, which
   * joins this flush (events queued now may be delivered meanwhile).
   */
  flush(handing: Promise<void> | undefined): Promise<FlushReport> {
    if (this.#dispatcher.stopped) return Promise.resolve(this.emptyReport()); // shut down: nothing will be sent any more
    const queued = this.queued();
    return handing ? handing.then(() => this.queued(queued).promise) : queued.promise;
  }

  /** A report with nothing delivered or failed: the drops since the last one. */
  emptyReport(): FlushReport {
    return { delivered: 0, failed: 0, dropped: this.#ledger.takeDropped() };
  }
}
