import { kHandOffs, kReport, kWarn, OursClient } from '../client';
import { OursConfigError, OursError } from '../errors';
import type { Identity, TrackEvent } from '../events';
import type { ClientOptions } from '../options';
import { compileTrust, forwardedIp, loadRequestIp, requestIpAddress, type TrustFunction } from './client-ip';
import { resolveConsent, type ConsentReader } from './consent';
import { DEFAULT_DEVICE_COOKIE } from './cookies';
import type { HandOffBatch } from './hand-off-batch';
import type { MiddlewareOptions } from './middleware-options';
import { resolveRedact, type UrlPolicy } from './redact-option';
import type { RequestSource } from './request-source';

/** Middleware options resolved once, in `ours()`, and shared by every request. */
export interface TrackerConfig<Req> {
  readonly client: OursClient;
  readonly cookieName: string;
  readonly collectIp: boolean;
  /** The end user's IP for one request, before normalisation. */
  readonly ipOf: (source: RequestSource, req: Req) => string | undefined;
  readonly skip: ((req: Req) => boolean) | undefined;
  readonly identify: ((req: Req) => Identity | undefined) | undefined;
  readonly beforeSend: ((event: TrackEvent, req: Req) => TrackEvent | null | undefined) | undefined;
  readonly gpc: 'annotate' | 'drop' | 'ignore' | 'consent';
  /** URL redaction and path templating; undefined with `redact: false`. */
  readonly redact: UrlPolicy<Req> | undefined;
  /** Where `userProperties.consent` comes from; undefined when not configured. */
  readonly consent: ConsentReader<Req> | undefined;
  /** Logs `message` at warn level the first time `key` comes up for this middleware. */
  readonly warnOnce: (key: string, message: string) => void;
  readonly setVisitorCookie: boolean;
  readonly cookieDomain: string | undefined;
  readonly waitUntil: ((promise: Promise<unknown>) => void) | undefined;
  /** Milliseconds `res.end()` may wait for delivery, or undefined when off. */
  readonly flushOnResponseMs: number | undefined;
  /**
   * Where finished responses' hand-offs wait for the end of the turn; undefined
   * with `waitUntil` or `flushOnResponse`, whose delivery starts at the response.
   */
  readonly handOffs: HandOffBatch | undefined;
}

const MIDDLEWARE_KEYS = [
  'client', 'cookieName', 'collectIp', 'trustProxy', 'clientIp', 'skip', 'identify', 'beforeSend',
  'gpc', 'setVisitorCookie', 'cookieDomain', 'waitUntil', 'flushOnResponse', 'redact', 'consent',
] as const;

/** RFC 6265 token: what a cookie name may be. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function optionalFunction<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') throw new OursConfigError(name, `must be a function, got ${typeof value}`);
  return value;
}

function oneOf<T extends string>(name: string, value: T | undefined, allowed: readonly T[], fallback: T): T {
  const v = value ?? fallback;
  if (!allowed.includes(v)) throw new OursConfigError(name, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${JSON.stringify(value)}`);
  return v;
}

/** The client the middleware uses: the one given, or one made from the client options. */
function clientFrom(options: MiddlewareOptions<unknown>): OursClient {
  const clientOptions: Record<string, unknown> = { ...options };
  for (const key of MIDDLEWARE_KEYS) delete clientOptions[key];
  if (!options.client) return new OursClient(clientOptions as ClientOptions);
  if (!(options.client instanceof OursClient)) throw new OursConfigError('client', 'must be an OursClient');
  const extra = Object.keys(clientOptions).filter((k) => clientOptions[k] !== undefined);
  if (extra.length) throw new OursConfigError('client', `is given, so client options (${extra.join(', ')}) would be ignored: set them on the client`);
  return options.client;
}

