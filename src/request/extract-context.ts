import { defaultPropertiesSchema } from '../contract/schema';
import type { DefaultProperties, IdentityContext } from '../contract/types';
import { assignCampaign, parseCampaign } from './campaign';
import { applyClientHints, buildUafvl, readClientHints } from './client-hints';
import { normalizeIp } from './client-ip';
import { readCookies, type RequestCookies } from './cookies';
import type { UrlRedaction } from './redact-option';
import type { RequestSource } from './request-source';
import { DeviceCache } from './device-cache';
import { cutUserAgent, parseUserAgent, truncate } from './user-agent';
import { isVisitorId } from './visitor-id';

/**
 * Cap for fields the contract leaves unbounded (`current_url`, `is_bot`,
 * ...): a request must not be able to make us hold or send megabytes.
 */
export const UNBOUNDED_FIELD_CAP = 4096;

/** How {@link extractContext} reads a request; defaults are the caller's job. */
export interface ExtractOptions {
  /** The visitor-id cookie, normally `ours_device_id`. */
  cookieName: string;
  /** false: no IP anywhere (no `defaultProperties.ip`, no `identityContext`). */
  collectIp: boolean;
  /** Picks the raw client IP (framework ip, trustProxy, request-ip). */
  ipResolver: (source: RequestSource) => string | undefined;
  /** Redacts `current_url`, `referrer` and `pathname`; absent with `redact: false`. */
  redact?: UrlRedaction;
  /** Told when the visitor cookie or `ours_user_id` is not a visitor id (the value is not passed on). */
  onInvalidVisitorId?: () => void;
}

/** What one request tells us about its visitor. */
export interface RequestContext {
  /** `ours_user_id` query parameter, else the visitor cookie (SDK order). */
  userId?: string | undefined;
  /** `{ ip, userAgent }` only when both are known (userAgent is the cut UA). */
  identityContext?: IdentityContext | undefined;
  defaultProperties: DefaultProperties;
  /** The browser sent `Sec-GPC: 1` (Global Privacy Control). */
  gpc: boolean;
}

type StringField = {
  [K in keyof DefaultProperties]-?: NonNullable<DefaultProperties[K]> extends string ? K : never;
}[keyof DefaultProperties];

// Read once from the contract so limits follow the generated schema.
const LIMITS = new Map<string, number>(
  Object.entries(defaultPropertiesSchema.properties ?? {}).map(([key, schema]) => [
    key,
    schema.maxLength ?? UNBOUNDED_FIELD_CAP,
  ]),
);
/** Meta's `_fbc` format: `fb.<subdomainIndex>.<creation ms>.<fbclid>`. */
const FBC = /^fb\.\d\.\d+\..+$/;
/** A BCP 47-shaped first tag of Accept-Language (`*` and junk are skipped). */
const LANGUAGE = /^[ \t]*([a-z]{1,8}(?:-[a-z0-9]{1,8})*)[ \t]*(?:[,;]|$)/i;
const HINT_HEADERS = [
  'sec-ch-ua',
  'sec-ch-ua-full-version-list',
  'sec-ch-ua-platform',
  'sec-ch-ua-platform-version',
  'sec-ch-ua-mobile',
  'sec-ch-ua-model',
] as const;
/** Distinct UA + client-hint combinations kept parsed (oldest evicted). */
const DEVICE_CACHE_SIZE = 2000;
/**
 * Longest cache key we store: with it the cache holds at most ~8 MB even if
 * clients send huge random hint headers (the UA is already cut to 500).
 */
const DEVICE_KEY_MAX = 2048;
const deviceCache = new DeviceCache<Readonly<DefaultProperties>>(DEVICE_CACHE_SIZE, DEVICE_KEY_MAX);

/**
 * Builds the request context the browser SDK would have sent for this page
 * view, from what a server can honestly know. Unknown fields are left out
 * (never undefined, null or ''), every value is cut to the contract's
 * maxLength. `now` (epoch ms) stamps an `fbc` built from `fbclid`. Never
 * throws on request content.
 */
