import UAParser from 'ua-parser-js';
import { isbot } from 'isbot';

/** Longest User-Agent we keep, send or parse (ua-parser-js 1.x's own limit). */
export const MAX_USER_AGENT_LENGTH = 500;

/**
 * How many distinct User-Agents we keep parsed. A server sees a few thousand
 * distinct strings a day; 2,000 entries of ~10 short strings each stay well
 * under a megabyte, and a Map hit costs a small fraction of a parse (figures
 * in docs/performance.md).
 */
const CACHE_SIZE = 2000;

/** The `DefaultProperties` fields that come out of a User-Agent string. */
export interface UserAgentFields {
  browser_name?: string;
  browser_version?: string;
  os_name?: string;
  os_version?: string;
  device_type?: string;
  device_model?: string;
  device_vendor?: string;
  engine_name?: string;
  engine_version?: string;
  cpu_architecture?: string;
  /** `'true'` for known crawlers; absent otherwise. */
  is_bot?: string;
}

const EMPTY: Readonly<UserAgentFields> = Object.freeze({});
const cache = new Map<string, Readonly<UserAgentFields>>();

/**
 * Cuts `value` to at most `max` UTF-16 units without splitting a surrogate
 * pair (a lone surrogate would turn into U+FFFD somewhere downstream).
 */
export function truncate(value: string, max: number): string {
  if (value.length <= max) return value;
  const code = value.charCodeAt(max - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? max - 1 : max;
  return value.slice(0, end);
}

/**
 * The User-Agent as we keep it: a string cut to {@link MAX_USER_AGENT_LENGTH},
 * or undefined when absent, empty or not a string.
 */
export function cutUserAgent(raw: unknown): string | undefined {
  if (typeof raw !== 'string' || raw.length === 0) return undefined;
  return truncate(raw, MAX_USER_AGENT_LENGTH);
}

/**
 * Parses a User-Agent into `DefaultProperties` fields with ua-parser-js 1.x and
 * isbot. The input is cut to 500 characters first, so a 100 kB header costs
 * the same as a normal one. Results are cached (bounded, oldest evicted) and
 * frozen: callers must copy before changing anything.
 *
 * `device_type` is `'desktop'` when the parser finds none and the agent is not
 * a bot (ua-parser-js never reports desktop). Unknown fields are left out.
 * A missing or empty User-Agent yields an empty object: nothing is known.
 */
export function parseUserAgent(raw: unknown): Readonly<UserAgentFields> {
  const ua = cutUserAgent(raw);
  if (ua === undefined) return EMPTY;
  const hit = cache.get(ua);
  if (hit !== undefined) return hit;
  const fields = Object.freeze(parseUncached(ua));
  if (cache.size >= CACHE_SIZE) {
    // Map iterates in insertion order, so the first key is the oldest entry.
    const oldest = cache.keys().next().value;
    if (oldest !== undefined) cache.delete(oldest);
  }
  cache.set(ua, fields);
  return fields;
}

/** Empties the parse cache (tests and memory-pressure hooks). */
export function clearUserAgentCache(): void {
  cache.clear();
}

/** Current number of cached User-Agents (for tests and diagnostics). */
export function userAgentCacheSize(): number {
  return cache.size;
}

function parseUncached(ua: string): UserAgentFields {
  const r = new UAParser(ua).getResult();
  const out: UserAgentFields = {};
  set(out, 'browser_name', r.browser.name);
  set(out, 'browser_version', r.browser.version);
  set(out, 'os_name', r.os.name);
  set(out, 'os_version', r.os.version);
  set(out, 'device_type', r.device.type);
  set(out, 'device_model', r.device.model);
  set(out, 'device_vendor', r.device.vendor);
  set(out, 'engine_name', r.engine.name);
  set(out, 'engine_version', r.engine.version);
  set(out, 'cpu_architecture', r.cpu.architecture);
  if (isbot(ua)) {
    out.is_bot = 'true';
  } else if (out.device_type === undefined) {
    out.device_type = 'desktop';
  }
  return out;
}

/** Assigns only real, non-empty strings: the contract gets no undefined/null/''. */
function set(out: UserAgentFields, key: keyof UserAgentFields, value: unknown): void {
  if (typeof value === 'string' && value.length > 0) out[key] = value;
}
