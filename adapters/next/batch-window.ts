import type { OursClient } from '../../src/client';

/** How long a request's events may wait for their window's flush: the client's default `flushIntervalMs`. */
const WINDOW_MS = 1000;

/** Each client's open window: the flush that ends it. */
const windows = new WeakMap<OursClient, Promise<unknown>>();

/**
 * On a long-running Next server, what `after()` gets for a request whose
 * events joined the client's batches: the flush that ends the current
 * window, one per client and window however many requests share it. On
 * SIGTERM `next start` waits for `after()`'s promises before it exits, so
 * what the last requests tracked is delivered first (the client's own
 * signal handling starts that flush at once). The timer never keeps the
 * process alive.
 */
export function batchWindow(client: OursClient): Promise<unknown> {
  let window = windows.get(client);
  if (!window) {
    window = new Promise<void>((resolve) => setTimeout(resolve, WINDOW_MS).unref?.()).then(() => {
      windows.delete(client);
      return client.flush();
    });
    windows.set(client, window);
  }
  return window;
}
