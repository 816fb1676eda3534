import { OursConfigError } from '../../src/errors';

/*
 * Next's request-scope functions, loaded on first use with a plain
 * `require()`: `next` is an optional peer, so nothing here runs at import,
 * and Next's bundler (webpack or Turbopack) still sees the module names and
 * bundles Next's own copies, whose request scope is the one the app runs in.
 */

/** `cookies()`'s store, as much of it as the tracker uses (Next 14: sync; 15+: a Promise of it). */
export interface NextCookieStore {
  get(name: string): { value: string } | undefined;
  /** Throws in a server component: only server actions and route handlers can set cookies. */
  set(name: string, value: string, options?: NextCookieOptions): unknown;
  /** Replaces a cookie set in this request with an expired one (Next has no way to unset it). */
  delete(name: string): unknown;
}

/** The attributes `cookies().set()` takes that the tracker sets. */
export interface NextCookieOptions {
  path?: string;
  maxAge?: number;
  domain?: string;
  sameSite?: 'lax' | 'none';
  secure?: boolean;
  httpOnly?: boolean;
}

/** `next/headers`: a Promise of each from Next 15 on, the value itself in 14 (`await` reads both). */
export interface NextHeadersModule {
  headers(): Headers | Promise<Headers>;
  cookies(): NextCookieStore | Promise<NextCookieStore>;
}

/** Schedules `task` after the response is sent (Next 15.1+ `after`, 15.0 `unstable_after`). */
export type NextAfter = (task: () => unknown) => void;

/** `next/headers`, or a clear error where Next is not installed or not running the code. */
export function nextHeaders(): NextHeadersModule {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('next/headers') as NextHeadersModule;
  } catch (err) {
    throw new OursConfigError(
      'oursTracker',
      `needs Next.js (next/headers could not be loaded: ${(err as Error).message}); in a route handler use withOurs()`,
    );
  }
}

/** What `next/server` exports that the adapter reads. */
interface NextServerModule {
  after?: NextAfter;
  unstable_after?: NextAfter;
  NextResponse: { next(): Response };
}

let server: NextServerModule | null | undefined;

/** `next/server`, or null where Next is not installed. */
function nextServer(): NextServerModule | null {
  if (server !== undefined) return server;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    server = require('next/server') as NextServerModule;
  } catch {
    server = null;
  }
  return server;
}

/** Next's `after()`, where this version has one (15+), else null. */
export function nextAfter(): NextAfter | null {
  const found = nextServer();
  return found?.after ?? found?.unstable_after ?? null;
}

/** Whether this Next has the stable `after()` (15.1+): always on, and `next start` waits for its promises before it exits. */
export function hasStableAfter(): boolean {
  return typeof nextServer()?.after === 'function';
}

/** `NextResponse.next()`: a middleware's "continue", which can carry cookies. */
export function nextResponseNext(): Response {
  return nextServer()!.NextResponse.next();
}
