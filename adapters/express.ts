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
import { requestTracker, type RequestTracker } from '../src/request/tracker';
import { resolveMiddlewareConfig } from '../src/request/middleware-config';
import { nodeResponse } from '../src/request/node-response';
import { EXPRESS_SETUP } from '../src/request/setup-wording';
import { defineOursAccessor } from '../src/request/unmounted';

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

/** Reads an Express request; made when the request first tracks, every member lazy. */
class ExpressSource implements RequestSource {
  readonly url: string;
  /** Node builds `req.headers` in a getter; one read instead of one per header. */
  readonly #headers: IncomingMessage['headers'];
  /**
   * The app's compiled `trust proxy`, read at the first track(): inside a
   * mounted sub-app `req.app` is that app (with its own setting) only until
   * its router is done with the request.
   */
  readonly #trust: TrustFunction | undefined;
  constructor(
    private readonly req: ExpressRequest,
    readonly socketAddress: string | undefined,
  ) {
    this.#headers = req.headers;
    this.#trust = req.app?.get('trust proxy fn') as TrustFunction | undefined;
    this.url = req.originalUrl ?? req.url ?? '/';
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
    if (!this.#trust) return this.socketAddress;
    return forwardedIp(this.socketAddress, this.header('x-forwarded-for'), this.#trust);
  }
  protocol(): string | undefined {
    return this.req.protocol;
  }
  /**
   * `req.hostname` honours `trust proxy` but drops the port (Express 4) and
   * `req.host` is deprecated there, so the port comes back from the Host
   * header when the hostname came from it.
   */
  host(): string | undefined {
    const hostname = this.req.hostname;
    const header = this.req.headers.host;
    return hostname && header?.startsWith(hostname) ? header : hostname;
  }
}

/** What a route that reads `req.ours` where the middleware did not run is told to do. */
const UNMOUNTED =
  'mount it before the routes that track: `app.use(ours({...}))` above them (Express runs middleware in the order it is added)';

const expressSource = (req: ExpressRequest, socketAddress: string | undefined): RequestSource =>
  new ExpressSource(req, socketAddress);

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
  // Every Express request (4 and 5, any copy of Express) inherits from it: a
  // route this middleware did not run for gets a `req.ours` that says so.
  defineOursAccessor(IncomingMessage.prototype, 'req', UNMOUNTED);
  const middleware = function oursMiddleware(
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
  ): void {
    const expressReq = req as ExpressRequest; // Express's router has made it one by now
    expressReq.ours = requestTracker(
      expressReq.ours,
      config,
      expressSource,
      res,
      expressReq,
      req.socket,
    );
    next();
  };
  return Object.assign(middleware, { client: config.client });
}

export { RequestTracker } from '../src/request/tracker';
export type { TrackOverrides, IdentifyOverrides } from '../src/request/tracker';
export type { MiddlewareOptions } from '../src/request/middleware-options';
export type { RequestContext } from '../src/request/extract-context';
