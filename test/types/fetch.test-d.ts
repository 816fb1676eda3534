/**
 * Type test, compiled by `tsc -p tsconfig.json` (not run): the fetch adapter
 * as a Worker, Bun and Deno handler would use it.
 */
import { OursClient } from '../../src/index';
import { oursFetch, tracker, type FetchTracker } from '../../adapters/fetch';

const client = new OursClient({ token: 'tok' });
declare const ctx: { waitUntil(promise: Promise<unknown>): void };
declare const request: Request;

// A Worker: options and this request's waitUntil in one object.
const ours: FetchTracker = tracker(request, {
  client,
  waitUntil: (p) => ctx.waitUntil(p),
  trustProxy: 'cloudflare',
  setVisitorCookie: true,
});
ours.track('Page Viewed', { plan: 'pro' });
ours.identify({ email: 'a@b.co' });
const response: Response = ours.respond(new Response('ok'));
void response;

// Options checked once; the peer address per request (Bun: server.requestIP(request)?.address).
const track = oursFetch({
  client,
  skip: (req) => new URL(req.url).pathname === '/health',
  identify: (req) => ({ externalId: req.headers.get('x-user') }),
});
track(request, { remoteAddress: '203.0.113.9' }).track('E');
void track.client.flush();

// @ts-expect-error flushOnResponse cannot hold a Response back: not an option here
oursFetch({ client, flushOnResponse: true });
// @ts-expect-error respond() takes a Response
ours.respond('ok');
