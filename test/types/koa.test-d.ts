/**
 * Type test, compiled by `tsc -p tsconfig.json` (not run): `ctx.ours` is typed
 * by the adapter's augmentation of Koa's DefaultContext (@types/koa), with no
 * cast in user code, in plain and Router-style middleware alike.
 */
import Koa from 'koa';
import { ours, type RequestContext } from '../../adapters/koa';
import {
  OursClient,
  type ExperimentAssignment,
  type Personalization,
  type IdentifyEvent,
  type TrackEvent,
} from '../../src/index';

interface AppState {
  user?: { id: string; email: string };
}

const client = new OursClient({ token: 'tok' });
const app = new Koa<AppState>();
app.use(ours({ client }));
app.use(ours({ token: 'tok', flushAt: 10 }));

app.use(async (ctx, next) => {
  ctx.ours.track('E', { a: 1 });
  ctx.ours.track('Checkout Completed', {
    orderId: '42',
    total: 9.5,
    paid: true,
    coupon: null,
    note: undefined,
  });
  ctx.ours.track('E', undefined, {
    userId: 'v1',
    externalId: ctx.state.user?.id,
    time: Date.now(),
    distinctId: 'order-42',
    defaultProperties: { pathname: ctx.path },
    identityContext: null,
  });
  ctx.ours.identify({ first_name: 'Ada' }, { email: ctx.state.user?.email });
  ctx.ours.setIdentity({ externalId: 'u_1' });
  const context: Readonly<RequestContext> = ctx.ours.context;
  const userId: string | undefined = context.userId;
  void userId;

  // @ts-expect-error the event name is a string
  ctx.ours.track(42);
  // @ts-expect-error overrides take only fields of the contract's event
  ctx.ours.track('E', {}, { nope: 1 });
  // @ts-expect-error eventProperties values are strings, numbers, booleans or null
  ctx.ours.track('E', { nested: { a: 1 } });
  // @ts-expect-error identityContext needs both ip and userAgent
  ctx.ours.track('E', {}, { identityContext: { ip: '1.2.3.4' } });
  // @ts-expect-error context is read-only
  ctx.ours.context = context;
  await next();
});

// Also on the plain Koa.Context type, as handlers in other modules declare it.
function handler(ctx: Koa.Context): void {
  ctx.ours.track('Page Viewed');
}
void handler;

// Callbacks receive Koa's ctx: `ctx.state`, `ctx.path`, no cast.
ours({
  client,
  skip: (ctx) => ctx.path === '/health',
  identify: (ctx) => ({ externalId: ctx.state.user?.id, email: ctx.state.user?.email }),
  beforeSend: (event: TrackEvent | IdentifyEvent, ctx) => (ctx.get('x-internal') ? null : event),
  clientIp: (ctx) => ctx.get('cf-connecting-ip') || undefined,
  trustProxy: 1,
  gpc: 'ignore',
  setVisitorCookie: true,
  cookieDomain: '.example.com',
});

// Hooks may be async: `T | Promise<T>`.
ours({
  client,
  skip: async (ctx) => ctx.path === '/health',
  identify: async (ctx) => ({ externalId: (await Promise.resolve(ctx.state.user))?.id }),
  beforeSend: async (event: TrackEvent | IdentifyEvent) => event,
});
// @ts-expect-error an async beforeSend resolves an event, null or undefined
ours({ client, beforeSend: async () => 'event' });

// @ts-expect-error gpc is 'annotate' | 'drop' | 'ignore'
ours({ client, gpc: 'nope' });
// @ts-expect-error setVisitorCookie is a boolean
ours({ client, setVisitorCookie: 'yes' });
// @ts-expect-error trustProxy is a hop count, CIDR list or function
ours({ client, trustProxy: { hops: 1 } });

const tracking = ours({ client });
const shared: OursClient = tracking.client;
void shared;

// Server-side experiments: typed results, no cast.
new Koa().use(async (ctx) => {
  const variant: ExperimentAssignment = await ctx.ours.experiment('checkout');
  if (ctx.ours.redirect(variant)) return;
  const personalization: Personalization = await ctx.ours.personalization({ visitorId: 'v1' });
  ctx.body = { variant: variant.variantId, properties: personalization.properties };
});
