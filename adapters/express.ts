/**
 * Express 4 and 5 adapter: `app.use(ours(...))` puts a request-scoped
 * tracker on `req.ours`. Only the framework's request is translated here;
 * everything else lives in the core.
 */
import { IncomingMessage, type ServerResponse } from 'node:http';
import type { Request } from 'express';
import type { OursClient } from '../src/client';
import type { MiddlewareOptions } from '../src/request/middleware-options';
import type { RequestSource } from '../src/request/request-source';
import { forwardedIp, type TrustFunction } from '../src/request/client-ip';
import { firstValue, trustThrew } from '../src/request/proxied-source';
import { requestTracker, type RequestTracker } from '../src/request/tracker';
import { resolveMiddlewareConfig } from '../src/request/middleware-config';
import { nodeResponse } from '../src/request/node-response';
import { EXPRESS_SETUP } from '../src/request/setup-wording';
import { defineOursAccessor, storedTracker, storeTracker } from '../src/request/unmounted';

/**
 * Express's request, as option callbacks (`skip`, `identify`, `beforeSend`,
 * `clientIp`) receive it: with your own augmentations (`req.user`, ...).
 */
export type ExpressRequest = Request;

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      /** The Ours tracker for this request (ours-middleware). */
      ours: RequestTracker<ExpressRequest>;
    }
  }
}

/** Options of the Express middleware; `req` in callbacks is Express's request. */
export type OursExpressOptions = MiddlewareOptions<ExpressRequest>;

