import { OursError } from '../errors';
import type { Reporter } from '../reporter';
import type { EventStore } from '../stores/event-store';
import type { Dispatcher } from './dispatcher';
import type { Flushes } from './flushes';
import type { Ledger } from './ledger';

/**
 * Starts using `store`: what a durable store recovers from an earlier
 * process is counted and sent like new events, what it gives up is counted
 * as dropped, and flushes made while it recovers wait for what it may find.
 */
export function openStore(
  store: EventStore,
  ledger: Ledger,
  flushes: Flushes,
  dispatcher: Dispatcher,
  reporter: Reporter,
): void {
  const opened = store.open?.({
    recovered: (events) => {
      ledger.recovered(events, flushes.recoveryWaiter);
      dispatcher.sendNow();
    },
    dropped: (count, why, reason = 'corrupt') => {
      ledger.counts.tracked += count; // tracked by an earlier process, like recovered events
      ledger.drop(reason, count, why);
    },
    error: (err) => reporter.error(new OursError(`event store: ${err.message}`)),
  });
  if (!opened) return;
  flushes.recoveryStarted();
  const over = (): void => flushes.recoveryOver();
  opened.then(over, over);
}
