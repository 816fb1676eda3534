import { CAMPAIGN_FIELDS } from './campaign';

/** What replaces a redacted value: the key stays, so analytics still sees the URL's shape. */
export const REDACTED = 'REDACTED';

/**
 * Query keys whose values are redacted, compared after lower-casing and
 * dropping everything but letters and digits (`X-Goog-Signature`,
 * `x_goog_signature` and `xGoogSignature` are one key). A key matches when
 * it equals one of these.
 */
export const REDACTED_KEYS: readonly string[] = [
  // OpenTelemetry's default (url.query): signed-URL signatures and key ids
  'sig',
  'signature',
  'awsaccesskeyid',
  'xgoogsignature',
  // codes and one-time secrets: OAuth, magic links, password resets, MFA
  'code',
  'authcode',
  'state',
  'nonce',
  'otp',
  'pin',
  'ticket',
  'jwt',
  'key',
  'auth',
  'samlresponse',
  'samlrequest',
  'relaystate',
  'pw',
  'pwd',
  'pass',
  // session ids
  'sid',
  'sessid',
  'jsessionid',
  'phpsessid',
  'aspsessionid',
  // personal data
  'name',
  'firstname',
  'lastname',
  'fullname',
  'middlename',
  'surname',
  'givenname',
  'familyname',
  'username',
  'user',
  'login',
  'tel',
  'mobile',
  'dob',
  'birthdate',
  'dateofbirth',
  'birthday',
  'ssn',
  'mrn',
  'patient',
  'patientid',
  'address',
  'zip',
  'zipcode',
  'postcode',
  'postalcode',
];

/**
 * Substrings that make a key sensitive wherever they appear in it
 * (`access_token`, `reset_password`, `user[email]`, `X-Amz-Credential`).
 */
export const REDACTED_KEY_PARTS: readonly string[] = [
  'token',
  'secret',
  'passw',
  'signature',
  'credential',
  'session',
  'apikey',
  'accesskey',
  'privatekey',
  'email',
  'phone',
];

/** Campaign parameters are never redacted: they are what the analytics is for. */
const NEVER_REDACTED = new Set<string>([...CAMPAIGN_FIELDS, 'li_did', 'ours_user_id']);

