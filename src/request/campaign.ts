import type { DefaultProperties } from '../contract/types';

/**
 * Longest query string we scan. Campaign parameters sit in the first few
 * hundred characters; past the cap we stop at the last complete `&` pair, so
 * a value is never read half-cut, and a huge query costs nothing extra.
 */
export const MAX_QUERY_LENGTH = 8 * 1024;

/**
 * The query parameters the browser SDK copies into `defaultProperties`, each a
 * field of the contract's `DefaultProperties`. The SDK also reads `li_did`,
 * which is NOT a contract field: it is only used as `clickid` when `clickid`
 * is absent (see {@link parseCampaign}).
 */
export const CAMPAIGN_FIELDS = [
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_content',
  'utm_name',
  'utm_term',
  'fbclid',
  'ad_id',
  'adset_id',
  'campaign_id',
  'gclid',
  'ndclid',
  'dclid',
  'qclid',
  'gad_source',
  'gbraid',
  'wbraid',
  'msclkid',
  'li_fat_id',
  'ttclid',
  'twclid',
  'clickid',
  'rdt_cid',
  'sccid',
  'irclickid',
  'clid',
  'epik',
  'sacid',
] as const;

/** One of the campaign fields of `DefaultProperties`. */
export type CampaignField = (typeof CAMPAIGN_FIELDS)[number];

/** What the query string tells us. */
export interface CampaignParams {
  /** Campaign and click-id fields, exactly as decoded; absent when not sent. */
  params: Partial<Record<CampaignField, string>>;
  /** `ours_user_id`: the browser SDK's cross-domain visitor-id hand-off. */
  userId?: string;
}

type Target = CampaignField | 'li_did' | 'ours_user_id';

// A Map, not an object: a `__proto__` or `constructor` key must find nothing.
const WANTED = new Map<string, Target>(
  [...CAMPAIGN_FIELDS, 'li_did' as const, 'ours_user_id' as const].map((k) => [k, k]),
);
const LONGEST_KEY = Math.max(...[...WANTED.keys()].map((k) => k.length));

/**
 * Reads the campaign parameters from a raw request target (`/p?utm_source=x`).
 * Keys match case-insensitively; the first non-empty value of a repeated key
 * wins (an empty value counts as not sent: the contract gets no `''`).
 * Values decode like the browser's URLSearchParams (`+` is a space, then
 * percent-decoding), except that a malformed escape keeps the raw value
 * unchanged instead of turning into U+FFFD. Never throws. Does not use a
 * framework's `req.query`, whose shape differs per framework and version.
 */
export function parseCampaign(url: unknown): CampaignParams {
  const result: CampaignParams = { params: {} };
  const query = rawQuery(url);
  if (query === undefined) return result;
  let liDid: string | undefined;
  let start = 0;
  while (start < query.length) {
    let end = query.indexOf('&', start);
    if (end === -1) end = query.length;
    const target = matchKey(query, start, end);
    // A key already set keeps its first value: a repeated key costs no decoding.
    if (
      target !== undefined &&
      !(target === 'ours_user_id'
        ? result.userId
        : target === 'li_did'
          ? liDid
          : result.params[target])
    ) {
      const value = readValue(query, start, end);
      if (value !== undefined) {
        if (target === 'ours_user_id') result.userId ??= value;
        else if (target === 'li_did') liDid ??= value;
        else result.params[target] ??= value;
      }
    }
    start = end + 1;
  }
  if (liDid !== undefined) result.params.clickid ??= liDid;
  return result;
}

/**
 * Copies parsed campaign values into `defaultProperties`, each through `cutToLimit`
 * (which cuts it to the contract's limit). Written out field by field on
 * purpose: named stores keep one object shape, while `into[key] = value` over
 * ~28 distinct keys goes megamorphic (docs/architecture.md, "The hot path").
 */
