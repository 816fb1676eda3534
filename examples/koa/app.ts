/**
 * The Express example's shop on Koa 3, with no router and no body parser:
 * routes are matched by hand on `ctx.method` and `ctx.path`, and a small
 * helper reads JSON bodies up to 10 KiB. Ours tracking is on `ctx.ours`.
 *
 * Imports: in your own app, write
 *     import { ours } from 'ours-middleware/koa';
 * This example imports `../../adapters/koa` instead because it lives inside
 * the package itself: there the package name resolves, through the `exports`
 * of package.json, to `dist/`, which exists only after `npm run build`, so a
 * fresh clone could neither run nor type-check it, and a stale `dist/` would
 * run old code. The relative path is the same module as the package entry.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import Koa, { type Context } from 'koa';
import { ours, type OursKoaMiddleware, type OursKoaOptions } from '../../adapters/koa';

/** The app, and the middleware whose `client` must be flushed or shut down on exit. */
export interface ExampleApp {
  app: Koa;
  tracking: OursKoaMiddleware;
}

interface User {
  id: string;
  email: string;
}

/** The session cookie of this fake login (a real app has koa-session, koa-passport...). */
export const SESSION_COOKIE = 'shop_session';
/** Largest JSON body accepted. */
const MAX_BODY_BYTES = 10 * 1024;

/**
 * Builds the shop. `options` go to `ours()`: `token`, `apiUrl` and other
 * client options, or a shared `client`; they may also replace the `skip`,
 * `identify` and `trustProxy` defined here.
 */
export function createApp(options: OursKoaOptions = {}): ExampleApp {
  const sessions = new Map<string, User>(); // session id -> user, in memory
  let lastUserId = 1000; // the "database"
  /** The logged-in user, from the session cookie or an `X-Session-Id` header (API clients). */
  const userOf = (req: IncomingMessage): User | undefined => {
    const header = req.headers['x-session-id'];
    const id = typeof header === 'string' ? header : readCookie(req.headers.cookie, SESSION_COOKIE);
    return id === undefined ? undefined : sessions.get(id);
  };

  const tracking = ours({
    // Health checks are GET requests too: never send them to Ours.
    skip: (ctx) => pathOf(ctx.originalUrl) === '/healthz',
    // Every event of a logged-in user carries who they are in your system.
    identify: (ctx) => {
      const user = userOf(ctx.req);
      return user && { externalId: user.id, email: user.email };
    },
    // Behind a reverse proxy on the same host: take the visitor's IP from
    // X-Forwarded-For when the peer is loopback, ignore it from anyone else.
    // (ours-middleware's own setting, for a Koa app that leaves app.proxy off.)
    trustProxy: 'loopback',
    ...options,
  });

  const app = new Koa();
  app.use(tracking);

  // Page views, site-wide: every GET that reaches the app.
  app.use(async (ctx, next) => {
    if (ctx.method === 'GET') ctx.ours.track('Page Viewed');
    await next();
  });

  app.use(async (ctx) => {
    switch (`${ctx.method} ${ctx.path}`) {
      case 'GET /':
        ctx.type = 'html';
        ctx.body = '<!doctype html><title>Shop</title><h1>Welcome to the shop</h1>';
        return;
      case 'GET /healthz':
        ctx.body = { ok: true };
        return;
      case 'POST /signup':
        return signup(ctx, await readJson(ctx));
      case 'POST /purchase':
        return purchase(ctx, await readJson(ctx));
      default:
        ctx.status = 404;
        ctx.body = { error: 'not found' };
    }
  });

  function signup(ctx: Context, body: unknown): void {
    const form = readSignup(body);
    if (typeof form === 'string') return ctx.throw(400, form);
    const user: User = { id: `u_${++lastUserId}`, email: form.email };
    const session = randomUUID();
    sessions.set(session, user);
    // From here on, this request's events belong to the new user...
    ctx.ours.setIdentity({ externalId: user.id, email: user.email });
    // ...whose profile Ours stores on the visitor...
    ctx.ours.identify({
      email: form.email,
      first_name: form.firstName,
      last_name: form.lastName,
      custom_properties: { plan: form.plan },
    });
    ctx.ours.track('Signed Up', { plan: form.plan, method: 'email' });
    ctx.cookies.set(SESSION_COOKIE, session, { httpOnly: true, sameSite: 'lax', path: '/' });
    ctx.status = 201;
    ctx.body = { userId: user.id };
  }

  function purchase(ctx: Context, body: unknown): void {
    const order = readOrder(body);
    if (typeof order === 'string') return ctx.throw(400, order);
    // The order id is the event's distinctId: a double click or a retried POST
    // sends the same id, and Ours keeps one 'Order Completed' per order.
    // (Prefix it if another event of the same order needs its own key.)
    ctx.ours.track(
      'Order Completed',
      { orderId: order.orderId, total: order.total, currency: order.currency },
      { distinctId: order.orderId },
    );
    ctx.body = { ok: true, orderId: order.orderId };
  }

  return { app, tracking };
}

