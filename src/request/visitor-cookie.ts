import { serialize } from 'cookie';

/** A year, as the browser SDK keeps its visitor cookie. */
const VISITOR_COOKIE_MAX_AGE = 365 * 24 * 60 * 60;

/**
 * The `Set-Cookie` value of a visitor id minted by `setVisitorCookie`, as the
 * browser SDK sets its own (path /, a year, readable by JavaScript), so the
 * SDK adopts the same visitor on the next page.
 */
export function visitorCookie(
  name: string,
  visitorId: string,
  domain: string | undefined,
  secure: boolean,
): string {
  return serialize(name, visitorId, {
    path: '/',
    maxAge: VISITOR_COOKIE_MAX_AGE,
    domain,
    sameSite: secure ? 'none' : 'lax',
    secure,
  });
}