function ipResolver<Req>(options: MiddlewareOptions<Req>): TrackerConfig<Req>['ipOf'] {
  const { clientIp, trustProxy } = options;
  if (typeof clientIp === 'function') return (_source, req) => clientIp(req);
  if (clientIp === 'request-ip') {
    try {
      loadRequestIp(); // now: a missing package is an error of ours(), not of a request
    } catch (err) {
      throw new OursConfigError('clientIp', (err as Error).message);
    }
    return (source) => requestIpAddress(headersOf(source), source.socketAddress);
  }
  if (clientIp !== undefined) throw new OursConfigError('clientIp', `must be 'request-ip' or a function, got ${JSON.stringify(clientIp)}`);
  // No fallback to the socket: when the framework's pick is not an IP, the socket is a proxy's address.
  if (trustProxy === undefined) return (source) => source.ip();
  let trust: TrustFunction;
  try {
    trust = compileTrust(trustProxy);
  } catch (err) {
    throw new OursConfigError('trustProxy', `is not a hop count, CIDR list or function: ${(err as Error).message}`);
  }
  return (source) => forwardedIp(source.socketAddress, source.header('x-forwarded-for'), trust);
}

/** The headers request-ip looks at, read through the source. */
function headersOf(source: RequestSource): Record<string, string | undefined> {
  const names = ['x-client-ip', 'x-forwarded-for', 'cf-connecting-ip', 'fastly-client-ip', 'true-client-ip', 'x-real-ip', 'x-cluster-client-ip', 'x-forwarded', 'forwarded-for', 'forwarded', 'x-appengine-user-ip', 'cf-pseudo-ipv4'];
  return Object.fromEntries(names.map((n) => [n, source.header(n)]));
}

function flushOnResponseMs(value: MiddlewareOptions<unknown>['flushOnResponse']): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return 2000;
  if (typeof value === 'object' && Number.isInteger(value.timeoutMs) && value.timeoutMs > 0) return value.timeoutMs;
  throw new OursConfigError('flushOnResponse', 'must be a boolean or { timeoutMs: <positive whole number> }');
}

/** Checks every middleware option once, so a mistake throws from `ours()`, not on a request. */
export function resolveTrackerConfig<Req>(options: MiddlewareOptions<Req> = {}): TrackerConfig<Req> {
  const cookieName = options.cookieName ?? DEFAULT_DEVICE_COOKIE;
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) throw new OursConfigError('cookieName', `is not a valid cookie name: ${JSON.stringify(cookieName)}`);
  if (options.cookieDomain !== undefined && (typeof options.cookieDomain !== 'string' || !/^\.?[a-z0-9.-]+$/i.test(options.cookieDomain))) {
    throw new OursConfigError('cookieDomain', `is not a domain: ${JSON.stringify(options.cookieDomain)}`);
  }
  const client = clientFrom(options as MiddlewareOptions<unknown>);
  const waitUntil = optionalFunction('waitUntil', options.waitUntil);
  const flushMs = flushOnResponseMs(options.flushOnResponse);
  const warned = new Set<string>();
  const warnOnce = (key: string, message: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    client[kWarn](`${message} (reported once)`);
  };
  const reportHook = (err: unknown): void => client[kReport](new OursError(`ours-middleware: a redact hook threw: ${(err as Error)?.message ?? String(err)}`));
  return {
    client,
    cookieName,
    collectIp: options.collectIp ?? true,
    ipOf: ipResolver(options),
    skip: optionalFunction('skip', options.skip),
    identify: optionalFunction('identify', options.identify),
    beforeSend: optionalFunction('beforeSend', options.beforeSend),
    gpc: oneOf('gpc', options.gpc, ['annotate', 'drop', 'ignore', 'consent'], 'annotate'),
    redact: resolveRedact(options.redact, reportHook),
    consent: resolveConsent(options.consent),
    warnOnce,
    setVisitorCookie: options.setVisitorCookie ?? false,
    cookieDomain: options.cookieDomain,
    waitUntil,
    flushOnResponseMs: flushMs,
    // One batch per client, shared by every middleware made with it (even one made per request by mistake).
    handOffs: waitUntil || flushMs !== undefined ? undefined : client[kHandOffs](),
  };
}
