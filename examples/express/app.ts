/**
 * A small Express 5 shop that sends its analytics to Ours through
 * ours-middleware: a page view on every page, a sign-up that identifies the
 * visitor, and a purchase that Ours records once however often it is sent.
 *
 * Imports: in your own app, write
 *     import { ours } from 'ours-middleware/express';
 * This example imports `../../adapters/express` instead because it lives
 * inside the package itself. There the package name resolves, through the
 * `exports` of package.json, to `dist/`, which exists only after
 * `npm run build`: on a fresh clone (`npm ci && npm run demo`) both tsx and
 * `tsc --noEmit` fail with "Cannot find module 'ours-middleware/express'", and
 * after an edit a stale `dist/` would run old code. The relative path is the
 * same module as the package entry point; nothing else differs from user code.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { ours, type OursExpressMiddleware, type OursExpressOptions } from '../../adapters/express';

/** The app, and the middleware whose `client` must be flushed or shut down on exit. */
export interface ExampleApp {
  app: Express;
  tracking: OursExpressMiddleware;
}

interface User {
  id: string;
  email: string;
}

/** The session cookie of this fake login (a real app has express-session, passport...). */
export const SESSION_COOKIE = 'shop_session';

/**
 * Builds the shop. `options` go to `ours()`: `token`, `apiUrl` and other
 * client options, or a shared `client`; they may also replace the `skip` and
 * `identify` defined here.
 */
export function createApp(options: OursExpressOptions = {}): ExampleApp {
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
    skip: (req) => pathOf(req.originalUrl ?? req.url) === '/healthz',
    // Every event of a logged-in user carries who they are in your system.
    identify: (req) => {
      const user = userOf(req);
      return user && { externalId: user.id, email: user.email };
    },
    ...options,
  });

  const app = express();
  // Behind a reverse proxy on the same host (nginx, a sidecar): trust it, so
  // that req.ip, and so the IP sent to Ours, is the visitor's and not the
  // proxy's. Only loopback peers are trusted: anyone else's X-Forwarded-For is ignored.
  app.set('trust proxy', 'loopback');
  app.use(tracking);
  app.use(express.json({ limit: '10kb' }));

  // Page views, site-wide: every GET that reaches the app.
  app.use((req, _res, next) => {
    if (req.method === 'GET') req.ours.track('Page Viewed');
    next();
  });

  app.get('/', (_req, res) => {
    res.type('html').send('<!doctype html><title>Shop</title><h1>Welcome to the shop</h1>');
  });

  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });

  app.post('/signup', (req: Request, res: Response) => {
    const form = readSignup(req.body);
    if (typeof form === 'string') return void res.status(400).json({ error: form });
    const user: User = { id: `u_${++lastUserId}`, email: form.email };
    const session = randomUUID();
    sessions.set(session, user);
    // From here on, this request's events belong to the new user...
    req.ours.setIdentity({ externalId: user.id, email: user.email });
    // ...whose profile Ours stores on the visitor...
    req.ours.identify({
      email: form.email,
      first_name: form.firstName,
      last_name: form.lastName,
      custom_properties: { plan: form.plan },
    });
    req.ours.track('Signed Up', { plan: form.plan, method: 'email' });
    res.cookie(SESSION_COOKIE, session, { httpOnly: true, sameSite: 'lax', path: '/' });
    res.status(201).json({ userId: user.id });
  });

  app.post('/purchase', (req: Request, res: Response) => {
    const order = readOrder(req.body);
    if (typeof order === 'string') return void res.status(400).json({ error: order });
    // The order id is the event's distinctId: a double click or a retried POST
    // sends the same id, and Ours keeps one 'Order Completed' per order.
    // (Prefix it if another event of the same order needs its own key.)
    req.ours.track(
      'Order Completed',
      { orderId: order.orderId, total: order.total, currency: order.currency },
      { distinctId: order.orderId },
    );
    res.json({ ok: true, orderId: order.orderId });
  });

  // Bad JSON (400) and bodies over the limit (413) from express.json(); anything else is a 500.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status =
      typeof err === 'object' && err !== null && 'status' in err && typeof err.status === 'number'
        ? err.status
        : 500;
    res.status(status).json({ error: status === 500 ? 'internal error' : 'bad request body' });
  });

  return { app, tracking };
}

// --- the shop's own request validation -------------------------------------

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
function pathOf(url: string | undefined): string {
  return (url ?? '/').split('?', 1)[0] ?? '/';
}

/**
 * One cookie from a Cookie header. The `skip` and `identify` options receive
 * the adapter's view of `req` (Node's request plus `ip`, `originalUrl`...),
 * not Express's `Request`, so they read headers rather than `req.cookies`.
 */
function readCookie(header: string | undefined, name: string): string | undefined {
  for (const pair of header?.split(';') ?? []) {
    const eq = pair.indexOf('=');
    if (eq !== -1 && pair.slice(0, eq).trim() === name)
      return pair.slice(eq + 1).trim() || undefined;
  }
  return undefined;
}
