import { OursClient } from '../client';
import { kDebug, kHold, kReport, kWarn } from '../client/side-channels';
import { MAX_TIMER_MS } from '../deadline';
import { describeValue, OursConfigError, OursError } from '../errors';
import { isThenable } from '../is-thenable';
import { CLIENT_OPTIONS, type ClientOptions } from '../options';
import { optionNames, refuseUnknownOptions } from '../unknown-options';
import { loadRequestIp, requestIpAddress } from './client-ip';
import { resolveConsent, type ConsentReader } from './consent';
import { DEFAULT_DEVICE_COOKIE } from './cookies';
import { handOffsOf, type HandOffBatch } from './hand-off-batch';
import type { MiddlewareOptions } from './middleware-options';
import { proxyReader } from './proxied-source';
import { resolveRedact, type UrlPolicy } from './redact-option';
import type { ExtractOptions } from './extract-context';
import type { RequestSource } from './request-source';
import type { ResponseControl } from './response-control';
import { EXPRESS_SETUP, type SetupWording } from './setup-wording';
import { noteMiddlewareMade, sharedClient } from './shared-client';

/** Middleware options resolved once, in `ours()`, and shared by every request. */
export interface MiddlewareConfig<Req, Res> {
  readonly client: OursClient;
  /** What the tracker needs of the adapter's response (see `ResponseControl`). */
  readonly response: ResponseControl<Res>;
  readonly cookieName: string;
  readonly collectIp: boolean;
  /** The end user's IP for one request, before normalisation. */
  readonly ipOf: (source: RequestSource, req: Req) => string | undefined;
  /**
   * The adapter's source as the `trustProxy` option reads it (IP, protocol,
   * host); undefined without the option: the framework's trust decides.
   */
  readonly viaProxy: ((source: RequestSource) => RequestSource) | undefined;
  readonly skip: MiddlewareOptions<Req>['skip'];
  readonly identify: MiddlewareOptions<Req>['identify'];
  readonly beforeSend: MiddlewareOptions<Req>['beforeSend'];
  readonly hookTimeoutMs: number;
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
  /** The client's hand-offs: what `flush()` and `shutdown()` take and wait for. */
  readonly handOffs: HandOffBatch;
  /** A request already had a tracker from another `ours()`: said once, at debug level. */
  readonly noteMountedTwice: () => void;
}

/** The options of `ours()` that are not client options. */
const MIDDLEWARE_KEYS = optionNames<Omit<MiddlewareOptions<unknown>, keyof ClientOptions>>({
  client: true,
  cookieName: true,
  collectIp: true,
  trustProxy: true,
  clientIp: true,
  skip: true,
  identify: true,
  beforeSend: true,
  gpc: true,
  setVisitorCookie: true,
  cookieDomain: true,
  waitUntil: true,
  flushOnResponse: true,
  hookTimeoutMs: true,
  redact: true,
  consent: true,
});
const ALL_KEYS = [...MIDDLEWARE_KEYS, ...CLIENT_OPTIONS];

/** RFC 6265 token: what a cookie name may be. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function optionalFunction<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function')
    throw new OursConfigError(name, `must be a function, got ${describeValue(value)}`);
  return value;
}

function oneOf<T extends string>(
  name: string,
  value: T | undefined,
  allowed: readonly T[],
  fallback: T,
): T {
  const v = value ?? fallback;
  if (!allowed.includes(v))
    throw new OursConfigError(
      name,
      `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${describeValue(value)}`,
    );
  return v;
}

/** An `OursClient`, from this copy of the package or another (see side-channels.ts). */
function isOursClient(value: unknown): value is OursClient {
  return (
    value instanceof OursClient ||
    typeof (value as Partial<Record<typeof kHold, unknown>> | null)?.[kHold] === 'function'
  );
}

