import { OursClient } from '../client';
import { kIsClosed, kWarn } from '../client/side-channels';
import { CLIENT_OPTIONS, type ClientOptions } from '../options';
import type { SetupWording } from './setup-wording';

/*
 * `ours(options)` without a `client` shares one client among the middlewares
 * made with identical client options (primitives by value, objects such as a
 * logger or a store by identity) while that client is open. One token and one
 * URL are one destination: two clients for it would only double the
 * connections and halve the batches. It also keeps the mistake of making the
 * middleware per request (`app.use((req, res, next) => ours(opts)(req, res, next))`)
 * from making a client, and an API request, per request. A client made with
 * `new OursClient()` and passed as `client` is never shared by this.
 */

/** Identity numbers for the objects in options (logger, fetch, store), held weakly. */
const ids = new WeakMap<object, number>();
let nextId = 0;
/** Open clients by the key of their options; a client that is collected or shut down is replaced. */
const shared = new Map<string, WeakRef<OursClient>>();

function idOf(value: object): number {
  let id = ids.get(value);
  if (id === undefined) ids.set(value, (id = ++nextId));
  return id;
}

/** A string equal for equal options: the values in `CLIENT_OPTIONS` order, objects by identity. */
function keyOf(options: ClientOptions): string {
  const parts: unknown[] = [];
  for (const name of CLIENT_OPTIONS) {
    const value = (options as Record<string, unknown>)[name];
    if (name === 'retry' && value !== null && typeof value === 'object')
      parts.push(JSON.stringify(value));
    else if (value !== null && (typeof value === 'object' || typeof value === 'function'))
      parts.push(`#${idOf(value)}`);
    else parts.push(value);
  }
  return JSON.stringify(parts);
}

/** The open client made earlier with these options, or a new one. */
export function sharedClient(options: ClientOptions): OursClient {
  const key = keyOf(options);
  const existing = shared.get(key)?.deref();
  if (existing && !existing[kIsClosed]()) return existing;
  const client = new OursClient(options);
  shared.set(key, new WeakRef(client));
  return client;
}

/**
 * More middlewares for one client than any app mounts: they are being made
 * per request. A count, not a rate, so a quiet app with the mistake is told too.
 */
const PER_REQUEST_COUNT = 20;
/** Middlewares made per client; -1 once it has been warned. */
const made = new WeakMap<OursClient, number>();

/**
 * Counts the middlewares made for each client and warns, once per client,
 * past `PER_REQUEST_COUNT`: made per request, the middleware re-checks every
 * option on every request (and, with a client made per request too, sends
 * one API request per event).
 */
export function noteMiddlewareMade(client: OursClient, wording: SetupWording): void {
  const count = made.get(client) ?? 0;
  if (count < 0) return;
  if (count + 1 < PER_REQUEST_COUNT) return void made.set(client, count + 1);
  made.set(client, -1);
  client[kWarn](
    `${wording.call} was called ${PER_REQUEST_COUNT} times for one client: it is being made per request ` +
      `(e.g. ${wording.perRequest}). ${wording.once}`,
  );
}
