/**
 * Plain `node:http`, `node:https` and `node:http2` (compatibility API)
 * handlers: `const ours = track(req, res)` from `oursNode(...)`, with no
 * framework. Only Node's request is translated here; the rest is the core.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Http2ServerRequest, Http2ServerResponse } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import type { OursClient } from '../src/client';
import type { MiddlewareOptions } from '../src/request/middleware-options';
import type { RequestSource } from '../src/request/request-source';
import { requestTracker, type RequestTracker } from '../src/request/tracker';
import { resolveMiddlewareConfig } from '../src/request/middleware-config';
import { nodeResponse } from '../src/request/node-response';
import type { SetupWording } from '../src/request/setup-wording';

/** How a node:http server sets tracking up, for the messages that name the fix. */
const NODE_SETUP: SetupWording = {
  call: 'oursNode()',
  perRequest: '`oursNode({...})(req, res)` inside the request handler',
  once: 'Make `const track = oursNode({...})` once, at startup, call `track(req, res)` per request, and `track.client.shutdown()` on exit.',
};

/** Node's request, HTTP/1 or HTTP/2, as option callbacks (`skip`, `identify`, `beforeSend`, `clientIp`) receive it. */
export type NodeRequest = IncomingMessage | Http2ServerRequest;
/** Node's response, HTTP/1 or HTTP/2. */
export type NodeResponse = ServerResponse | Http2ServerResponse;

/** Options of `oursNode()`; `req` in callbacks is Node's request. */
export type OursNodeOptions = MiddlewareOptions<NodeRequest>;

/** `track(req, res)`: the request's tracker (the same one however often it is called), with the client it sends through. */
export interface OursNodeTracker {
  (req: NodeRequest, res: NodeResponse): RequestTracker<NodeRequest>;
  /** The client behind this tracker: flush or shut it down on exit. */
  readonly client: OursClient;
}

/** Where a request keeps its tracker, so a second `track(req, res)` gets the same one. */
const kTracker = Symbol('ours-middleware.tracker');
type WithTracker = NodeRequest & { [kTracker]?: RequestTracker<NodeRequest> };

/** Reads Node's request; made when the request first tracks. */
class NodeSource implements RequestSource {
  readonly url: string;
  readonly #headers: NodeRequest['headers'];
  readonly #encrypted: boolean;
  constructor(
    req: NodeRequest,
    readonly socketAddress: string | undefined,
  ) {
    this.#headers = req.headers;
    this.#encrypted = (req.socket as TLSSocket | undefined)?.encrypted === true;
    this.url = req.url ?? '/';
  }
  header(name: string): string | undefined {
    const value = this.#headers[name];
    return Array.isArray(value) ? value.join(', ') : value;
  }
  /** No framework, so no proxy trust of its own: the socket's peer (the `trustProxy` option adds one). */
  ip(): string | undefined {
    return this.socketAddress;
  }
  protocol(): string | undefined {
    return this.header(':scheme') ?? (this.#encrypted ? 'https' : 'http');
  }
  host(): string | undefined {
    return this.header('host') ?? this.header(':authority');
  }
}

const nodeSource = (req: NodeRequest, socketAddress: string | undefined): RequestSource =>
  new NodeSource(req, socketAddress);

/**
 * Request-scoped tracking for a plain Node handler.
 *
 * @example
 * import { createServer } from 'node:http';
 * import { oursNode } from 'ours-middleware/node';
 *
 * const track = oursNode({ token: process.env.OURS_TOKEN });
 * createServer((req, res) => {
 *   track(req, res).track('Page Viewed');
 *   res.end('ok');
 * }).listen(3000);
 */
export function oursNode(options?: OursNodeOptions): OursNodeTracker {
  const config = resolveMiddlewareConfig(options, nodeResponse, NODE_SETUP);
  const track = function oursTrack(
    req: NodeRequest,
    res: NodeResponse,
  ): RequestTracker<NodeRequest> {
    const r = req as WithTracker;
    // The core writes through the members HTTP/1 and HTTP/2 compatibility responses share.
    return (r[kTracker] = requestTracker(
      r[kTracker],
      config,
      nodeSource,
      res as ServerResponse,
      req,
      req.socket,
    ));
  };
  return Object.assign(track, { client: config.client });
}

export { RequestTracker } from '../src/request/tracker';
export type { TrackOverrides, IdentifyOverrides } from '../src/request/tracker';
export type { MiddlewareOptions } from '../src/request/middleware-options';
export type { RequestContext } from '../src/request/extract-context';
