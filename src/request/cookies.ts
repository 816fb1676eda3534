/**
 * Longest Cookie header we scan: four times Node's default cap on all
 * headers (16 KiB). A browser sends cookies oldest first, so on a site with
 * a big cookie jar the visitor cookie may come last: one not read is one
 * minted anew over the visitor's (`setVisitorCookie`), and an opt-out not
 * read is ignored. The scan is a few `indexOf`s, linear. Past the cap we
 * stop at the last complete pair, so a value is never read half-cut.
 */
export const MAX_COOKIE_HEADER_LENGTH = 64 * 1024;

/** The visitor cookie the browser SDK writes (`ours_device_id`). */
export const DEFAULT_DEVICE_COOKIE = 'ours_device_id';

/** The cookies this package reads; each is absent when not sent or empty. */
export interface RequestCookies {
  /** The visitor id cookie (`ours_device_id` or the configured name). */
  deviceId?: string;
  /** `ours_sid`, raw (still with its `sid_` prefix). */
  sid?: string;
  /** Meta's `_fbc` click cookie, raw. */
  fbc?: string;
  /** Meta's `_fbp` browser cookie, raw. */
  fbp?: string;
}

/**
 * Reads only the cookies we need from a `Cookie` header.
 *
 * Why a targeted scan instead of `cookie.parse`: cookie@1 is safe (null
 * prototype object, per-value try/catch, split on the first `=`), but it
 * slices, decodes and stores every pair, which on a header of many cookies
 * costs more than the rest of the per-request work (docs/design.md).
 * Here each wanted name is found with `indexOf` (native, fast) and accepted
 * only at the start of a pair (after `;` or the header start, blanks
 * skipped) and followed by `=`, i.e. exactly when it is the pair's name. The
 * rules match cookie@1: name and value split on the first `=`, spaces and
 * tabs trimmed, first occurrence wins, a bad percent-escape keeps the raw
 * value of that one cookie only. No object is ever keyed by a
 * request-supplied name, so `__proto__` or `constructor` cookies cannot
 * pollute anything. Unlike cookie@1, one pair of surrounding double quotes
 * (RFC 6265 quoted cookie-value) is dropped, and an empty value counts as
 * absent, so the result never holds `''`.
 */
export function readCookies(
  header: unknown,
  deviceCookieName: string = DEFAULT_DEVICE_COOKIE,
): RequestCookies {
  const out: RequestCookies = {};
  if (typeof header !== 'string' || header.length < 3) return out;
  const str = capHeader(header);
  const deviceId = findCookie(str, deviceCookieName);
  if (deviceId !== undefined) out.deviceId = deviceId;
  const sid = findCookie(str, 'ours_sid');
  if (sid !== undefined) out.sid = sid;
  const fbc = findCookie(str, '_fbc');
  if (fbc !== undefined) out.fbc = fbc;
  const fbp = findCookie(str, '_fbp');
  if (fbp !== undefined) out.fbp = fbp;
  return out;
}

/** One cookie of a `Cookie` header, read by the same rules as {@link readCookies}. */
export function readCookie(header: unknown, name: string): string | undefined {
  if (typeof header !== 'string' || header.length < 3) return undefined;
  return findCookie(capHeader(header), name);
}

/** The first non-empty value of cookie `name`, decoded; or undefined. */
function findCookie(str: string, name: string): string | undefined {
  if (name.length === 0) return undefined;
  // Each search starts past the previous hit, so the scan stays linear even
  // when the name also appears inside other values.
  for (let at = str.indexOf(name); at !== -1; at = str.indexOf(name, at + 1)) {
    if (!startsPair(str, at)) continue;
    const eq = skipForward(str, at + name.length, str.length);
    if (str.charCodeAt(eq) !== 0x3d /* = */) continue;
    let end = str.indexOf(';', eq);
    if (end === -1) end = str.length;
    const value = readValue(str, eq + 1, end);
    if (value !== undefined) return value;
  }
  return undefined;
}

/** True when only blanks separate `at` from the header start or a `;`. */
function startsPair(str: string, at: number): boolean {
  let i = at;
  while (i > 0 && isBlank(str.charCodeAt(i - 1))) i--;
  return i === 0 || str.charCodeAt(i - 1) === 0x3b; /* ; */
}

function capHeader(header: string): string {
  if (header.length <= MAX_COOKIE_HEADER_LENGTH) return header;
  const cut = header.lastIndexOf(';', MAX_COOKIE_HEADER_LENGTH);
  return cut === -1 ? '' : header.slice(0, cut);
}

function readValue(str: string, from: number, to: number): string | undefined {
  let start = skipForward(str, from, to);
  let end = skipBackward(str, start, to);
  if (end - start >= 2 && str.charCodeAt(start) === 0x22 && str.charCodeAt(end - 1) === 0x22) {
    start++;
    end--;
  }
  if (end <= start) return undefined;
  const raw = str.slice(start, end);
  return raw.includes('%') ? safeDecode(raw) : raw;
}

/** decodeURIComponent that keeps the raw text of a malformed value. */
function safeDecode(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function skipForward(str: string, start: number, end: number): number {
  while (start < end && isBlank(str.charCodeAt(start))) start++;
  return start;
}

function skipBackward(str: string, start: number, end: number): number {
  while (end > start && isBlank(str.charCodeAt(end - 1))) end--;
  return end;
}

function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09;
}
