import { OursError } from '../errors';
import type { ExperimentAssignment } from './types';

/** Longest redirect target we send (browsers and proxies cut long Location headers). */
const MAX_TARGET = 2048;
/** ASCII controls, space and backslash: header injection, or a path browsers read as `//host`. */
// eslint-disable-next-line no-control-regex -- the controls are what it looks for
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
export function redirectTarget(
  target: unknown,
): { ok: true; location: string } | { ok: false; reason: string } {
  if (typeof target !== 'string' || target.length === 0)
    return { ok: false, reason: 'it is empty' };
  if (target.length > MAX_TARGET)
    return { ok: false, reason: `it is over ${MAX_TARGET} characters` };
  if (UNSAFE.test(target))
    return { ok: false, reason: 'it contains a control character, a space or a backslash' };
  if (target.startsWith('/')) {
    if (target.startsWith('//'))
      return { ok: false, reason: 'a protocol-relative URL leaves the site' };
    const url = new URL(target, BASE);
    const location = url.pathname + url.search + url.hash;
    // `/..//evil.example` normalises to `//evil.example`: judge what would be sent.
    if (url.origin !== BASE || location.startsWith('//'))
      return { ok: false, reason: 'it leaves the site' };
    return { ok: true, location };
  }
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return { ok: false, reason: 'it is neither a path starting with / nor an absolute URL' };
  }
  if (url.protocol !== 'https:')
    return {
      ok: false,
      reason: `only https:// URLs and same-site paths are allowed, not ${url.protocol}`,
    };
  if (url.username || url.password) return { ok: false, reason: 'it carries credentials' };
  return { ok: true, location: url.href };
}

/**
 * Where `req.ours.redirect(assignment)` sends the visitor: the checked
 * Location of a split-URL variant, or undefined (no redirect, a refused
 * target, which is reported, or the visitor already on that page), so the
 * caller renders the page as usual.
 *
 * @example
 * const location = redirectLocation(variant, '/pricing', report); // '/pricing-b'
 */
export function redirectLocation(
  assignment: ExperimentAssignment | undefined,
  currentUrl: string,
  report: (err: OursError) => void,
): string | undefined {
  const target = assignment?.redirect;
  if (!assignment?.inExperiment || target === undefined) return undefined;
  const checked = redirectTarget(target);
  if (!checked.ok) {
    report(
      new OursError(
        `experiment '${assignment.experimentKey}': redirect refused because ${checked.reason}`,
      ),
    );
    return undefined;
  }
  return checked.location === currentUrl ? undefined : checked.location; // already there: no loop
}
