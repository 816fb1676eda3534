/*
 * A client made per request (`new OursClient()` in a handler, or
 * `ours({ client: new OursClient(...) })` there) sends one API request per
 * event, keeps a timer and listeners per request, and loses what it holds
 * when nothing shuts it down. Nothing fails, so nothing says so: this counts
 * the clients made for each destination (API URL and token) and warns, once,
 * when many are open at once and were made within a short time. Counted when
 * a client is made and shut down, never on a request.
 */

/** More open clients for one destination than any app needs (one, or one per tenant store). */
export const MANY_CLIENTS = 10;
/** "In a short time": the clients counted were all made within this window. */
const WINDOW_MS = 60_000;
/** Destinations counted at once, so the map stays small whatever an app does. */
const MAX_DESTINATIONS = 64;

interface Census {
  /** Made and not shut down. */
  open: number;
  /** Made since `since`. */
  made: number;
  /** Start of the current window (`performance.now()`). */
  since: number;
  warned: boolean;
}

const byDestination = new Map<string, Census>();

/**
 * Counts a client made for `destination`; `warn` is called once per
 * destination when `MANY_CLIENTS` made within a minute are open. Returns
 * what the client calls when it shuts down.
 */
export function countClient(destination: string, warn: (message: string) => void): () => void {
  const now = performance.now();
  let census = byDestination.get(destination);
  if (!census) {
    if (byDestination.size >= MAX_DESTINATIONS) byDestination.clear();
    byDestination.set(destination, (census = { open: 0, made: 0, since: now, warned: false }));
  }
  if (now - census.since > WINDOW_MS) {
    census.since = now;
    census.made = 0;
  }
  census.open++;
  census.made++;
  if (!census.warned && census.made >= MANY_CLIENTS && census.open >= MANY_CLIENTS) {
    census.warned = true;
    warn(
      `${census.open} OursClient instances for one token and API URL are open, made within a minute: a client is being made per request ` +
        '(`new OursClient()` in a handler, or `ours({ client: new OursClient({...}) })` there), which sends one API request per event and loses what it holds on exit. ' +
        'Make one client at startup, in a module of its own (`export const client = new OursClient({...})`), pass it everywhere (`ours({ client })`), and call `client.shutdown()` on exit.',
    );
  }
  let counted = true;
  return () => {
    if (!counted) return;
    counted = false;
    census.open--;
  };
}