/** The client the middleware uses: the one given, or the one for these client options (see `shared-client.ts`). */
function clientFrom(options: MiddlewareOptions<unknown>): OursClient {
  const clientOptions: Record<string, unknown> = { ...options };
  for (const key of MIDDLEWARE_KEYS) delete clientOptions[key];
  if (!options.client) return sharedClient(clientOptions as ClientOptions);
  if (!isOursClient(options.client))
    throw new OursConfigError(
      'client',
      `must be an OursClient (new OursClient({...})), got ${describeValue(options.client)}`,
    );
  const extra = Object.keys(clientOptions).filter((k) => clientOptions[k] !== undefined);
  if (extra.length)
    throw new OursConfigError(
      'client',
      `is given, so the client options ${extra.join(', ')} would be ignored: set them in new OursClient({...}) instead`,
    );
  return options.client;
}

function ipResolver<Req>(
  options: MiddlewareOptions<Req>,
  client: OursClient,
): MiddlewareConfig<Req, unknown>['ipOf'] {
  const { clientIp } = options;
  if (typeof clientIp === 'function') return (_source, req) => appIp(clientIp, req, client);
  if (clientIp === 'request-ip') {
    try {
      loadRequestIp(); // now: a missing package is an error of ours(), not of a request
    } catch (err) {
      throw new OursConfigError('clientIp', (err as Error).message);
    }
    return (source) => requestIpAddress(headersOf(source), source.socketAddress);
  }
  if (clientIp !== undefined)
    throw new OursConfigError(
      'clientIp',
      `must be 'request-ip' or a function, got ${describeValue(clientIp)}`,
    );
  // The framework's pick, or the `trustProxy` option's (see `viaProxy`). No fallback to the
  // socket: when the pick is not an IP, the socket is a proxy's address.
  return (source) => source.ip();
}

/**
 * The app's `clientIp(req)`. The IP is read while the request is live, so
 * synchronously: a Promise (an async function) is not awaited, and it and a
 * throw are reported; the event goes without the IP rather than not at all.
 */
function appIp<Req>(
  clientIp: (req: Req) => string | undefined,
  req: Req,
  client: OursClient,
): string | undefined {
  let ip: unknown;
  try {
    ip = clientIp(req);
  } catch (err) {
    client[kReport](
      new OursError(
        `clientIp threw: ${(err as Error)?.message ?? String(err)}; the event goes without an IP`,
      ),
    );
    return undefined;
  }
  if (!isThenable(ip)) return ip as string | undefined;
  ip.then(undefined, () => undefined); // its rejection is not the host's either
  client[kReport](
    new OursError(
      'clientIp returned a Promise; it must return the IP (a string) synchronously; the event goes without an IP',
    ),
  );
  return undefined;
}

/** The headers request-ip looks at, read through the source. */
function headersOf(source: RequestSource): Record<string, string | undefined> {
  const names = [
    'x-client-ip',
    'x-forwarded-for',
    'cf-connecting-ip',
    'fastly-client-ip',
    'true-client-ip',
    'x-real-ip',
    'x-cluster-client-ip',
    'x-forwarded',
    'forwarded-for',
    'forwarded',
    'x-appengine-user-ip',
    'cf-pseudo-ipv4',
  ];
  return Object.fromEntries(names.map((n) => [n, source.header(n)]));
}

function flushOnResponseMs(
  value: MiddlewareOptions<unknown>['flushOnResponse'],
): number | undefined {
  if (value === undefined || value === false) return undefined;
  if (value === true) return 2000;
  const ms: unknown = typeof value === 'object' ? value?.timeoutMs : undefined; // null is an object too
  if (typeof ms === 'number' && Number.isInteger(ms) && ms > 0 && ms <= MAX_TIMER_MS) return ms;
  throw new OursConfigError(
    'flushOnResponse',
    `must be true, false or { timeoutMs: <whole number from 1 to ${MAX_TIMER_MS}> }, got ${describeValue(value)}`,
  );
}

function positiveMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value <= 0 || value > MAX_TIMER_MS)
    throw new OursConfigError(
      name,
      `must be a whole number of milliseconds from 1 to ${MAX_TIMER_MS}, got ${describeValue(value)}`,
    );
  return value;
}

