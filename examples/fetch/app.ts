/**
 * A fetch handler (`(Request) => Response`) with `ours-middleware/fetch`, as
 * Bun.serve, Deno.serve and a Worker's `fetch` take one: page views, a
 * skipped health check, the visitor cookie minted for first visits (a consent
 * decision: see `setVisitorCookie`) and put on the Response by `respond()`.
 *
 * Imports: in your own app, `import { oursFetch } from 'ours-middleware/fetch'`
 * (this example lives inside the package, see examples/koa/app.ts).
 */
import { oursFetch, type OursFetch, type OursFetchOptions } from '../../adapters/fetch';

/** What the server knows of this request and the handler cannot: the peer, the platform's `waitUntil`. */
export interface Peer {
  remoteAddress?: string | undefined;
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
}

/** The handler, and `track` whose `client` must be shut down on exit (where there is an exit). */
export function createHandler(options: OursFetchOptions = {}): {
  handle: (request: Request, peer?: Peer) => Response;
  track: OursFetch;
} {
  const track = oursFetch({
    skip: (request) => new URL(request.url).pathname === '/health',
    setVisitorCookie: true,
    ...options,
  });
  const handle = (request: Request, peer: Peer = {}): Response => {
    const ours = track(request, peer);
    if (new URL(request.url).pathname === '/health') return ours.respond(new Response('ok'));
    ours.track('Page Viewed');
    return ours.respond(new Response('hello\n', { headers: { 'content-type': 'text/plain' } }));
  };
  return { handle, track };
}
