/**
 * What a clean stop does to queued events (the `handleSignals` option, on by
 * default). One set of process listeners serves every client, installed with
 * the first client and removed with the last, so many clients add no
 * listeners and a shut-down client holds none. Process listeners never keep
 * the event loop alive.
 *
 * - First SIGTERM/SIGINT, no other listener for it: shut every client down
 *   (each within its `timeoutMs`), then raise the signal again, so the
 *   process ends as it would have (exit code 143 / 130 in a shell).
 * - First signal, and the app listens too: the app decides when to exit. We
 *   only start delivering (a flush that stops holding the process open after
 *   `timeoutMs`) and keep accepting the events its draining requests track.
 * - A second signal while delivering: not swallowed; what is left is counted
 *   on stderr and the signal is raised again at once (with no other listener).
 * - Process exit (`process.exit()` in an app's handler, or the loop running
 *   dry) with events still undelivered: one line per client saying how many
 *   and how to keep them.
 */

/** What the signal and exit listeners need of a client. */
export interface SignalClient {
  /** Stops and delivers within the client's deadline. */
  shutdown(): Promise<unknown>;
  /** Delivers what is queued without closing; stops holding the process open after the client's deadline. */
  deliverSoon(): void;
  /** Says how many events are still undelivered, if any; called as the process ends (synchronous). */
  reportUndelivered(): void;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

const clients = new Set<WeakRef<SignalClient>>();
/** A client dropped by the app without `shutdown()` leaves the set when it is collected. */
const collected = new FinalizationRegistry<WeakRef<SignalClient>>((ref) => forget(ref));
let installed = false;
let stopping = false;

function live(): SignalClient[] {
  const out: SignalClient[] = [];
  for (const ref of clients) {
    const client = ref.deref();
    if (client) out.push(client);
  }
  return out;
}

/** Another listener than ours: the app's own shutdown, which keeps control of exiting. */
function appListens(signal: NodeJS.Signals): boolean {
  return process.listeners(signal).some((l) => l !== onSignal);
}

function onSignal(signal: NodeJS.Signals): void {
  if (stopping) {
    // Second signal: the user wants out now.
    for (const client of live()) client.reportUndelivered();
    uninstall();
    if (!appListens(signal)) process.kill(process.pid, signal);
    return;
  }
  stopping = true;
  if (appListens(signal)) {
    for (const client of live()) client.deliverSoon();
    return;
  }
  void Promise.allSettled(live().map((c) => c.shutdown())).then(() => {
    uninstall();
    if (!appListens(signal)) process.kill(process.pid, signal);
  });
}

function onExit(): void {
  for (const client of live()) client.reportUndelivered();
}

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of SIGNALS) process.removeListener(s, onSignal);
  process.removeListener('exit', onExit);
}

function forget(ref: WeakRef<SignalClient>): void {
  clients.delete(ref);
  if (clients.size === 0 && !stopping) uninstall();
}

/**
 * Puts `client` under the signal and exit listeners; returns the function
 * that takes it out again (called when its `shutdown()` has finished, so an
 * exit in the middle of one still reports what it had not delivered).
 */
export function watchSignals(client: SignalClient): () => void {
  // Held weakly: the client itself must hold `client` (its hooks object) strongly.
  const ref = new WeakRef(client);
  clients.add(ref);
  collected.register(client, ref, ref);
  install();
  return () => {
    collected.unregister(ref);
    forget(ref);
  };
}
