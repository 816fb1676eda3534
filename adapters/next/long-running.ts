import { hasStableAfter } from './next-server';

/*
 * Whether this process is Next's own long-running server (`next start`,
 * `next dev`, a standalone build's `server.js`) with the stable `after()`.
 * Next names the process when it starts one (`next-server (v15.5.0)`; dev's
 * render workers `next-render-worker-app`); a platform's function (Vercel, a
 * Lambda, an edge sandbox) never goes through that start. Nothing freezes
 * such a server after a response, so what a request tracks can join the
 * client's batches, as on Express, instead of a delivery of its own; and
 * on SIGTERM it waits for `after()`'s promises before it exits, which is
 * what keeps those batches (see `batchWindow`). Next 14 has no `after()`
 * and exits at once: there each request keeps a delivery of its own.
 */

const NEXT_SERVER_TITLES = ['next-server', 'next-render-worker'];

let longRunning: boolean | undefined;

/** Read once: Next names the process before it loads any route. */
export function onLongRunningNextServer(): boolean {
  longRunning ??= isNextServerTitle(globalThis.process?.title) && hasStableAfter();
  return longRunning;
}

function isNextServerTitle(title: unknown): boolean {
  return typeof title === 'string' && NEXT_SERVER_TITLES.some((name) => title.startsWith(name));
}