/** Something that looks like an email address. */
const EMAIL = /[^\s@/?#&=]+@[^\s@/?#&=]+\.[a-z]{2,}/i;

const DEFAULT_KEYS = new Set(REDACTED_KEYS);

/** `X-Goog-Signature` -> `xgoogsignature`. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Redaction rules compiled once per middleware: the keys to redact on top of the defaults. */
export interface RedactionRules {
  readonly extraKeys: ReadonlySet<string>;
}

const DEFAULT_RULES: RedactionRules = { extraKeys: new Set() };

/** Compiles the default rules plus `extraKeys` (compared like the defaults, after {@link normalizeKey}). */
export function compileRedaction(extraKeys: readonly string[] = []): RedactionRules {
  const keys = new Set(extraKeys.map(normalizeKey).filter((k) => k.length > 0));
  return keys.size === 0 ? DEFAULT_RULES : { extraKeys: keys };
}

/**
 * The URL (or path) with the values of sensitive query parameters, and any
 * value or path segment that looks like an email address, replaced by
 * {@link REDACTED}. Keys, order, campaign parameters and everything else stay
 * byte for byte. `extraKeys` are keys to redact on top of the defaults.
 * Never throws.
 *
 * @example
 * redactUrl('https://clinic.example/reset?token=abc&utm_source=mail');
 * // 'https://clinic.example/reset?token=REDACTED&utm_source=mail'
 */
export function redactUrl(url: string, extraKeys?: readonly string[]): string {
  return applyRedaction(url, extraKeys ? compileRedaction(extraKeys) : DEFAULT_RULES);
}

/**
 * {@link redactUrl} with compiled rules. Native searches over the part after
 * the path, no URL parsing, and no string built unless something is
 * redacted: most URLs carry only campaign parameters, and come back as is.
 */
export function applyRedaction(url: string, rules: RedactionRules): string {
  const query = url.indexOf('?');
  const hash = url.indexOf('#');
  const pathEnd =
    query === -1 ? (hash === -1 ? url.length : hash) : hash !== -1 && hash < query ? hash : query;
  const redacted = pathEnd === url.length ? url : redactParams(url, pathEnd, hash, rules.extraKeys);
  const path = pathEnd === url.length ? url : url.slice(0, pathEnd);
  if (!path.includes('@') && !path.includes('%40') && !path.includes(';')) return redacted;
  return redactPath(path, rules.extraKeys) + redacted.slice(pathEnd);
}

/**
 * Redacts the `&`-separated `key=value` pairs after `from` (the `?` or `#`),
 * as URLSearchParams splits them. The fragment is read as pairs too: OAuth's
 * implicit flow puts tokens there.
 */
function redactParams(
  url: string,
  from: number,
  hash: number,
  extraKeys: ReadonlySet<string>,
): string {
  let out = '';
  let copied = 0;
  let fragment = hash > from ? hash : url.indexOf('#', from + 1); // where the next pair list starts
  if (fragment === -1) fragment = url.length;
  for (let start = from + 1; start <= url.length;) {
    let end = url.indexOf('&', start);
    if (end === -1 || end > fragment) end = fragment;
    const pair = url.slice(start, end);
    const eq = pair.indexOf('=');
    if (
      eq > 0 &&
      eq < pair.length - 1 &&
      isSensitive(pair.slice(0, eq), pair.slice(eq + 1), extraKeys)
    ) {
      out += `${url.slice(copied, start + eq + 1)}${REDACTED}`;
      copied = end;
    }
    if (end === fragment && end < url.length) {
      fragment = url.indexOf('#', end + 1);
      if (fragment === -1) fragment = url.length;
    }
    start = end + 1;
  }
  return copied === 0 ? url : out + url.slice(copied);
}

function isSensitive(rawKey: string, rawValue: string, extraKeys: ReadonlySet<string>): boolean {
  if (NEVER_REDACTED.has(rawKey)) return false; // the common case, before any decoding
  const key = decode(rawKey).toLowerCase();
  if (NEVER_REDACTED.has(key)) return false;
  const normal = normalizeKey(key);
  if (DEFAULT_KEYS.has(normal) || extraKeys.has(normal)) return true;
  for (const part of REDACTED_KEY_PARTS) if (normal.includes(part)) return true;
  return looksLikeEmail(rawValue);
}

function looksLikeEmail(raw: string): boolean {
  return (raw.includes('@') || raw.includes('%40')) && EMAIL.test(decode(raw));
}

/**
 * Path segments that look like an email address, and sensitive matrix
 * parameters (`/cart;jsessionid=...`); a URL's `user@host` authority is not
 * a segment.
 */
function redactPath(path: string, extraKeys: ReadonlySet<string>): string {
  const authority = path.indexOf('//');
  const start = authority === -1 ? 0 : path.indexOf('/', authority + 2);
  if (start === -1) return path;
  return (
    path.slice(0, start) +
    path.slice(start).replace(/[^/]+/g, (segment) => {
      const semi = segment.indexOf(';');
      const name = semi === -1 ? segment : segment.slice(0, semi);
      const params =
        semi === -1
          ? ''
          : segment
              .slice(semi)
              .replace(/;([^;=]+)=([^;]+)/g, (pair, key: string, value: string) =>
                isSensitive(key, value, extraKeys) ? `;${key}=${REDACTED}` : pair,
              );
      return (looksLikeEmail(name) ? REDACTED : name) + params;
    })
  );
}

/** Form decoding (`+` is a space), keeping the raw text of a malformed escape. */
function decode(raw: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw;
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return raw;
  }
}