export function extractContext(
  source: RequestSource,
  options: ExtractOptions,
  now: number,
): RequestContext {
  const ua = cutUserAgent(source.header('user-agent'));
  // Spread of a cached frozen object, then named stores only: keyed stores
  // (`dp[key] = v`) over ~25 fields go megamorphic (docs/architecture.md, "The hot path").
  const dp: DefaultProperties = { ...deviceProperties(source, ua) };
  const ip = options.collectIp ? resolveIp(source, options) : undefined;
  if (ip !== undefined) dp.ip = ip; // a valid IP is at most 45 chars
  if (ua !== undefined) dp.user_agent = ua; // already cut to 500
  const language = firstLanguage(source.header('accept-language'));
  if (language !== undefined) dp.browser_language = language; // at most 256 chars
  addLocation(dp, source, options.redact);
  addReferrer(dp, source.header('referer'), options.redact);
  const campaign = parseCampaign(source.url);
  const params = campaign.params;
  assignCampaign(dp, params, cutToLimit);
  const cookies = readCookies(source.header('cookie'), options.cookieName);
  addCookies(dp, cookies, params.fbclid, now);

  const gpc = source.header('sec-gpc')?.trim() === '1';
  const ctx: RequestContext = { defaultProperties: dp, gpc };
  const userId = visitorId(campaign.userId, options) ?? visitorId(cookies.deviceId, options);
  if (userId !== undefined) ctx.userId = userId;
  if (ip !== undefined && ua !== undefined) ctx.identityContext = { ip, userAgent: ua };
  return ctx;
}

/** The value cut to the field's contract limit; undefined when empty or not a string. */
function withinLimit(key: StringField, value: unknown): string | undefined {
  if (typeof value !== 'string' || value.length === 0) return undefined;
  return cutToLimit(key, value);
}

/** A non-empty string cut to the field's contract limit. */
function cutToLimit(key: StringField, value: string): string {
  return truncate(value, LIMITS.get(key) ?? UNBOUNDED_FIELD_CAP);
}

/**
 * UA fields corrected by client hints, plus `uafvl`, cut to their limits.
 * Cached by the UA and the raw hint headers: a server sees the same few
 * thousand combinations, and parsing hints costs more than the lookup.
 */
function deviceProperties(
  source: RequestSource,
  ua: string | undefined,
): Readonly<DefaultProperties> {
  const hintValues: (string | undefined)[] = [];
  for (let i = 0; i < HINT_HEADERS.length; i++) {
    const value = source.header(HINT_HEADERS[i] as string);
    hintValues.push(typeof value === 'string' && value.length > 0 ? value : undefined);
  }
  const hit = deviceCache.get(ua ?? '', hintValues);
  if (hit !== undefined) return hit;
  const hints = readClientHints(source);
  const parsed = parseUserAgent(ua);
  const fields = hints === undefined ? parsed : applyClientHints(parsed, hints);
  const out: DefaultProperties = {};
  for (const name in fields) {
    const value = withinLimit(name as StringField, fields[name as keyof typeof fields]);
    if (value !== undefined) out[name as StringField] = value;
  }
  const uafvl = withinLimit('uafvl', buildUafvl(hints, fields));
  if (uafvl !== undefined) out.uafvl = uafvl;
  const frozen = Object.freeze(out);
  deviceCache.set(ua ?? '', hintValues, frozen);
  return frozen;
}

function addCookies(
  dp: DefaultProperties,
  cookies: RequestCookies,
  fbclid: string | undefined,
  now: number,
): void {
  const sid = withinLimit(
    'sid',
    cookies.sid?.startsWith('sid_') ? cookies.sid.slice(4) : cookies.sid,
  );
  if (sid !== undefined) dp.sid = sid;
  const fbp = withinLimit('fbp', cookies.fbp);
  if (fbp !== undefined) dp.fbp = fbp;
  // A well-formed _fbc cookie wins; else build one as Meta's pixel would,
  // with subdomainIndex 1 (what a server without the cookie uses).
  const raw = cookies.fbc !== undefined && FBC.test(cookies.fbc) ? cookies.fbc : undefined;
  const built = fbclid === undefined ? undefined : `fb.1.${Math.floor(now)}.${fbclid}`;
  const fbc = withinLimit('fbc', raw ?? built);
  if (fbc !== undefined) dp.fbc = fbc;
}

function resolveIp(source: RequestSource, options: ExtractOptions): string | undefined {
  try {
    return normalizeIp(options.ipResolver(source));
  } catch {
    return undefined; // a resolver bug must not break the request
  }
}

