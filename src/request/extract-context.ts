import { defaultPropertiesSchema, trackRequestSchema } from '../contract/schema';
import type { DefaultProperties, IdentityContext } from '../contract/types';
import { parseCampaign } from './campaign';
import { applyClientHints, buildUafvl, readClientHints } from './client-hints';
import { normalizeIp } from './client-ip';
import { readCookies } from './cookies';
import type { RequestSource } from './request-source';
import { cutUserAgent, parseUserAgent, truncate } from './user-agent';

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
}

/** What one request tells us about its visitor. */
export interface RequestContext {
  /** `ours_user_id` query parameter, else the visitor cookie (SDK order). */
  userId?: string;
  /** `{ ip, userAgent }` only when both are known (userAgent is the cut UA). */
  identityContext?: IdentityContext;
  defaultProperties: DefaultProperties;
  /** The browser sent `Sec-GPC: 1` (Global Privacy Control). */
  gpc: boolean;
}

type StringField = {
  [K in keyof DefaultProperties]-?: NonNullable<DefaultProperties[K]> extends string ? K : never;
}[keyof DefaultProperties];

// Read once from the contract so limits follow the generated schema.
const LIMITS = new Map<string, number>(
  Object.entries(defaultPropertiesSchema.properties ?? {}).map(([k, s]) => [k, s.maxLength ?? UNBOUNDED_FIELD_CAP]),
);
const USER_ID_MAX = trackRequestSchema.properties?.['userId']?.maxLength ?? 400;
/** Meta's `_fbc` format: `fb.<subdomainIndex>.<creation ms>.<fbclid>`. */
const FBC = /^fb\.\d\.\d+\..+$/;

/**
 * Builds the request context the browser SDK would have sent for this page
 * view, from what a server can honestly know. Unknown fields are left out
 * (never undefined, null or ''), every value is cut to the contract's
 * maxLength. `now` (epoch ms) stamps an `fbc` built from `fbclid`. Never
 * throws on request content.
 */
export function extractContext(source: RequestSource, options: ExtractOptions, now: number): RequestContext {
  const dp: DefaultProperties = {};
  const ip = options.collectIp ? resolveIp(source, options) : undefined;
  put(dp, 'ip', ip);
  const ua = cutUserAgent(source.header('user-agent'));
  put(dp, 'user_agent', ua);
  const hints = readClientHints(source);
  const uaFields = hints === undefined ? parseUserAgent(ua) : applyClientHints(parseUserAgent(ua), hints);
  for (const key in uaFields) put(dp, key as StringField, uaFields[key as keyof typeof uaFields]);
  put(dp, 'uafvl', buildUafvl(hints, uaFields));
  put(dp, 'browser_language', firstLanguage(source.header('accept-language')));
  addLocation(dp, source);
  addReferrer(dp, source.header('referer'));

  const campaign = parseCampaign(source.url);
  for (const key in campaign.params) put(dp, key as StringField, campaign.params[key as keyof typeof campaign.params]);
  const cookies = readCookies(source.header('cookie'), options.cookieName);
  put(dp, 'sid', cookies.sid?.startsWith('sid_') ? cookies.sid.slice(4) : cookies.sid);
  put(dp, 'fbp', cookies.fbp);
  const fbclid = campaign.params.fbclid;
  if (cookies.fbc !== undefined && FBC.test(cookies.fbc)) put(dp, 'fbc', cookies.fbc);
  else if (fbclid !== undefined) put(dp, 'fbc', `fb.1.${Math.floor(now)}.${fbclid}`);

  const ctx: RequestContext = { defaultProperties: dp, gpc: source.header('sec-gpc')?.trim() === '1' };
  const userId = pickUserId(campaign.userId) ?? pickUserId(cookies.deviceId);
  if (userId !== undefined) ctx.userId = userId;
  if (ip !== undefined && ua !== undefined) ctx.identityContext = { ip, userAgent: ua };
  return ctx;
}

/** Sets a string field cut to its limit; skips anything empty or not a string. */
function put(dp: DefaultProperties, key: StringField, value: unknown): void {
  if (typeof value !== 'string' || value.length === 0) return;
  dp[key] = truncate(value, LIMITS.get(key) ?? UNBOUNDED_FIELD_CAP);
}

function resolveIp(source: RequestSource, options: ExtractOptions): string | undefined {
  try {
    return normalizeIp(options.ipResolver(source));
  } catch {
    return undefined; // a resolver bug must not break the request
  }
}

/** A visitor id we can send as is: cutting one would make a different id. */
function pickUserId(id: string | undefined): string | undefined {
  return id !== undefined && id.length <= USER_ID_MAX ? id : undefined;
}

/** First tag of Accept-Language, lower-cased like the SDK (`en-us`). */
function firstLanguage(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const head = header.length > 256 ? header.slice(0, 256) : header;
  const tag = head.split(/[,;]/, 1)[0]?.trim().toLowerCase();
  return tag !== undefined && /^[a-z]{1,8}(-[a-z0-9]{1,8})*$/.test(tag) ? tag : undefined;
}

/** `current_url`, `host`, `pathname` from the framework's protocol and host. */
function addLocation(dp: DefaultProperties, source: RequestSource): void {
  const url = typeof source.url === 'string' ? source.url : '';
  const host = source.host()?.toLowerCase();
  const protocol = source.protocol();
  put(dp, 'host', host);
  if (url.startsWith('/')) {
    put(dp, 'pathname', url.slice(0, pathEnd(url, 0)));
    if (host && (protocol === 'http' || protocol === 'https')) put(dp, 'current_url', `${protocol}://${host}${url}`);
  } else if (/^https?:\/\//i.test(url)) {
    // absolute-form request target (sent to proxies): it already is the URL
    put(dp, 'current_url', url);
    const slash = url.indexOf('/', url.indexOf('//') + 2);
    if (slash !== -1 && slash < pathEnd(url, 0)) put(dp, 'pathname', url.slice(slash, pathEnd(url, slash)));
  }
}

function pathEnd(url: string, from: number): number {
  const q = url.indexOf('?', from);
  const h = url.indexOf('#', from);
  if (q === -1) return h === -1 ? url.length : h;
  return h === -1 ? q : Math.min(q, h);
}

/** `referrer` and `referring_domain`, only for an http(s) URL. */
function addReferrer(dp: DefaultProperties, header: unknown): void {
  if (typeof header !== 'string' || header.length === 0 || header.length > 16 * 1024) return;
  let parsed: URL;
  try {
    parsed = new URL(header);
  } catch {
    return;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return;
  put(dp, 'referrer', header);
  put(dp, 'referring_domain', parsed.hostname);
}
