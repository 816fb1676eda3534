import type { OursClient } from '../../src/client';

/** How long a request's events may wait for their window's flush: the client's default `flushIntervalMs`. */
const WINDOW_MS = 1000;

/** A client's open window: the flush that ends it, and whether `next start` has been told to wait for it. */
interface Window {
  readonly flushed: Promise<unknown>;
  kept: boolean;
}

/** Each client's open window. */
const windows = new WeakMap<OursClient, Window>();

function openWindow(client: OursClient): Window {
  let window = windows.get(client);
  if (!window) {
    const flushed = new Promise<void>((resolve) => setTimeout(resolve, WINDOW_MS).unref?.()).then(
      () => {
        windows.delete(client);
        return client.flush();
      },
    );
    window = { flushed, kept: false };
    windows.set(client, window);
  }
  return window;
}

/**
 * On a long-running Next server, what `after()` gets for a render whose
 * events joined the client's batches: the flush that ends the current
 * window, one per client and window however many requests share it. On
 * SIGTERM `next start` waits for `after()`'s promises before it exits, so
 * what the last requests tracked is delivered first (the client's own
 * signal handling starts that flush at once). The timer never keeps the
 * process alive.
 */
export function batchWindow(client: OursClient): Promise<unknown> {
  return openWindow(client).flushed;
}

/**
 * The same for route handlers, whose events join the batches as the
 * handler returns: `keep` hands the window's flush to `after()` once per
 * window, for whichever request comes first (Next awaits every request's
 * `after()` work in one list at shutdown, so one is enough); it says
 * whether it could, and a later request tries again if not.
 */
export function keepWindow(
  client: OursClient,
  keep: (flushed: () => Promise<unknown>) => boolean,
): void {
  const window = openWindow(client);
  if (!window.kept) window.kept = keep(() => window.flushed);
}
