import type { RequestSource } from './request-source';
import type { UserAgentFields } from './user-agent';

/** Longest client-hint header we parse; real brand lists are ~100 chars. */
const MAX_HINT_LENGTH = 1024;
/** Most brands we keep from one list (Chromium sends three or four). */
const MAX_BRANDS = 16;

/**
 * Chromium's GREASE brands ("Not A(Brand", "Not/A)Brand", " Not;A Brand",
 * ...): "Not", "A", "Brand" separated by random punctuation. They exist to
 * break naive parsers and say nothing about the browser.
 */
const GREASE = /^[^a-z0-9]*not[^a-z0-9]*a[^a-z0-9]*brand[^a-z0-9]*$/i;

/** One entry of `Sec-CH-UA` or `Sec-CH-UA-Full-Version-List`. */
export interface Brand {
  brand: string;
  version: string;
}

/** The User-Agent client hints of one request, GREASE brands removed. */
export interface ClientHints {
  brands?: Brand[];
  fullVersionList?: Brand[];
  platform?: string;
  platformVersion?: string;
  mobile?: boolean;
  model?: string;
}

/**
 * Reads the `Sec-CH-UA*` headers. Returns undefined when none is sent (every
 * non-Chromium browser), so callers can skip all client-hint work.
 */
export function readClientHints(source: Pick<RequestSource, 'header'>): ClientHints | undefined {
  const ua = source.header('sec-ch-ua');
  const full = source.header('sec-ch-ua-full-version-list');
  const platform = source.header('sec-ch-ua-platform');
  const platformVersion = source.header('sec-ch-ua-platform-version');
  const mobile = source.header('sec-ch-ua-mobile');
  const model = source.header('sec-ch-ua-model');
  if (!ua && !full && !platform && !platformVersion && !mobile && !model) return undefined;
  const hints: ClientHints = {};
  const brands = typeof ua === 'string' ? parseBrandList(ua) : [];
  if (brands.length > 0) hints.brands = brands;
  const fullList = typeof full === 'string' ? parseBrandList(full) : [];
  if (fullList.length > 0) hints.fullVersionList = fullList;
  setString(hints, 'platform', platform);
  setString(hints, 'platformVersion', platformVersion);
  setString(hints, 'model', model);
  if (typeof mobile === 'string') {
    const m = mobile.trim();
    if (m === '?1') hints.mobile = true;
    else if (m === '?0') hints.mobile = false;
  }
  return hints;
}

/**
 * Parses an RFC 8941 list of quoted brands with a `v` parameter, e.g.
 * `"Chromium";v="120", "Not A(Brand";v="24"`. GREASE brands are skipped;
 * a syntax error ends the list (what came before it is kept). Never throws.
 */
export function parseBrandList(header: string): Brand[] {
  const s = header.length > MAX_HINT_LENGTH ? header.slice(0, MAX_HINT_LENGTH) : header;
  const out: Brand[] = [];
  const p = { s, i: skipOws(s, 0) };
  while (p.i < s.length && out.length < MAX_BRANDS) {
    const brand = readBareItem(p);
    if (brand === undefined) break;
    let version = '';
    while (s.charCodeAt(p.i) === 0x3b /* ; */) {
      p.i = skipOws(s, p.i + 1);
      const key = readToken(p);
      let value = '';
      if (s.charCodeAt(p.i) === 0x3d /* = */) {
        p.i++;
        value = readBareItem(p) ?? '';
      }
      if (key === 'v') version = value;
    }
    p.i = skipOws(s, p.i);
    const more = s.charCodeAt(p.i) === 0x2c; /* , */
    if (!more && p.i < s.length) break; // junk after an item: drop it, stop
    if (brand.length > 0 && !GREASE.test(brand)) out.push({ brand, version });
    if (!more) break;
    p.i = skipOws(s, p.i + 1);
  }
  return out;
}

/** A structured-header string (`"Windows"`) or token, unquoted; else undefined. */
export function parseSfString(header: string): string | undefined {
  const s = header.length > MAX_HINT_LENGTH ? header.slice(0, MAX_HINT_LENGTH) : header;
  const p = { s, i: skipOws(s, 0) };
  const value = readBareItem(p);
  return value === undefined || value.length === 0 ? undefined : value;
}

interface Cursor {
  s: string;
  i: number;
}

