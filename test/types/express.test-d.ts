/**
 * Type test, compiled by `tsc -p tsconfig.json` (not run): `req.ours` is typed
 * by the adapter's module augmentation, with no cast in user code, under
 * @types/express (which types Express 4 and 5 alike here).
 */
import express from 'express';
import { ours, type RequestContext } from '../../adapters/express';
import {
  OursClient,
  type ExperimentAssignment,
  type Personalization,
  type IdentifyEvent,
  type TrackEvent,
} from '../../src/index';

// What an auth library (passport, express-session) adds to every request.
declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace Express {
    interface Request {
      typeTestUser?: { id: string; email: string };
    }
  }
}

const client = new OursClient({ token: 'tok' });
const app = express();
app.use(ours({ client }));
app.use(ours({ token: 'tok', flushAt: 10 }));

app.post('/checkout', (req, res) => {
  req.ours.track('E', { a: 1 });
  req.ours.track('Checkout Completed', {
    orderId: '42',
    total: 9.5,
    paid: true,
    coupon: null,
    note: undefined,
  });
  req.ours.track('E', undefined, {
    userId: 'v1',
    externalId: null,
    email: 'a@b.co',
    time: new Date(),
    distinctId: 'order-42',
    userProperties: { first_name: 'Ada', custom_properties: { plan: 'pro', seats: 2 } },
    defaultProperties: { pathname: '/virtual', utm_source: 'news' },
    identityContext: { ip: '203.0.113.9', userAgent: 'UA' },
  });
  req.ours.identify({ email: 'a@b.co', custom_properties: { plan: 'pro' } }, { externalId: 'u_1' });
  req.ours.setIdentity({ externalId: 'u_1', email: null });
  const context: Readonly<RequestContext> = req.ours.context;
  const ip: string | null | undefined = context.defaultProperties.ip;
  const gpc: boolean = req.ours.context.gpc;
  void [ip, gpc];

  // @ts-expect-error the event name is a string
  req.ours.track(42);
  // @ts-expect-error overrides take only fields of the contract's event
  req.ours.track('E', {}, { nope: 1 });
  // @ts-expect-error `event` is the first argument, not an override
  req.ours.track('E', {}, { event: 'Other' });
  // @ts-expect-error eventProperties values are strings, numbers, booleans or null
  req.ours.track('E', { nested: { a: 1 } });
  // @ts-expect-error an unknown defaultProperties field
  req.ours.track('E', {}, { defaultProperties: { not_a_field: 'x' } });
  // @ts-expect-error identify needs userProperties
  req.ours.identify();
  // @ts-expect-error context is read-only
  req.ours.context = context;
  // @ts-expect-error setIdentity takes identity fields only
  req.ours.setIdentity({ name: 'Ada' });
  res.sendStatus(204);
});

// Callbacks receive the request with the app's own augmentations: no cast.
ours({
  client,
  skip: (req) => req.originalUrl === '/health',
  identify: (req) => ({ externalId: req.typeTestUser?.id, email: req.typeTestUser?.email }),
  beforeSend: (event: TrackEvent | IdentifyEvent, req) => (req.typeTestUser ? event : null),
  clientIp: (req) => req.ip,
  trustProxy: ['loopback', '10.0.0.0/8'],
  gpc: 'drop',
  flushOnResponse: { timeoutMs: 500 },
  waitUntil: (promise: Promise<unknown>) => void promise,
});

// Hooks may be async: `T | Promise<T>`.
ours({
  client,
  skip: async (req) => req.originalUrl === (await Promise.resolve('/health')),
  identify: async (req) => ({ externalId: await Promise.resolve(req.typeTestUser?.id) }),
  // Identify calls go through it too: `'event' in event` narrows to a track.
  beforeSend: async (event) => ('event' in event && event.event === 'Internal' ? null : event),
});
ours({
  client,
  // @ts-expect-error a hook for tracks only: identify calls go through beforeSend too
  beforeSend: (event: TrackEvent) => event,
  hookTimeoutMs: 2000,
});
// @ts-expect-error an async skip resolves a boolean
ours({ client, skip: async () => 'yes' });

// @ts-expect-error gpc is 'annotate' | 'drop' | 'ignore'
ours({ client, gpc: 'nope' });
// @ts-expect-error skip is a function
ours({ client, skip: true });
// @ts-expect-error clientIp is 'request-ip' or a function
ours({ client, clientIp: 'x-forwarded-for' });
// @ts-expect-error flushOnResponse is a boolean or { timeoutMs }
ours({ client, flushOnResponse: 500 });

// The middleware exposes its client.
const tracking = ours({ client });
const shared: OursClient = tracking.client;
void shared;

// Server-side experiments: typed results, no cast.
const experimentApp = express();
experimentApp.get('/checkout', async (req, res) => {
  const variant: ExperimentAssignment = await req.ours.experiment('checkout', {
    trackImpression: false,
    visitorId: 'v1',
  });
  if (req.ours.redirect(variant)) return;
  const { properties }: Personalization = await req.ours.personalization();
  const name: string | null = variant.variantName;
  res.send(`${name ?? 'control'} ${String(properties.segment)}`);
  // @ts-expect-error trackImpression is a boolean
  await req.ours.experiment('checkout', { trackImpression: 'no' });
});
new OursClient({
  token: 't',
  experimentToken: 'exp_x',
  experimentBudgetMs: 100,
  experimentCache: { maxEntries: 1000, ttlMs: 30_000 },
});
new OursClient({ token: 't', experimentCache: false });
// @ts-expect-error experimentCache is an object or false
new OursClient({ token: 't', experimentCache: true });
