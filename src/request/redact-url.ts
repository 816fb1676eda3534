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
  'sig', 'signature', 'awsaccesskeyid', 'xgoogsignature',
  // codes and one-time secrets: OAuth, magic links, password resets, MFA
  'code', 'authcode', 'state', 'nonce', 'otp', 'pin', 'ticket', 'jwt', 'key', 'auth',
  'samlresponse', 'samlrequest', 'relaystate', 'pw', 'pwd', 'pass',
  // session ids
  'sid', 'sessid', 'jsessionid', 'phpsessid', 'aspsessionid',
  // personal data
  'name', 'firstname', 'lastname', 'fullname', 'middlename', 'surname', 'givenname', 'familyname',
  'username', 'user', 'login', 'tel', 'mobile', 'dob', 'birthdate', 'dateofbirth', 'birthday',
  'ssn', 'mrn', 'patient', 'patientid', 'address', 'zip', 'zipcode', 'postcode', 'postalcode',
];

/**
 * Substrings that make a key sensitive wherever they appear in it
 * (`access_token`, `reset_password`, `user[email]`, `X-Amz-Credential`).
 */
export const REDACTED_KEY_PARTS: readonly string[] = [
  'token', 'secret', 'passw', 'signature', 'credential', 'session', 'apikey', 'accesskey',
  'privatekey', 'email', 'phone',
];

/** Campaign parameters are never redacted: they are what the analytics is for. */
const NEVER_REDACTED = new Set<string>([...CAMPAIGN_FIELDS, 'li_did', 'ours_user_id']);

/**
 * A cheap first look at a query: when none of these occurs, no key or value
 * can match, and the URL is returned as it is without being split. Each
 * entry of the lists above contains one of them.
 */
const MAYBE_SENSITIVE = /sig|key|cod|stat|nonce|otp|pin|tick|jwt|aut|saml|pw|pas|s_?id|sess|nam|user|log|tel|mob|dob|birth|ssn|mrn|patient|addr|zip|post|tok|secr|cred|mail|phone|@|%40/i;

/** Something that looks like an email address. */
const EMAIL = /[^\s@/?#&=]+@[^\s@/?#&=]+\.[a-z]{2,}/i;

const DEFAULT_KEYS = new Set(REDACTED_KEYS);

/** `X-Goog-Signature` -> `xgoogsignature`. */
export function normalizeKey(key: string): string {
  return key.toLowerCase().replace(/[^a-z0-9]/g, '');
}

/** Redaction rules compiled once per middleware: the keys to redact and the cheap first look. */
export interface RedactionRules {
  readonly extraKeys: ReadonlySet<string>;
  readonly probe: RegExp;
}

const DEFAULT_RULES: RedactionRules = { extraKeys: new Set(), probe: MAYBE_SENSITIVE };

/**
 * Compiles the default rules plus `extraKeys` (compared like the defaults,
 * after {@link normalizeKey}). The first look gains each extra key's first
 * three letters.
 */
export function compileRedaction(extraKeys: readonly string[] = []): RedactionRules {
  const keys = new Set(extraKeys.map(normalizeKey).filter((k) => k.length > 0));
  if (keys.size === 0) return DEFAULT_RULES;
  const heads = [...keys].map((k) => k.slice(0, 3));
  return { extraKeys: keys, probe: new RegExp(`${MAYBE_SENSITIVE.source}|${heads.join('|')}`, 'i') };
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

/** {@link redactUrl} with compiled rules. */
export function applyRedaction(url: string, rules: RedactionRules): string {
  const query = url.indexOf('?');
  const fragment = url.indexOf('#');
  const pathEnd = query === -1 ? (fragment === -1 ? url.length : fragment) : fragment === -1 ? query : Math.min(query, fragment);
  const path = pathEnd === url.length ? url : url.slice(0, pathEnd);
  const cleanPath = path.includes('@') || path.includes('%40') ? redactPathEmails(path) : path;
  if (pathEnd === url.length) return cleanPath;
  const rest = url.slice(pathEnd);
  if (!rules.probe.test(rest)) return cleanPath === path ? url : cleanPath + rest;
  // `?query` and `#fragment` are both key=value lists here (OAuth's implicit flow puts tokens in the fragment).
  return cleanPath + rest.replace(/([?#&;])([^?#&;=]*)=([^?#&;]*)/g, (pair, sep: string, key: string, value: string) =>
    isSensitive(key, value, rules.extraKeys) ? `${sep}${key}=${REDACTED}` : pair,
  );
}

function isSensitive(rawKey: string, rawValue: string, extraKeys: ReadonlySet<string>): boolean {
  if (rawValue.length === 0) return false;
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

/** Path segments that look like an email address; a URL's `user@host` authority is not a segment. */
function redactPathEmails(path: string): string {
  const authority = path.indexOf('//');
  const start = authority === -1 ? 0 : path.indexOf('/', authority + 2);
  if (start === -1) return path;
  return path.slice(0, start) + path.slice(start).replace(/[^/]+/g, (segment) => (looksLikeEmail(segment) ? REDACTED : segment));
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