/** Says once per middleware that another `ours()` serves its requests. */
function mountedTwiceNote(client: OursClient, call: string): () => void {
  let said = false;
  return () => {
    if (said) return;
    said = true;
    client[kDebug](
      `${call} mounted twice on one request (at app level and again, or two of them): the tracker the first one made serves the whole request, with its options`,
    );
  };
}

/**
 * Checks every middleware option once, so a mistake throws from `ours()`,
 * not on a request. `response`: the adapter's view of its responses;
 * `wording`: how the adapter is set up, for the messages that name the fix.
 */
export function resolveMiddlewareConfig<Req, Res>(
  options: MiddlewareOptions<Req> | undefined,
  response: ResponseControl<Res>,
  wording: SetupWording = EXPRESS_SETUP,
): MiddlewareConfig<Req, Res> {
  options ??= {};
  refuseUnknownOptions(options, ALL_KEYS, 'ours()');
  const cookieName = options.cookieName ?? DEFAULT_DEVICE_COOKIE;
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName))
    throw new OursConfigError(
      'cookieName',
      `must be a cookie name (letters, digits and !#$%&'*+-.^_\`|~), got ${describeValue(cookieName)}`,
    );
  if (
    options.cookieDomain !== undefined &&
    (typeof options.cookieDomain !== 'string' || !/^\.?[a-z0-9.-]+$/i.test(options.cookieDomain))
  ) {
    throw new OursConfigError(
      'cookieDomain',
      `must be a domain such as '.example.com', got ${describeValue(options.cookieDomain)}`,
    );
  }
  const client = clientFrom(options as MiddlewareOptions<unknown>);
  noteMiddlewareMade(client, wording);
  const waitUntil = optionalFunction('waitUntil', options.waitUntil);
  const flushMs = flushOnResponseMs(options.flushOnResponse);
  const warned = new Set<string>();
  const warnOnce = (key: string, message: string): void => {
    if (warned.has(key)) return;
    warned.add(key);
    client[kWarn](`${message} (reported once)`);
  };
  const reportHook = (err: unknown): void =>
    client[kReport](
      new OursError(`a redact hook threw: ${(err as Error)?.message ?? String(err)}`),
    );
  return {
    client,
    response,
    cookieName,
    collectIp: options.collectIp ?? true,
    ipOf: ipResolver(options, client),
    viaProxy: proxyReader(options.trustProxy, client),
    skip: optionalFunction('skip', options.skip),
    identify: optionalFunction('identify', options.identify),
    beforeSend: optionalFunction('beforeSend', options.beforeSend),
    hookTimeoutMs: positiveMs('hookTimeoutMs', options.hookTimeoutMs, 5000),
    gpc: oneOf('gpc', options.gpc, ['annotate', 'drop', 'ignore', 'consent'], 'annotate'),
    redact: resolveRedact(options.redact, reportHook),
    consent: resolveConsent(options.consent),
    warnOnce,
    setVisitorCookie: options.setVisitorCookie ?? false,
    cookieDomain: options.cookieDomain,
    waitUntil,
    flushOnResponseMs: flushMs,
    // One per client, shared by every middleware made with it (even one made per request by mistake).
    handOffs: handOffsOf(client),
    noteMountedTwice: mountedTwiceNote(client, wording.call),
  };
}

/** What `extractContext` needs for one request, from the middleware's options. */
export function extractOptionsFor<Req>(
  config: MiddlewareConfig<Req, unknown>,
  req: Req,
): ExtractOptions {
  const { cookieName, collectIp, ipOf, redact, warnOnce } = config;
  return {
    cookieName,
    collectIp,
    ipResolver: (source: RequestSource) => ipOf(source, req),
    redact: redact?.forRequest(req),
    onInvalidVisitorId: () =>
      warnOnce(
        'visitor-id',
        "a visitor id that is not a UUID v4 (the Ours browser SDK's format) was ignored: the request has no visitor",
      ),
  };
}
