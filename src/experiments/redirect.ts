import type { ServerResponse } from 'node:http';
import { OursError } from '../errors';
import type { ExperimentAssignment } from './types';

/** Longest redirect target we send (browsers and proxies cut long Location headers). */
const MAX_TARGET = 2048;
/** ASCII controls, space and backslash: header injection, or a path browsers read as `//host`. */
const UNSAFE = /[\u0000-\u0020\u007f\\]/;
const BASE = 'https://same-site.invalid';

/**
 * The Location to send for a split-URL variant's `redirect`, or why it is
 * refused. Allowed, as the experiments API documents: a path on this site
 * (`/pricing-b?x=1`) or an absolute `https://` URL. Refused: every other
 * scheme (`http:`, `javascript:`, `data:`), protocol-relative `//evil.example`
 * and `/\evil.example` (both leave the site), relative paths without a
 * leading `/`, credentials in the URL, controls and spaces (header
 * injection), and anything over 2048 characters.
 *
 * @example
 * redirectTarget('/checkout-b?step=1'); // { ok: true, location: '/checkout-b?step=1' }
 * redirectTarget('//evil.example');     // { ok: false, reason: '…' }
 */
export function redirectTarget(target: unknown): { ok: true; location: string } | { ok: false; reason: string } {
  if (typeof target !== 'string' || target.length === 0) return { ok: false, reason: 'it is empty' };
  if (target.length > MAX_TARGET) return { ok: false, reason: `it is over ${MAX_TARGET} characters` };
  if (UNSAFE.test(target)) return { ok: false, reason: 'it contains a control character, a space or a backslash' };
  if (target.startsWith('/')) {
    if (target.startsWith('//')) return { ok: false, reason: 'a protocol-relative URL leaves the site' };
    const url = new URL(target, BASE);
    const location = url.pathname + url.search + url.hash;
    // `/..//evil.example` normalises to `//evil.example`: judge what would be sent.
    if (url.origin !== BASE || location.startsWith('//')) return { ok: false, reason: 'it leaves the site' };
    return { ok: true, location };
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { ok: false, reason: 'it is neither a path starting with / nor an absolute URL' };
  }
  if (url.protocol !== 'https:') return { ok: false, reason: `only https:// URLs and same-site paths are allowed, not ${url.protocol}` };
  if (url.username || url.password) return { ok: false, reason: 'it carries credentials' };
  return { ok: true, location: url.href };
}

/**
 * Answers the request with a 302 to `location`, not cacheable (the variant
 * belongs to this visitor only). Written on Node's response, so it works the
 * same under Express and Koa (Koa skips its own response once this one ended).
 *
 * @example
 * sendRedirect(res, '/pricing-b');
 */
export function sendRedirect(res: ServerResponse, location: string): void {
  const body = `Redirecting to ${location}\n`;
  res.statusCode = 302;
  res.setHeader('location', location);
  res.setHeader('cache-control', 'private, no-store');
  res.setHeader('content-type', 'text/plain; charset=utf-8');
  res.setHeader('content-length', Buffer.byteLength(body));
  res.end(body);
}

/**
 * `req.ours.redirect(assignment)`: for a split-URL variant, answers the
 * request with its redirect and returns true; otherwise (no redirect, a
 * refused target, the response already started, or the visitor already on
 * that page) returns false, reporting what was refused, so the caller renders
 * the page as usual.
 *
 * @example
 * if (answerRedirect(res, variant, '/pricing', report)) return;
 */
export function answerRedirect(res: ServerResponse, assignment: ExperimentAssignment | undefined, currentUrl: string, report: (err: OursError) => void, send = (location: string) => sendRedirect(res, location)): boolean {
  const target = assignment?.redirect;
  if (!assignment?.inExperiment || target === undefined) return false;
  const checked = redirectTarget(target);
  const key = assignment.experimentKey;
  if (!checked.ok) {
    report(new OursError(`experiment '${key}': redirect refused because ${checked.reason}`));
    return false;
  }
  if (checked.location === currentUrl) return false; // already there: no loop
  if (res.headersSent || res.writableEnded) {
    report(new OursError(`experiment '${key}': cannot redirect, the response has already started`));
    return false;
  }
  send(checked.location);
  return true;
}
