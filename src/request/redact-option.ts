import type { DefaultProperties } from '../contract/types';
import { describeValue, OursConfigError } from '../errors';
import { applyRedaction, compileRedaction } from './redact-url';
import { syncResult } from './sync-hook';

/**
 * The `redact` option in its object form. `Req` is the framework's request
 * (Express `req`, Koa `ctx`).
 */
export interface RedactOptions<Req> {
  /** Query keys to redact on top of the default list (case, `-`, `_` and `.` ignored). */
  keys?: readonly string[] | undefined;
  /**
   * Replaces the default rules for `current_url` and `referrer`: gets the URL
   * (the path already templated by `pathname`) and returns what to send, or
   * undefined to leave the field out. `redactUrl` from 'ours-middleware'
   * applies the defaults, to build on. A throw leaves the field out.
   */
  url?: ((url: string, req: Req) => string | undefined) | undefined;
  /**
   * Templates the path of `pathname` and `current_url`, e.g. `/patients/42`
   * -> `/patients/:id`. Undefined keeps the path; a throw keeps it too (and
   * is reported). Email-like segments are redacted either way.
   * @example (path, req) => (req.route ? req.baseUrl + req.route.path : path) // Express
   */
  pathname?: ((pathname: string, req: Req) => string | undefined) | undefined;
}

/**
 * How URLs are redacted: the defaults (on unless `false`), more keys, a
 * function over each URL, or {@link RedactOptions}. `false` sends URLs as
 * they are.
 */
export type RedactOption<Req> =
  false | readonly string[] | ((url: string, req: Req) => string | undefined) | RedactOptions<Req>;

/** One request's redaction, as context extraction applies it. */
export interface UrlRedaction {
  /** `current_url` or `referrer` as it may be sent; undefined leaves it out. */
  url(url: string): string | undefined;
  /** The templated, redacted path. */
  path(pathname: string): string;
}

/** The `redact` option compiled once per middleware; `forRequest` binds it to one request. */
export interface UrlPolicy<Req> {
  forRequest(req: Req): UrlRedaction;
}

/** Compiles the `redact` option; undefined when redaction is off. `report` receives a hook's throw. */
export function resolveRedact<Req>(
  value: RedactOption<Req> | undefined,
  report: (err: unknown) => void,
): UrlPolicy<Req> | undefined {
  if (value === false) return undefined;
  const options = toOptions(value);
  const rules = compileRedaction(options.keys);
  const { url: urlHook, pathname: pathHook } = options;
  const path = (pathname: string, req: Req): string => {
    let templated: string | undefined;
    try {
      templated = pathHook && syncResult('redact.pathname', pathHook(pathname, req));
    } catch (err) {
      report(err);
    }
    return applyRedaction(
      typeof templated === 'string' && templated.length > 0 ? templated : pathname,
      rules,
    );
  };
  const url = (raw: string, req: Req): string | undefined => {
    if (!urlHook) return applyRedaction(raw, rules);
    try {
      const out = syncResult('redact', urlHook(raw, req));
      return typeof out === 'string' && out.length > 0 ? out : undefined;
    } catch (err) {
      report(err);
      return undefined; // never the unredacted URL
    }
  };
  return {
    forRequest: (req) => ({ url: (raw) => url(raw, req), path: (pathname) => path(pathname, req) }),
  };
}

/** Redacts `current_url` and `referrer` of `dp` in place (those a call passed with its overrides). */
export function redactUrlFields(dp: DefaultProperties, redaction: UrlRedaction): void {
  for (const key of ['current_url', 'referrer'] as const) {
    const value = dp[key];
    if (typeof value !== 'string') continue;
    const out = redaction.url(value);
    if (out === undefined) delete dp[key];
    else dp[key] = out;
  }
}

function toOptions<Req>(value: RedactOption<Req> | undefined): RedactOptions<Req> {
  if (value === undefined) return {};
  if (typeof value === 'function') return { url: value };
  if (Array.isArray(value)) return { keys: value as readonly string[] };
  if (typeof value !== 'object' || value === null)
    throw new OursConfigError(
      'redact',
      `must be false, an array of keys, a function or { keys, url, pathname }, got ${describeValue(value)}`,
    );
  const { keys, url, pathname } = value as RedactOptions<Req>;
  if (keys !== undefined && (!Array.isArray(keys) || keys.some((k) => typeof k !== 'string')))
    throw new OursConfigError('redact', 'keys must be an array of strings');
  for (const [name, fn] of [
    ['url', url],
    ['pathname', pathname],
  ] as const) {
    if (fn !== undefined && typeof fn !== 'function')
      throw new OursConfigError('redact', `${name} must be a function, got ${typeof fn}`);
  }
  return { keys, url, pathname };
}
