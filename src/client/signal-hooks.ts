import type { Logger } from '../logger';
import type { SignalClient } from '../signals';
import type { EventStore } from '../stores/event-store';
import type { Dispatcher } from './dispatcher';
import type { Ledger } from './ledger';
import type { PendingWork } from './pending-work';

/** What `signalHooks` works with. */
export interface SignalParts {
  readonly ledger: Ledger;
  readonly dispatcher: Dispatcher;
  readonly store: EventStore;
  readonly pendingWork: PendingWork;
  readonly logger: Logger;
  readonly timeoutMs: number;
}

/**
 * What the process-wide signal and exit listeners call (see `signals.ts`).
 * The client holds the object; the listeners hold it weakly.
 */
export function signalHooks(
  client: { shutdown(): Promise<unknown>; flush(): Promise<unknown> },
  parts: SignalParts,
): SignalClient {
  return {
    shutdown: () => client.shutdown(),
    // A signal the app handles itself: deliver now, but let the app's own exit happen.
    deliverSoon: () => {
      void client.flush();
      setTimeout(() => parts.dispatcher.release(), parts.timeoutMs).unref?.();
    },
    reportUndelivered: () => reportUndelivered(parts),
  };
}

/** The process is ending: says what it takes with it, once, synchronously. */
function reportUndelivered({ ledger, dispatcher, store, pendingWork, logger }: SignalParts): void {
  pendingWork.drain(); // responses already sent whose events still wait for the end of the turn
  const left = dispatcher.queuedCount + dispatcher.inFlightCount + ledger.held;
  if (left === 0) return;
  const fate = store.durable
    ? 'the durable store keeps them for the next start'
    : 'they are lost. To deliver them, `await client.shutdown()` (or `tracking.client.shutdown()`) before the process exits';
  const events = left === 1 ? '1 event was' : `${left} events were`;
  logger.error({ undelivered: left }, `${events} not delivered before the process exited: ${fate}`);
}
