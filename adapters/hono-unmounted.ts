import type { Context } from 'hono';
import { unmounted } from '../src/request/unmounted';

/*
 * `c.var.ours` where the middleware did not run for the request (mounted on
 * a path, `app.use('/api/*', ours(...))`, and a route outside it): the
 * stand-in that says where to mount, as `req.ours` on Express, rather than
 * `undefined` and a TypeError. Hono builds `c.var` in a getter on its
 * `Context` prototype, which is wrapped here. `c.get('ours')` cannot be
 * covered: `get` is an arrow-function field of each Context instance (not a
 * prototype method) that reads a private `#var` Map, which only a middleware
 * that runs for the request can fill.
 */

/** What a route that reads `c.var.ours` where the middleware did not run is told to do. */
const STAND_IN = unmounted(
  'c.var',
  "mount it before the routes that track, on a path that covers them: `app.use(ours({ client }))` first (Hono runs middleware in the order it is added). Read it as `c.var.ours`: `c.get('ours')` is undefined where ours() did not run",
);

/** Marks a Context prototype whose `var` getter gives the stand-in. */
const kCovered = Symbol.for('ours-middleware.honoVar');

/** Hono's module, as far as it is read here. */
interface HonoModule {
  readonly Context?: { readonly prototype: object };
}

/**
 * Wraps the `var` getter of `proto`, a Hono `Context` prototype (once per
 * Hono copy): where `ours` was not set, `c.var.ours` is the stand-in. The
 * getter builds a fresh object per read, so adding to it changes nothing else.
 */
export function coverUnmounted(proto: object | undefined): void {
  const descriptor = proto && Object.getOwnPropertyDescriptor(proto, 'var');
  const read = descriptor?.get;
  if (!read || (proto as Record<symbol, unknown>)[kCovered]) return;
  Object.defineProperty(proto, kCovered, { value: true });
  Object.defineProperty(proto, 'var', {
    ...descriptor,
    get(this: Context) {
      const vars = read.call(this) as Record<string, unknown>;
      if (vars.ours === undefined) vars.ours = STAND_IN;
      return vars;
    },
  });
}

let looked = false;

/**
 * Covers the app's Hono from the start, before any request went through the
 * middleware (a route outside its path may be the first one asked): a
 * CommonJS app's, if it has loaded one (nothing is loaded for it), else the
 * one `import('hono')` gives, which is an ES module app's, a bundle's (a
 * Worker's) and Bun's and Deno's. Once per process. A copy found neither way
 * is covered at the first request the middleware sees (`coverUnmounted`).
 */
export function coverLoadedHono(): void {
  if (looked) return;
  looked = true;
  if (coverCommonJs()) return;
  import('hono').then(
    (hono: HonoModule) => coverUnmounted(hono.Context?.prototype),
    () => undefined, // no Hono to import here (a bundle without it): the first request covers it
  );
}

/** Covers the CommonJS Hono in `require.cache`, if loaded; false where there is none (an ES module app, a bundle). */
function coverCommonJs(): boolean {
  let hono: HonoModule | undefined;
  try {
    hono = require.cache[require.resolve('hono')]?.exports as HonoModule | undefined;
  } catch {
    return false; // no `require` (a Worker), or no Hono resolvable from here
  }
  coverUnmounted(hono?.Context?.prototype);
  return hono?.Context !== undefined;
}
