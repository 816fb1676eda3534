import { within } from '../deadline';
import { OursError } from '../errors';
import type { EventStore } from '../stores/event-store';
import type { Dispatcher } from './dispatcher';
import type { FlushReport } from './flush-waiter';
import type { Flushes } from './flushes';
import type { PendingWork } from './pending-work';
import type { Ledger } from './ledger';

/** What `shutdown()` works through: the client's parts, and what only the facade holds. */
export interface ShutdownParts {
  readonly ledger: Ledger;
  readonly dispatcher: Dispatcher;
  readonly flushes: Flushes;
  readonly store: EventStore;
  /** The middleware's held calls (tracked before shutdown): handed over first. */
  readonly pendingWork: PendingWork;
  /** Accepts no more events; closes side services (experiments). */
  close(): void;
  report(err: OursError): void;
  /** Removes the process-wide signal listeners. */
  unwatchSignals(): void;
}

/**
 * `shutdown()`: stops accepting events, flushes, and resolves within
 * `timeoutMs` with what happened. Past the deadline, what is in flight is
 * cancelled and what waits is given up (a durable store keeps it), and
 * held `req.ours` calls are dropped; the store is then closed within what
 * is left of the deadline.
 */
export async function shutDown(parts: ShutdownParts, timeoutMs: number): Promise<FlushReport> {
  const { ledger, dispatcher, flushes, store } = parts;
  const endsAt = performance.now() + timeoutMs;
  const handing = parts.pendingWork.settle(); // before closing: they were tracked before shutdown()
  parts.close();
  dispatcher.closing(); // before the flush below: its partial batch has nothing left to wait for
  let waiter = flushes.queued(); // then joined by what async hooks hand over
  const flushing = handing
    ? handing.then(() => (waiter = flushes.queued(waiter)).promise)
    : waiter.promise;
  const inTime = await within(timeoutMs, flushing);
  if (!inTime) giveUp(parts, timeoutMs);
  // Past the deadline, hooks still pending are not waited for: their calls were dropped, joined here.
  const report = inTime ? await flushing : await flushes.queued(waiter).promise;
  // Closed: no delivery starts after this (a durable store may still find events; they stay stored).
  // One already in flight (a Redis store's claim) may land before the deadline: its ack is then recorded.
  stop(ledger, dispatcher);
  const left = (): number => Math.max(0, endsAt - performance.now());
  const landing = dispatcher.idle();
  if (landing) await within(left(), landing);
  dispatcher.cancel();
  const closing = store
    .close?.()
    .catch((err: Error) => parts.report(new OursError(`event store: ${err.message}`)));
  // A store writes on the thread pool too; what the file store has not written by the deadline, it writes at exit.
  if (closing) await within(left(), closing);
  parts.unwatchSignals();
  return report;
}

/**
 * Out of time: cancel what is in flight (whatever the thread pool or the
 * fetch function does) and give it up with what still waits, in one report
 * (a durable store keeps them for the next start).
 */
function giveUp({ ledger, dispatcher, flushes }: ShutdownParts, timeoutMs: number): void {
  stop(ledger, dispatcher); // hooks still pending give their calls up now: they do not wait past the deadline
  flushes.stopWaitingForRecovery();
  dispatcher.abandonAll(timeoutMs);
}

/** From the deadline on (or the end): nothing starts, and calls still waiting for their hooks are dropped. */
function stop(ledger: Ledger, dispatcher: Dispatcher): void {
  dispatcher.stop();
  ledger.dropHeld();
}
