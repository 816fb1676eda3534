import { serialize } from 'cookie';
import { readCookie } from './cookies';
import type { RequestSource } from './request-source';

/**
 * The cookie `req.ours.optOut()` sets. While a browser sends it (value `1`),
 * the middleware sends nothing for that visitor. Readable by JavaScript, so
 * the page can honour it too (e.g. not load the browser SDK).
 */
export const OPT_OUT_COOKIE = 'ours_opt_out';

/** Five years: an opt-out should outlive the visitor cookie (one year). */
const OPT_OUT_MAX_AGE = 5 * 365 * 24 * 60 * 60;

/** True when the request carries the opt-out cookie. */
export function hasOptedOut(source: RequestSource): boolean {
  return readCookie(source.header('cookie'), OPT_OUT_COOKIE) === '1';
}

/** The `Set-Cookie` value of an opt-out, with the visitor cookie's scope. */
export function optOutCookie(secure: boolean, domain: string | undefined): string {
  return serialize(OPT_OUT_COOKIE, '1', {
    path: '/',
    maxAge: OPT_OUT_MAX_AGE,
    domain,
    sameSite: 'lax',
    secure,
  });
}
