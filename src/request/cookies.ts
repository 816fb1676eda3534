/**
 * Longest Cookie header we scan. Node caps all headers at 16 KiB by default,
 * but operators raise that; our four cookies are short and a browser sends
 * them among the first few kilobytes in practice. Past the cap we stop at the
 * last complete pair, so a value is never read half-cut.
 */
export const MAX_COOKIE_HEADER_LENGTH = 8 * 1024;

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

type Slot = keyof RequestCookies;

/**
 * Reads only the cookies we need from a `Cookie` header.
 *
 * Why a targeted scan instead of `cookie.parse`: cookie@1 is safe (null
 * prototype object, per-value try/catch, split on the first `=`), but it
 * slices, decodes and stores every pair; measured ~8 µs for a 1.5 KB header of
 * 28 cookies, most of our per-request budget. This scan follows the same rules
 * (pairs split on `;`, name and value split on the first `=`, spaces and tabs
 * trimmed, first occurrence wins, a bad percent-escape keeps the raw value and
 * only that value) but allocates only for the four names we want, and never
 * creates an object keyed by a request-supplied name, so `__proto__` or
 * `constructor` cookies cannot pollute anything. Unlike cookie@1 it also drops
 * one pair of surrounding double quotes (RFC 6265 quoted cookie-value).
 * Empty values count as absent, so the result never holds `''`.
 */
export function readCookies(header: unknown, deviceCookieName: string = DEFAULT_DEVICE_COOKIE): RequestCookies {
  const out: RequestCookies = {};
  if (typeof header !== 'string' || header.length < 3) return out;
  const str = capHeader(header);
  const names: readonly [string, Slot][] = [
    [deviceCookieName, 'deviceId'],
    ['ours_sid', 'sid'],
    ['_fbc', 'fbc'],
    ['_fbp', 'fbp'],
  ];
  let found = 0;
  let index = 0;
  let eq = -1;
  const len = str.length;
  while (index < len && found < names.length) {
    let end = str.indexOf(';', index);
    if (end === -1) end = len;
    // Reuse the last '=' found while it is still ahead of us: re-searching
    // from each pair would be quadratic on a header of many '='-less pairs.
    if (eq < index) eq = str.indexOf('=', index);
    if (eq === -1) break;
    if (eq < end) {
      const keyStart = skipForward(str, index, eq);
      const keyEnd = skipBackward(str, keyStart, eq);
      for (const [name, slot] of names) {
        if (out[slot] !== undefined || name.length !== keyEnd - keyStart) continue;
        if (!str.startsWith(name, keyStart)) continue;
        const value = readValue(str, eq + 1, end);
        if (value !== undefined) {
          out[slot] = value;
          found++;
        }
      }
    }
    index = end + 1;
  }
  return out;
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