/** The middleware, with the client it sends through. */
export interface OursExpressMiddleware {
  (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void;
  /** The client behind this middleware: flush or shut it down on exit. */
  readonly client: OursClient;
}

/**
 * Reads an Express request; made when the request first tracks, every member
 * lazy. Protocol, host and IP follow Express's own getters (4 and 5 alike),
 * but read the headers directly and ask the app's trust function about the
 * socket's peer once: `req.protocol`, `req.hostname` and `req.ip` each call
 * it, and `req.hostname` goes through `req.get` twice.
 */
class ExpressSource implements RequestSource {
  readonly url: string;
  /** Node builds `req.headers` in a getter; one read instead of one per header. */
  readonly #headers: IncomingMessage['headers'];
  /**
   * The app's compiled `trust proxy`, read at the first track(): inside a
   * mounted sub-app `req.app` is that app (with its own setting) only until
   * its router is done with the request. Undefined outside an Express app.
   */
  readonly #trust: TrustFunction | undefined;
  /** `trust(socketAddress, 0)`: whether Express reads the forwarding headers at all. */
  #peerTrusted: boolean | undefined;
  /** What the app's own getters said, for those it redefines (see `appGetters`); read at the first track(), as `#trust`. */
  readonly #app: AppGetters | undefined;
  constructor(
    private readonly req: ExpressRequest,
    readonly socketAddress: string | undefined,
    private readonly trustThrew: (err: unknown) => void,
  ) {
    this.#headers = req.headers;
    this.#trust = req.app?.get('trust proxy fn') as TrustFunction | undefined;
    this.url = req.originalUrl ?? req.url ?? '/';
    this.#app = appGetters(req);
  }
  header(name: string): string | undefined {
    const value = this.#headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  /**
   * Express's `req.ip` (proxy-addr over X-Forwarded-For with the app's trust
   * function), from the socket address read when the request started:
   * Express reads the socket, which is empty once the client has gone.
   */
  ip(): string | undefined {
    if (this.#app?.ip) return this.#app.ip.value;
    // proxy-addr stops at an untrusted peer: the socket's address is the answer.
    if (!this.#trust || this.socketAddress === undefined || !this.#trustsPeer())
      return this.socketAddress;
    try {
      return forwardedIp(this.socketAddress, this.header('x-forwarded-for'), this.#trust);
    } catch (err) {
      this.trustThrew(err); // at a hop past the peer: the peer is the last address known to be real
      return this.socketAddress;
    }
  }
  /** Express's `req.protocol`: `X-Forwarded-Proto`'s first value from a trusted peer. */
  protocol(): string | undefined {
    if (this.#app?.protocol) return this.#app.protocol.value;
    if (!this.#trust) return this.req.protocol;
    const own = (this.req.socket as { encrypted?: boolean } | undefined)?.encrypted
      ? 'https'
      : 'http';
    if (!this.#trustsPeer()) return own;
    return firstValue(this.header('x-forwarded-proto') || own).trim();
  }
  /**
   * Express's `req.hostname` (`X-Forwarded-Host`'s first value from a
   * trusted peer, else Host; without the port), with the port of the Host
   * header put back when the hostname came from it: Express 4 drops it and
   * deprecates `req.host`.
   */
  host(): string | undefined {
    if (this.#app?.hostname) return hostWithPort(this.#app.hostname.value, this.#headers.host);
    if (!this.#trust) return hostWithPort(this.req.hostname, this.#headers.host);
    const forwarded = this.header('x-forwarded-host');
    const host =
      forwarded && this.#trustsPeer() ? firstValue(forwarded).trimEnd() : this.#headers.host;
    return hostWithPort(host ? withoutPort(host) : undefined, this.#headers.host);
  }
  /** Asked as Express asks it, with the peer's address (undefined once the client has gone). */
  #trustsPeer(): boolean {
    if (this.#peerTrusted === undefined) {
      try {
        this.#peerTrusted = Boolean(this.#trust!(this.socketAddress as string, 0));
      } catch (err) {
        this.trustThrew(err); // the app's function: the event goes on as if the peer were untrusted
        this.#peerTrusted = false;
      }
    }
    return this.#peerTrusted;
  }
}

/** The app's answers, for the getters it redefines: `{ value }`, so an answer of `undefined` counts too. */
type AppGetters = Partial<Record<'protocol' | 'hostname' | 'ip', { value: string | undefined }>>;

/**
 * The getters `ExpressSource` computes itself, and which of them follows
 * each: Express 5's `req.hostname` reads `req.host`.
 */
const COMPUTED = [
  ['protocol', 'protocol'],
  ['hostname', 'hostname'],
  ['host', 'hostname'],
  ['ip', 'ip'],
] as const;

/** Per request prototype (an app's `app.request`): the getters of `COMPUTED` the app redefines, if any. */
const redefinedBy = new WeakMap<object, readonly (keyof AppGetters)[]>();

/**
 * An app may redefine `req.protocol`, `req.hostname` (Express 5: `req.host`)
 * or `req.ip` (on `app.request`, on `express.request`, or on one request),
 * e.g. to read its CDN's headers; the event must then say what the app's
 * getters say, not what the adapter computes as Express would. Looked up
 * once per app (its request prototype); a request's own property is looked
 * for at its first track(). Undefined where the app redefines none.
 */
function appGetters(req: ExpressRequest): AppGetters | undefined {
  const proto = Object.getPrototypeOf(req) as object | null;
  if (proto === null) return undefined;
  let redefined = redefinedBy.get(proto);
  if (redefined === undefined) {
    redefined = COMPUTED.filter(([name]) => !isExpressOwn(proto, name)).map(([, reads]) => reads);
    redefinedBy.set(proto, redefined);
  }
  let app: AppGetters | undefined;
  for (const reads of redefined) (app ??= {})[reads] ??= { value: req[reads] };
  for (const [name, reads] of COMPUTED)
    if (Object.hasOwn(req, name)) (app ??= {})[reads] ??= { value: req[reads] };
  return app;
}

/**
 * Whether `name` on `proto`'s chain is Express's own getter: defined on
 * Express's request prototype (the one right above Node's `IncomingMessage`)
 * by Express itself. True where nothing defines it: not an Express request.
 */
function isExpressOwn(proto: object, name: string): boolean {
  for (let at: object | null = proto; at && at !== IncomingMessage.prototype;) {
    const getter = Object.getOwnPropertyDescriptor(at, name);
    const above = Object.getPrototypeOf(at) as object | null;
    if (getter) return above === IncomingMessage.prototype && madeByExpress(at, name, getter.get);
    at = above;
  }
  return true;
}

/**
 * Whether `getter`, on Express's request prototype `base`, is the function
 * Express defined there. Its name proves nothing (an app's
 * `get: function protocol() {...}` has Express's), so its source text is
 * looked for in the file whose export `base` is (`express/lib/request.js`,
 * found in `require.cache`): an app's getter is not in it. Express 4's
 * `host` is a `depd` wrapper, made at run time: unnamed, and in no file.
 * Where the file cannot be read (a bundle), the name decides.
 */
function madeByExpress(base: object, name: string, getter: (() => unknown) | undefined): boolean {
  if (typeof getter !== 'function') return false;
  if (name === 'host' && getter.name === '') return true;
  const source = fileOf(base);
  if (source === undefined) return getter.name === name;
  return source.includes(Function.prototype.toString.call(getter));
}

/** Per Express request prototype: the text of the file it is the export of; undefined where unknown. */
const sources = new WeakMap<object, string | undefined>();

function fileOf(base: object): string | undefined {
  if (sources.has(base)) return sources.get(base);
  let text: string | undefined;
  try {
    const file = Object.values(require.cache).find((m) => m?.exports === base)?.filename;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    if (file) text = (require('node:fs') as typeof import('node:fs')).readFileSync(file, 'utf8');
  } catch {
    // no require.cache (an ES module build without it), or the file is gone: the name decides
  }
  sources.set(base, text);
  return text;
}

/** A host without its port, as `req.hostname` gives it (an IPv6 literal keeps its brackets). */
function withoutPort(host: string): string {
  const colon = host.indexOf(':', host.startsWith('[') ? host.indexOf(']') + 1 : 0);
  return colon === -1 ? host : host.slice(0, colon);
}

/** The Host header when it is `hostname` with a port, else `hostname`. */
const hostWithPort = (
  hostname: string | undefined,
  header: string | undefined,
): string | undefined => (hostname && header?.startsWith(hostname) ? header : hostname);

/** What a route that reads `req.ours` where the middleware did not run is told to do. */
const UNMOUNTED =
  'mount it before the routes that track: `app.use(ours({...}))` above them (Express runs middleware in the order it is added)';

/**
 * Express middleware that attaches `req.ours`.
 *
 * @example
 * import express from 'express';
 * import { ours } from 'ours-middleware/express';
 *
 * const app = express();
 * const tracking = ours({ token: process.env.OURS_TOKEN });
 * app.use(tracking);
 * app.post('/checkout', (req, res) => {
 *   req.ours.track('Checkout Completed', { orderId: '42' });
 *   res.sendStatus(204);
 * });
 * app.listen(3000); // Ctrl-C or SIGTERM delivers what is queued first (`handleSignals`)
 */
export function ours(options?: OursExpressOptions): OursExpressMiddleware {
  const config = resolveMiddlewareConfig(options, nodeResponse, EXPRESS_SETUP);
  const threw = trustThrew(config.client, "the app's trust proxy function");
  const expressSource = (req: ExpressRequest, socketAddress: string | undefined): RequestSource =>
    new ExpressSource(req, socketAddress, threw);
  // Every Express request (4 and 5, any copy of Express) inherits from it: a
  // route this middleware did not run for gets a `req.ours` that says so.
  defineOursAccessor(IncomingMessage.prototype, 'req', UNMOUNTED);
  const middleware = function oursMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    const existing = storedTracker(req) as RequestTracker<ExpressRequest> | undefined;
    const tracker = requestTracker(
      existing,
      config,
      expressSource,
      res,
      req as ExpressRequest, // Express's router has made it one by now
      req.socket,
    );
    if (tracker !== existing) storeTracker(req, tracker);
    next();
  };
  return Object.assign(middleware, { client: config.client });
}

export { RequestTracker } from '../src/request/tracker';
export type { TrackOverrides, IdentifyOverrides } from '../src/request/tracker';
export type { MiddlewareOptions } from '../src/request/middleware-options';
export type { RequestContext } from '../src/request/extract-context';
