/**
 * A Hono 4 app with `c.var.ours`: page views, a sign-up that sets the
 * identity and identifies the visitor, a skipped health check, the visitor
 * cookie minted for first visits (a consent decision: see `setVisitorCookie`).
 * The same app runs on Node (server.ts), Bun, Deno and Workers
 * (`export default app`, with `trustProxy: 'cloudflare'` for the IP).
 *
 * Imports: in your own app, `import { ours } from 'ours-middleware/hono'`
 * (this example lives inside the package, see examples/koa/app.ts).
 */
import { Hono } from 'hono';
import {
  ours,
  type OursEnv,
  type OursHonoMiddleware,
  type OursHonoOptions,
} from '../../adapters/hono';

/** The app, and the middleware whose `client` must be shut down on exit (where there is an exit). */
export function createApp(options: OursHonoOptions = {}): {
  app: Hono<OursEnv>;
  tracking: OursHonoMiddleware;
} {
  const tracking = ours({
    skip: (c) => c.req.path === '/health',
    setVisitorCookie: true,
    ...options,
  });
  const app = new Hono<OursEnv>();
  app.use(tracking);
  app.get('/health', (c) => c.text('ok'));
  app.post('/signup', async (c) => {
    const { email } = await c.req.json<{ email: string }>();
    c.var.ours.setIdentity({ externalId: `u_${email.split('@')[0]}`, email });
    c.var.ours.track('Signed Up');
    c.var.ours.identify({ email });
    return c.json({ ok: true }, 201);
  });
  app.get('*', (c) => {
    c.var.ours.track('Page Viewed');
    return c.text('hello\n');
  });
  return { app, tracking };
}
