/** Something that can be shut down within a deadline. */
interface Closable {
  shutdown(options?: { timeoutMs?: number }): Promise<unknown>;
}

const SIGNALS = ['SIGTERM', 'SIGINT'] as const;

/**
 * On SIGTERM or SIGINT, shuts the client down (flushing within its deadline)
 * and then lets the signal do what it would have done: when no other listener
 * handles it, it is raised again so the process exits with the usual code.
 * An app with its own handler keeps control of when to exit.
 * Returns a function that removes the listeners.
 */
export function shutdownOnSignals(client: Closable): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    remove();
    void client.shutdown().finally(() => {
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  };
  const remove = (): void => {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return remove;
}