export function assignCampaign(
  into: DefaultProperties,
  p: CampaignParams['params'],
  cutToLimit: (field: CampaignField, value: string) => string,
): void {
  if (p.utm_source !== undefined) into.utm_source = cutToLimit('utm_source', p.utm_source);
  if (p.utm_medium !== undefined) into.utm_medium = cutToLimit('utm_medium', p.utm_medium);
  if (p.utm_campaign !== undefined) into.utm_campaign = cutToLimit('utm_campaign', p.utm_campaign);
  if (p.utm_content !== undefined) into.utm_content = cutToLimit('utm_content', p.utm_content);
  if (p.utm_name !== undefined) into.utm_name = cutToLimit('utm_name', p.utm_name);
  if (p.utm_term !== undefined) into.utm_term = cutToLimit('utm_term', p.utm_term);
  if (p.fbclid !== undefined) into.fbclid = cutToLimit('fbclid', p.fbclid);
  if (p.ad_id !== undefined) into.ad_id = cutToLimit('ad_id', p.ad_id);
  if (p.adset_id !== undefined) into.adset_id = cutToLimit('adset_id', p.adset_id);
  if (p.campaign_id !== undefined) into.campaign_id = cutToLimit('campaign_id', p.campaign_id);
  if (p.gclid !== undefined) into.gclid = cutToLimit('gclid', p.gclid);
  if (p.ndclid !== undefined) into.ndclid = cutToLimit('ndclid', p.ndclid);
  if (p.dclid !== undefined) into.dclid = cutToLimit('dclid', p.dclid);
  if (p.qclid !== undefined) into.qclid = cutToLimit('qclid', p.qclid);
  if (p.gad_source !== undefined) into.gad_source = cutToLimit('gad_source', p.gad_source);
  if (p.gbraid !== undefined) into.gbraid = cutToLimit('gbraid', p.gbraid);
  if (p.wbraid !== undefined) into.wbraid = cutToLimit('wbraid', p.wbraid);
  if (p.msclkid !== undefined) into.msclkid = cutToLimit('msclkid', p.msclkid);
  if (p.li_fat_id !== undefined) into.li_fat_id = cutToLimit('li_fat_id', p.li_fat_id);
  if (p.ttclid !== undefined) into.ttclid = cutToLimit('ttclid', p.ttclid);
  if (p.twclid !== undefined) into.twclid = cutToLimit('twclid', p.twclid);
  if (p.clickid !== undefined) into.clickid = cutToLimit('clickid', p.clickid);
  if (p.rdt_cid !== undefined) into.rdt_cid = cutToLimit('rdt_cid', p.rdt_cid);
  if (p.sccid !== undefined) into.sccid = cutToLimit('sccid', p.sccid);
  if (p.irclickid !== undefined) into.irclickid = cutToLimit('irclickid', p.irclickid);
  if (p.clid !== undefined) into.clid = cutToLimit('clid', p.clid);
  if (p.epik !== undefined) into.epik = cutToLimit('epik', p.epik);
  if (p.sacid !== undefined) into.sacid = cutToLimit('sacid', p.sacid);
}

/** The query string after `?` (without any `#fragment`), capped; or undefined. */
function rawQuery(url: unknown): string | undefined {
  if (typeof url !== 'string') return undefined;
  const q = url.indexOf('?');
  if (q === -1) return undefined;
  let hash = url.indexOf('#', q);
  if (hash === -1) hash = url.length;
  let query = url.slice(q + 1, hash);
  if (query.length > MAX_QUERY_LENGTH) {
    const cut = query.lastIndexOf('&', MAX_QUERY_LENGTH);
    query = cut === -1 ? '' : query.slice(0, cut);
  }
  return query.length === 0 ? undefined : query;
}

function matchKey(query: string, start: number, end: number): Target | undefined {
  let eq = query.indexOf('=', start);
  if (eq === -1 || eq > end) eq = end;
  // Cheap length check first (a percent-encoded key is at most 3x longer):
  // most keys of a long query are not ours and need no slice or decode.
  if (eq === start || eq - start > 3 * LONGEST_KEY) return undefined;
  const key = decodeKey(query.slice(start, eq));
  if (key === undefined || key.length > LONGEST_KEY) return undefined;
  return WANTED.get(key.toLowerCase());
}

/**
 * A query key decoded for matching. Every wanted key is ASCII, so a key with
 * an escape of anything else, or a malformed escape, cannot match and is not
 * decoded: a query of a thousand `%E0%A4=` keys costs no thrown URIError
 * (a throw costs far more than the test), only a regex test per key.
 */
function decodeKey(raw: string): string | undefined {
  if (!raw.includes('%')) return raw;
  return /%(?![2-7][0-9a-f])/i.test(raw) ? undefined : decodeURIComponent(raw);
}

function readValue(query: string, start: number, end: number): string | undefined {
  const eq = query.indexOf('=', start);
  if (eq === -1 || eq >= end - 1) return undefined;
  const value = decodeComponent(query.slice(eq + 1, end));
  return value.length > 0 ? value : undefined;
}

/** URLSearchParams-style decoding; a malformed escape returns the raw text. */
function decodeComponent(raw: string): string {
  const hasPlus = raw.includes('+');
  if (!hasPlus && !raw.includes('%')) return raw;
  try {
    return decodeURIComponent(hasPlus ? raw.replace(/\+/g, ' ') : raw);
  } catch {
    return raw;
  }
}