/**
 * The request's JSON body: 415 unless it is sent as JSON, 413 past
 * {@link MAX_BODY_BYTES} (before reading it all), 400 when it does not parse.
 */
export async function readJson(ctx: Context, limit = MAX_BODY_BYTES): Promise<unknown> {
  if (!ctx.is('application/json')) return ctx.throw(415, 'send the body as application/json');
  if (Number(ctx.get('content-length')) > limit)
    return ctx.throw(413, `the body is over ${limit} bytes`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of ctx.req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > limit) return ctx.throw(413, `the body is over ${limit} bytes`);
    chunks.push(buf);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch {
    return ctx.throw(400, 'the body is not valid JSON');
  }
}

// --- the shop's own request validation (as in the Express example) ---------

interface SignupForm {
  email: string;
  firstName: string;
  lastName: string | undefined;
  plan: string;
}

interface Order {
  orderId: string;
  total: number;
  currency: string;
}

/** The sign-up form, or what is wrong with it. */
function readSignup(body: unknown): SignupForm | string {
  const field = fieldsOf(body);
  if (!field) return 'expected a JSON object';
  const email = field('email');
  const firstName = field('firstName');
  const lastName = field('lastName');
  const plan = field('plan');
  if (typeof email !== 'string' || !/^[^@\s]{1,64}@[^@\s]{1,190}$/.test(email))
    return 'email is required';
  if (typeof firstName !== 'string' || firstName.length === 0 || firstName.length > 100)
    return 'firstName is required';
  if (lastName !== undefined && (typeof lastName !== 'string' || lastName.length > 100))
    return 'lastName must be a string';
  if (plan !== undefined && plan !== 'free' && plan !== 'pro')
    return "plan must be 'free' or 'pro'";
  return { email, firstName, lastName, plan: plan ?? 'free' };
}

/** The purchase, or what is wrong with it. */
function readOrder(body: unknown): Order | string {
  const field = fieldsOf(body);
  if (!field) return 'expected a JSON object';
  const orderId = field('orderId');
  const total = field('total');
  const currency = field('currency');
  if (typeof orderId !== 'string' || !/^[\w-]{1,100}$/.test(orderId)) return 'orderId is required';
  if (typeof total !== 'number' || !Number.isFinite(total) || total < 0)
    return 'total must be a number';
  if (typeof currency !== 'string' || !/^[A-Z]{3}$/.test(currency))
    return 'currency must be an ISO 4217 code';
  return { orderId, total, currency };
}

/** Reads the own fields of a JSON object (never its prototype's); undefined for anything else. */
function fieldsOf(body: unknown): ((name: string) => unknown) | undefined {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return undefined;
  const fields = new Map<string, unknown>(Object.entries(body));
  return (name) => fields.get(name);
}

/** The path of a request target, without its query string. */
function pathOf(url: string): string {
  return url.split('?', 1)[0] ?? '/';
}

/**
 * One cookie from a Cookie header. The `identify` option receives the
 * adapter's view of `ctx`, which has `ctx.req` but not `ctx.cookies`.
 */
function readCookie(header: string | undefined, name: string): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name)
      return pair.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
