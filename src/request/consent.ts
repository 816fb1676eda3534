import { describeValue, OursConfigError } from '../errors';
import type { UserPropertiesInput } from '../events';
import { readCookie } from './cookies';
import { syncResult } from './sync-hook';
import type { RequestSource } from './request-source';

/** The consent banner cookie Ours' consent settings name by default. */
export const DEFAULT_CONSENT_COOKIE = 'op_consent';

/** Consent per category as an app states it: `true`/`false` become `'true'`/`'false'`. */
export type ConsentChoices = Record<string, boolean | string | null | undefined>;

/**
 * Where each event's `userProperties.consent` comes from: a function of the
 * request, or the Ours consent banner's cookie (`'cookie'` for `op_consent`,
 * or `{ cookie: name }`).
 */
export type ConsentOption<Req> =
  ((req: Req) => ConsentChoices | null | undefined) | 'cookie' | { cookie: string };

/** What `userProperties.consent` holds: category -> `'true'` / `'false'` (the contract's strings). */
export type ConsentMap = Record<string, string>;

/** Longest category name and most categories taken from a cookie or a hook. */
const MAX_CATEGORY_LENGTH = 64;
const MAX_CATEGORIES = 32;

/** Reads one request's consent; `unparsable` is told when the cookie is there but not in a known format. */
export interface ConsentReader<Req> {
  read(req: Req, source: RequestSource, unparsable: () => void): ConsentMap | undefined;
}

/** Compiles the `consent` option; undefined when off. */
export function resolveConsent<Req>(
  value: ConsentOption<Req> | undefined,
): ConsentReader<Req> | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function')
    return { read: (req) => fromChoices(syncResult('consent', value(req))) };
  const name =
    value === 'cookie'
      ? DEFAULT_CONSENT_COOKIE
      : typeof value === 'object' && value !== null
        ? value.cookie
        : undefined;
  if (typeof name !== 'string' || !/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
    throw new OursConfigError(
      'consent',
      `must be a function, 'cookie' or { cookie: <cookie name> }, got ${describeValue(value)}`,
    );
  }
  return {
    read(_req, source, unparsable) {
      const raw = readCookie(source.header('cookie'), name);
      if (raw === undefined) return undefined;
      const consent = parseBannerCookie(raw);
      if (consent === undefined) unparsable();
      return consent;
    },
  };
}

/**
 * The consent banner's cookie, in vanilla-cookieconsent's v3 format: JSON
 * with `categories` (the accepted ones) and `services` (one entry per
 * category the banner knows, so a category there but not accepted was
 * declined). Accepted -> `'true'`, declined -> `'false'`; nothing else is
 * inferred. Undefined when the value is not in that format.
 */
export function parseBannerCookie(raw: string): ConsentMap | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return undefined;
  }
  const { categories, services } = (parsed ?? {}) as { categories?: unknown; services?: unknown };
  if (!Array.isArray(categories) || !categories.every(isCategory)) return undefined;
  const known =
    services !== null && typeof services === 'object' && !Array.isArray(services)
      ? Object.keys(services).filter(isCategory)
      : [];
  const entries: [string, string][] = [];
  for (const name of known) if (!categories.includes(name)) entries.push([name, 'false']);
  for (const name of categories as string[]) entries.push([name, 'true']);
  return toMap(entries);
}

/** The app's answer as the contract's strings; undefined when it holds nothing. */
export function fromChoices(choices: ConsentChoices | null | undefined): ConsentMap | undefined {
  if (choices === null || typeof choices !== 'object' || Array.isArray(choices)) return undefined;
  const entries: [string, string][] = [];
  for (const [name, value] of Object.entries(choices)) {
    if (!isCategory(name)) continue;
    if (typeof value === 'boolean') entries.push([name, String(value)]);
    else if (typeof value === 'string') entries.push([name, value]);
  }
  return toMap(entries);
}

/**
 * With `gpc: 'consent'`: a `Sec-GPC: 1` request has advertising denied, as
 * Ours' `autoDisableOnGPC` does in the browser, whatever else was stated.
 */
export function withGpc(consent: ConsentMap | undefined): ConsentMap {
  return { ...consent, advertising: 'false' };
}

/** `userProperties` with the request's consent under it; the call's own `consent` entries win. */
export function withConsent(
  userProperties: UserPropertiesInput | null | undefined,
  consent: ConsentMap,
): UserPropertiesInput {
  return { ...userProperties, consent: { ...consent, ...userProperties?.consent } };
}

function isCategory(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && name.length <= MAX_CATEGORY_LENGTH;
}

/** Never an empty map: an empty `consent` could wipe what Ours holds for the visitor. */
function toMap(entries: [string, string][]): ConsentMap | undefined {
  if (entries.length === 0) return undefined;
  // fromEntries defines own keys: a `__proto__` category is a plain key, not a prototype.
  return Object.fromEntries(entries.slice(0, MAX_CATEGORIES)) as ConsentMap;
}
