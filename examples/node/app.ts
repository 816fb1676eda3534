/**
 * A plain node:http server with `track(req, res)`: page views, a skipped
 * health check, and the visitor cookie minted for first visits (a consent
 * decision: see `setVisitorCookie`).
 *
 * Imports: in your own app, `import { oursNode } from 'ours-middleware/node'`
 * (this example lives inside the package, see examples/koa/app.ts).
 */
import { createServer, type Server } from 'node:http';
import { oursNode, type OursNodeOptions, type OursNodeTracker } from '../../adapters/node';

/** The server (not listening yet), and `track` whose `client` must be shut down on exit. */
export function createApp(options: OursNodeOptions = {}): {
  server: Server;
  track: OursNodeTracker;
} {
  const track = oursNode({
    skip: (req) => req.url === '/health',
    setVisitorCookie: true,
    ...options,
  });
  const server = createServer((req, res) => {
    if (req.url === '/health') return void res.end('ok');
    track(req, res).track('Page Viewed');
    res.setHeader('content-type', 'text/plain');
    res.end('hello\n');
  });
  return { server, track };
}
