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
import { RequestTracker } from '../src/request/tracker';
import { resolveTrackerConfig } from '../src/request/tracker-config';
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
  readonly socketAddress: string | undefined;
  readonly url: string;
  /** Node builds `req.headers` in a getter; one read instead of one per header. */
  readonly #headers: IncomingMessage['headers'];
  constructor(private readonly req: ExpressRequest) {
    this.#headers = req.headers;
    // Read now (the first track() of the request): the socket's address can be gone once the client disconnects.
    this.socketAddress = req.socket?.remoteAddress;
    this.url = req.originalUrl ?? req.url ?? '/';
  }
  header(name: string): string | undefined {
    const value = this.#headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  /** Express's `req.ip` honours the app's `trust proxy` setting. */
  ip(): string | undefined {
    return this.req.ip;
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

const expressSource = (req: ExpressRequest): RequestSource => new ExpressSource(req);

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
  const config = resolveTrackerConfig(options);
  // Every Express request (4 and 5, any copy of Express) inherits from it: a
  // route this middleware did not run for gets a `req.ours` that says so.
  defineOursAccessor(IncomingMessage.prototype, 'req');
  const middleware = function oursMiddleware(req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void): void {
    const expressReq = req as ExpressRequest; // Express's router has made it one by now
    expressReq.ours = new RequestTracker(config, expressSource, res, expressReq);
    next();
  };
  return Object.assign(middleware, { client: config.client });
}

export { RequestTracker } from '../src/request/tracker';
export type { TrackOverrides, IdentifyOverrides } from '../src/request/tracker';
export type { MiddlewareOptions } from '../src/request/middleware-options';
export type { RequestContext } from '../src/request/extract-context';
