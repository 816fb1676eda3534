/**
 * Type test, compiled by `tsc -p tsconfig.json` (not run): `c.var.ours` and
 * `c.get('ours')` are typed through Hono's `Variables`, with no cast in user
 * code, alone or next to the app's own bindings and variables.
 */
import { Hono } from 'hono';
import { getConnInfo } from 'hono/bun';
import { OursClient } from '../../src/index';
import { ours, type HonoTracker, type OursEnv } from '../../adapters/hono';

const client = new OursClient({ token: 'tok' });

// The Env type on the app: every route has c.var.ours.
const app = new Hono<OursEnv>();
app.use(ours({ client, trustProxy: 'cloudflare' }));
app.post('/signup', (c) => {
  c.var.ours.track('Signed Up', { plan: 'pro' });
  c.get('ours').identify({ email: 'a@b.co' });
  const tracker: HonoTracker = c.var.ours;
  tracker.setIdentity({ externalId: 'u_1' });
  return c.json({ ok: true });
});

// With the app's own Env: bindings and variables of its own.
type AppEnv = { Bindings: { OURS_TOKEN: string }; Variables: { user?: { id: string } } } & OursEnv;
const typed = new Hono<AppEnv>();
typed.use(
  ours({
    client,
    getConnInfo,
    identify: (c) => ({ externalId: c.get('user')?.id }),
    skip: (c) => c.req.path === '/health',
    beforeSend: (event, c) =>
      'event' in event
        ? { ...event, eventProperties: { ...event.eventProperties, path: c.req.path } }
        : event,
  }),
);
typed.get('/', (c) => {
  c.var.ours.track('Page Viewed');
  const token: string = c.env.OURS_TOKEN;
  return c.text(token);
});

// The app's Env given to ours(): the callbacks' `c` is typed with it.
typed.use(
  ours<AppEnv>({
    client,
    identify: (c) => ({ externalId: c.get('user')?.id }),
    skip: (c) => c.env.OURS_TOKEN === '',
  }),
);
ours<AppEnv>({
  client,
  // @ts-expect-error the app's user has no `name`: the Env types the callbacks
  identify: (c) => ({ externalId: c.get('user')?.name }),
});

// Chained: the middleware's Env flows into the routes declared after it.
new Hono().use(ours({ client })).get('/', (c) => {
  c.var.ours.track('Chained');
  return c.text('ok');
});

// The client hangs on the middleware.
void ours({ token: 'tok' }).client.shutdown();

// @ts-expect-error flushOnResponse cannot hold a Response back: not an option here
ours({ client, flushOnResponse: true });