/** The id when it is one the browser SDK could have written; anything else is no visitor. */
function visitorId(id: string | undefined, options: ExtractOptions): string | undefined {
  if (id === undefined || isVisitorId(id)) return id;
  options.onInvalidVisitorId?.();
  return undefined;
}

/** First tag of Accept-Language, lower-cased like the SDK (`en-us`). */
function firstLanguage(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = LANGUAGE.exec(header.length > 256 ? header.slice(0, 256) : header);
  return m?.[1]?.toLowerCase();
}

/** `current_url`, `host`, `pathname` from the framework's protocol and host, path templated and redacted. */
function addLocation(
  dp: DefaultProperties,
  source: RequestSource,
  redact: UrlRedaction | undefined,
): void {
  const url = typeof source.url === 'string' ? source.url : '';
  const host = source.host()?.toLowerCase();
  const protocol = source.protocol();
  let origin: string | undefined;
  let pathname: string | undefined;
  let end = 0;
  if (url.startsWith('/')) {
    end = pathEnd(url, 0);
    pathname = url.slice(0, end);
    if (host && (protocol === 'http' || protocol === 'https')) origin = `${protocol}://${host}`;
  } else if (/^https?:\/\//i.test(url)) {
    // absolute-form request target (sent to proxies): it already is the URL
    end = pathEnd(url, 0);
    const slash = url.indexOf('/', url.indexOf('//') + 2);
    if (slash !== -1 && slash < end) pathname = url.slice(slash, end);
    origin = url.slice(0, slash !== -1 && slash < end ? slash : end);
  }
  if (redact && pathname !== undefined) pathname = redact.path(pathname);
  let currentUrl = origin === undefined ? undefined : origin + (pathname ?? '') + url.slice(end);
  if (redact && currentUrl !== undefined) currentUrl = redact.url(currentUrl);
  const h = withinLimit('host', host);
  if (h !== undefined) dp.host = h;
  const p = withinLimit('pathname', pathname);
  if (p !== undefined) dp.pathname = p;
  const c = withinLimit('current_url', currentUrl);
  if (c !== undefined) dp.current_url = c;
}

function pathEnd(url: string, from: number): number {
  const q = url.indexOf('?', from);
  const h = url.indexOf('#', from);
  if (q === -1) return h === -1 ? url.length : h;
  return h === -1 ? q : Math.min(q, h);
}

/** `referrer` (redacted) and `referring_domain`, only for an http(s) URL. */
function addReferrer(
  dp: DefaultProperties,
  header: unknown,
  redact: UrlRedaction | undefined,
): void {
  if (typeof header !== 'string' || header.length === 0 || header.length > 16 * 1024) return;
  const hostname = httpHostname(header);
  if (hostname === undefined) return;
  const referrer = withinLimit('referrer', redact ? redact.url(header) : header);
  if (referrer !== undefined) dp.referrer = referrer;
  const domain = withinLimit('referring_domain', hostname);
  if (domain !== undefined) dp.referring_domain = domain;
}

/**
 * `http(s)://` and a plain host name (ASCII labels, a last label with a
 * letter, an optional port), then the path or the end: nearly every Referer.
 * For these the WHATWG parser's hostname is the lower-cased name, and the
 * parser itself costs more than the rest of the extraction (bench/micro).
 */
const PLAIN_HTTP_URL =
  /^https?:\/\/((?:[a-z0-9-]+\.)*([a-z0-9-]*[a-z][a-z0-9-]*))(?::(\d{1,5}))?(?:[/?#]|$)/i;

/** The hostname of an http(s) URL as `new URL()` gives it, else undefined. */
export function httpHostname(url: string): string | undefined {
  const m = PLAIN_HTTP_URL.exec(url);
  // Punycode labels (IDNA checks), `0x` hex (an IPv4 number) and big ports go the long way.
  if (
    m &&
    !/^0x/i.test(m[2]!) &&
    !/xn--/i.test(m[1]!) &&
    (m[3] === undefined || Number(m[3]) <= 65535)
  ) {
    return m[1]!.toLowerCase();
  }
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  return parsed.protocol === 'http:' || parsed.protocol === 'https:' ? parsed.hostname : undefined;
}