function readBareItem(p: Cursor): string | undefined {
  if (p.s.charCodeAt(p.i) !== 0x22 /* " */) {
    const token = readToken(p);
    return token.length > 0 ? token : undefined;
  }
  let out = '';
  for (let i = p.i + 1; i < p.s.length; i++) {
    const c = p.s[i];
    if (c === '\\') {
      out += p.s[++i] ?? '';
    } else if (c === '"') {
      p.i = i + 1;
      return out;
    } else {
      out += c;
    }
  }
  return undefined; // unterminated string
}

function readToken(p: Cursor): string {
  const start = p.i;
  while (p.i < p.s.length && !' \t,;="'.includes(p.s[p.i] as string)) p.i++;
  return p.s.slice(start, p.i);
}

function skipOws(s: string, i: number): number {
  while (i < s.length && (s.charCodeAt(i) === 0x20 || s.charCodeAt(i) === 0x09)) i++;
  return i;
}

function setString(
  hints: ClientHints,
  key: 'platform' | 'platformVersion' | 'model',
  raw: string | undefined,
): void {
  if (typeof raw !== 'string' || raw.length === 0) return;
  const value = parseSfString(raw);
  if (value !== undefined) hints[key] = value;
}

/**
 * Corrects a (frozen, cached) User-Agent parse with client hints, returning a
 * new object only when something changes. Reduced Chrome UAs freeze the model
 * to "K", Android to "10", macOS to "10.15.7", Windows 11 to "10" and the
 * version to "120.0.0.0"; the hints carry the real values.
 */
export function applyClientHints(
  fields: Readonly<UserAgentFields>,
  hints: ClientHints,
): Readonly<UserAgentFields> {
  const out: UserAgentFields = { ...fields };
  if (hints.model !== undefined) out.device_model = hints.model;
  if (hints.mobile === true) out.device_type = 'mobile';
  if (hints.platform !== undefined) {
    // ua-parser-js 1.x says "Mac OS"; keep one vocabulary for dashboards.
    out.os_name ??= hints.platform === 'macOS' ? 'Mac OS' : hints.platform;
    const os = osVersion(hints.platform, hints.platformVersion);
    if (os !== undefined) out.os_version = os;
  }
  const version = brandVersion(hints.fullVersionList, fields.browser_name);
  if (version !== undefined) out.browser_version = version;
  return out;
}

/** Windows reports 13+ for Windows 11, 1-12 for 10, 0.x for 7/8/8.1 (keep UA). */
function osVersion(platform: string, version: string | undefined): string | undefined {
  if (version === undefined) return undefined;
  if (platform !== 'Windows') return version;
  const major = parseInt(version, 10);
  if (major >= 13) return '11';
  return major >= 1 ? '10' : undefined;
}

/** The full version of the brand that names the parsed browser, if listed. */
function brandVersion(list: Brand[] | undefined, browser: string | undefined): string | undefined {
  if (list === undefined || browser === undefined) return undefined;
  const want = browser.toLowerCase();
  for (const { brand, version } of list) {
    const name = brand.replace(/^(Google|Microsoft) /, '').toLowerCase();
    if (name === want && version.length > 0) return version;
  }
  return undefined;
}

/**
 * `uafvl` as the browser SDK writes it: `encodeURIComponent(brand);version`
 * joined with `|`, from `Sec-CH-UA-Full-Version-List`, else from `Sec-CH-UA`
 * (major versions only; the full list is sent only after `Accept-CH`).
 *
 * Without client hints the SDK falls back to `Browser;version|OS;<platform
 * text>`. Our reading, from the UA parse: `enc(browser_name);browser_version`
 * then `enc(os_name);os_version`, i.e. two brand-shaped pairs; a pair is left
 * out when its name is unknown, its version is empty when unknown.
 */
export function buildUafvl(
  hints: ClientHints | undefined,
  fields: Readonly<UserAgentFields>,
): string | undefined {
  const list = hints?.fullVersionList ?? hints?.brands;
  if (list !== undefined) return list.map((b) => `${encode(b.brand)};${b.version}`).join('|');
  let out = '';
  if (fields.browser_name !== undefined) {
    out = `${encode(fields.browser_name)};${fields.browser_version ?? ''}`;
  }
  if (fields.os_name !== undefined) {
    out += `${out === '' ? '' : '|'}${encode(fields.os_name)};${fields.os_version ?? ''}`;
  }
  return out === '' ? undefined : out;
}

/** encodeURIComponent that cannot throw (lone surrogates). */
function encode(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return '';
  }
}
