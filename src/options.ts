import { API_BASE_URL } from './contract/schema';
import { MAX_TIMER_MS } from './deadline';
import { describeValue, OursConfigError } from './errors';
import { consoleLogger, safeLogger, type Logger } from './logger';
import type { FetchLike } from './client/post-events';
import { platform } from '#platform';
import type { EventStore } from './stores/event-store';
import { optionNames, refuseUnknownOptions } from './unknown-options';
import { wholeOption } from './whole-option';
import type { ExperimentClientOptions } from './experiments/options';

/** When and how often a failed request is tried again. */
export interface RetryOptions {
  /** First backoff, as the contract recommends. @defaultValue 2000 */
  initialDelayMs?: number | undefined;
  /** Backoff doubles up to this. @defaultValue 60000 */
  maxDelayMs?: number | undefined;
  /** Random extra delay `[min, max]` added to each backoff. @defaultValue [1000, 5000] */
  jitterMs?: readonly [number, number] | undefined;
  /**
   * Attempts per event before it is given up and reported lost. The default
   * rides out about six minutes of outage (2+4+8+16+32+60+60+60+60 s plus jitter).
   * @defaultValue 10
   */
  maxAttempts?: number | undefined;
}

/** Options of {@link OursClient}. Every one is optional but the token. */
export interface ClientOptions extends ExperimentClientOptions {
  /** Source token from the Ours dashboard. @defaultValue `process.env.OURS_TOKEN` */
  token?: string | undefined;
  /** API base URL. @defaultValue `process.env.OURS_API_URL`, else `https://api.oursprivacy.com/api/v1` */
  apiUrl?: string | undefined;
  /** Allow plain `http://` to a host that is not loopback (the token would travel in clear). @defaultValue false */
  allowInsecureHttp?: boolean | undefined;
  /** Start a request as soon as this many events wait. @defaultValue 200 */
  flushAt?: number | undefined;
  /** Send what waits at least this often, however few. @defaultValue 1000 */
  flushIntervalMs?: number | undefined;
  /** Events per `/batch` request, at most the contract's 1000. @defaultValue 500 */
  maxBatchSize?: number | undefined;
  /** Events held (waiting, retrying or in flight) before new ones are dropped. @defaultValue 100000 */
  maxQueueSize?: number | undefined;
  /** Bytes of serialised events held before new ones are dropped. @defaultValue 67108864 (64 MiB) */
  maxQueueBytes?: number | undefined;
  /** Requests in flight at once. @defaultValue 8 */
  maxInFlight?: number | undefined;
  /** One deadline per request, response body included. @defaultValue 10000 */
  timeoutMs?: number | undefined;
  /** Compress request bodies with gzip (on Workers and the edge: where the runtime has `CompressionStream`). @defaultValue true */
  gzip?: boolean | undefined;
  /** Backoff and retry budget, the `retry.*` rows below. @defaultValue the contract's recommendation */
  retry?: RetryOptions | undefined;
  /**
   * `'batch'`: events go out in `POST /batch` requests. `'track'`: one
   * `POST /track` per event, Ours' real-time path (raise `maxInFlight`).
   * @defaultValue 'batch'
   */
  endpoint?: 'batch' | 'track' | undefined;
  /**
   * Any fetch-compatible function (Node's global fetch, node-fetch, undici).
   * @remarks The default on Node, Bun and Deno keeps `maxInFlight` connections alive.
   * @defaultValue Node's `http`/`https` (the global `fetch` on Workers and the edge)
   */
  fetch?: FetchLike | undefined;
  /** A pino-compatible logger, or `false` for silence. @defaultValue warnings and errors to the console */
  logger?: Logger | false | undefined;
  /**
   * On the first SIGTERM or SIGINT, deliver what is queued (within
   * `timeoutMs`); an app that listens for that signal too keeps control of
   * exiting. `false`: no signal listeners at all.
   * @remarks Without a listener of the app's, the signal is raised again once
   * delivery is done, so the process ends as it would have (exit code 143 /
   * 130). A second signal is not held back. Node, Bun and Deno only: on
   * Workers and the edge there is no process, and `true` is an `OursConfigError`.
   * @defaultValue true (false on Workers and the edge)
   */
  handleSignals?: boolean | undefined;
  /**
   * Where queued events live. The default keeps them in memory: no disk
   * writes, lost if the process dies. A durable store keeps them across crashes.
   * @defaultValue in memory
   */
  store?: EventStore | undefined;
  /** Throw {@link OursValidationError} from `track()`/`identify()` instead of reporting it. @defaultValue false */
  strict?: boolean | undefined;
}

/** Options with every default applied and every value checked. */
export interface ResolvedOptions {
  token: string;
  apiUrl: string;
  flushAt: number;
  flushIntervalMs: number;
  maxBatchSize: number;
  maxQueueSize: number;
  maxQueueBytes: number;
  maxInFlight: number;
  timeoutMs: number;
  gzip: boolean;
  retry: Required<RetryOptions>;
  endpoint: 'batch' | 'track';
  fetch: FetchLike;
  /** The app gave its own `fetch`: plain (not gzipped) bodies reach it as strings, as before. */
  appFetch: boolean;
  logger: Logger;
  strict: boolean;
  handleSignals: boolean;
}

/** The contract's cap on events per `/batch` request. */
export const MAX_BATCH_EVENTS = 1000;

/** Every key of {@link ClientOptions}; anything else is refused as a typo. */
export const CLIENT_OPTIONS = optionNames<ClientOptions>({
  token: true,
  apiUrl: true,
  allowInsecureHttp: true,
  flushAt: true,
  flushIntervalMs: true,
  maxBatchSize: true,
  maxQueueSize: true,
  maxQueueBytes: true,
  maxInFlight: true,
  timeoutMs: true,
  gzip: true,
  retry: true,
  endpoint: true,
  fetch: true,
  logger: true,
  handleSignals: true,
  store: true,
  strict: true,
  experimentToken: true,
  experimentBudgetMs: true,
  experimentCache: true,
});
const RETRY_OPTIONS = optionNames<RetryOptions>({
  initialDelayMs: true,
  maxDelayMs: true,
  jitterMs: true,
  maxAttempts: true,
});

/** Where the Ours API lives; also what a wrong `apiUrl` is compared with. */
const API_PATH = new URL(API_BASE_URL).pathname;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** A whole number from `min` to `max` (see `wholeOption`). */
function count(
  name: string,
  value: number | undefined,
  fallback: number,
  min = 1,
  max = Number.MAX_SAFE_INTEGER,
): number {
  return wholeOption(name, value, fallback, min, max);
}

function flag(name: string, value: boolean | undefined, fallback: boolean): boolean {
  if (value !== undefined && typeof value !== 'boolean')
    throw new OursConfigError(name, `must be true or false, got ${describeValue(value)}`);
  return value ?? fallback;
}

function resolveToken(token: string | undefined): string {
  const env =
    token === undefined && platform.env('OURS_TOKEN') !== undefined ? 'OURS_TOKEN' : undefined;
  const value = token ?? platform.env('OURS_TOKEN');
  if (value === undefined || value === '') {
    const how =
      'pass `{ token }` or set the OURS_TOKEN environment variable to the Source token from the Ours dashboard';
    throw new OursConfigError(
      'token',
      value === '' ? `is empty: ${how}` : `is missing: ${how}`,
      env,
    );
  }
  if (typeof value !== 'string' || value.length > 250) {
    // Never the value itself: it may be a real token.
    throw new OursConfigError(
      'token',
      `must be a string of 1 to 250 characters, as the API contract requires (got ${typeof value === 'string' ? `${value.length} characters` : `a ${typeof value}`})`,
      env,
    );
  }
  return value;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;
const ENDPOINTS = /\/(batch|track|identify)$/;

/**
 * The API base URL, checked for the mistakes that would otherwise surface
 * only as a 404 on the first delivery: a bare origin, a doubled or endpoint
 * path, a query string or fragment (the client appends `/batch` to it).
 */
function resolveApiUrl(apiUrl: string | undefined, allowInsecureHttp: boolean): string {
  const env =
    apiUrl === undefined && platform.env('OURS_API_URL') !== undefined ? 'OURS_API_URL' : undefined;
  const raw = apiUrl ?? platform.env('OURS_API_URL') ?? API_BASE_URL;
  const fail = (problem: string): never => {
    throw new OursConfigError('apiUrl', problem, env);
  };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return fail(`is not a URL: ${describeValue(raw)}; it should look like ${API_BASE_URL}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:')
    fail(`must use https:, got ${url.protocol} in ${raw}`);
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname) && !allowInsecureHttp) {
    fail(
      `uses plain http:// to ${url.hostname}, which would send the token in clear: use https://, or set allowInsecureHttp: true`,
    );
  }
  if (url.username || url.password)
    fail('has a user name or password in it: the token is all the API needs; remove them');
  if (raw.includes('?') || raw.includes('#'))
    fail(`has a query string or fragment (${raw}): give the base URL alone, like ${API_BASE_URL}`);
  const path = url.pathname.replace(/\/+$/, '');
  const base = url.origin + path;
  if (path === '')
    fail(
      `has no path (${raw}): the Ours API lives under ${API_PATH}, so use ${url.origin}${API_PATH}`,
    );
  if (path.endsWith(API_PATH + API_PATH))
    fail(`repeats ${API_PATH} (${raw}): use ${url.origin}${path.slice(0, -API_PATH.length)}`);
  const endpoint = ENDPOINTS.exec(path);
  if (endpoint)
    fail(
      `ends with the endpoint ${endpoint[0]} (${raw}): give the base URL, ${url.origin}${path.slice(0, -endpoint[0].length)}; the client adds each endpoint's path`,
    );
  return base;
}

function resolveRetry(retry: RetryOptions = {}): Required<RetryOptions> {
  refuseUnknownOptions(retry, RETRY_OPTIONS, 'retry', 'retry.');
  const jitterMs = retry.jitterMs ?? [1000, 5000];
  if (
    !Array.isArray(jitterMs) ||
    jitterMs.length !== 2 ||
    !(jitterMs[0] >= 0) ||
    !(jitterMs[1] >= jitterMs[0]) ||
    !(jitterMs[1] <= MAX_TIMER_MS)
  ) {
    throw new OursConfigError(
      'retry.jitterMs',
      `must be [min, max] with 0 <= min <= max <= ${MAX_TIMER_MS}, got ${Array.isArray(jitterMs) ? `[${jitterMs.map(describeValue).join(', ')}]` : describeValue(jitterMs)}`,
    );
  }
  const initialDelayMs = count('retry.initialDelayMs', retry.initialDelayMs, 2000, 0, MAX_TIMER_MS);
  return {
    initialDelayMs,
    maxDelayMs: count('retry.maxDelayMs', retry.maxDelayMs, 60_000, initialDelayMs, MAX_TIMER_MS),
    jitterMs: [jitterMs[0], jitterMs[1]],
    maxAttempts: count('retry.maxAttempts', retry.maxAttempts, 10),
  };
}

/** Applies defaults and checks every option once, at construction. */
export function resolveOptions(
  options: ClientOptions = {},
  where = 'new OursClient()',
): ResolvedOptions {
  refuseUnknownOptions(options, CLIENT_OPTIONS, where);
  const maxBatchSize = count('maxBatchSize', options.maxBatchSize, 500, 1, MAX_BATCH_EVENTS);
  const endpoint = options.endpoint ?? 'batch';
  if (endpoint !== 'batch' && endpoint !== 'track') {
    throw new OursConfigError(
      'endpoint',
      `must be 'batch' or 'track', got ${describeValue(endpoint)}`,
    );
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new OursConfigError(
      'fetch',
      `must be a fetch-compatible function, got ${describeValue(options.fetch)}`,
    );
  }
  checkStore(options.store);
  const maxInFlight = count('maxInFlight', options.maxInFlight, 8, 1, 256);
  return {
    token: resolveToken(options.token),
    apiUrl: resolveApiUrl(
      options.apiUrl,
      flag('allowInsecureHttp', options.allowInsecureHttp, false),
    ),
    flushAt: count('flushAt', options.flushAt, Math.min(200, maxBatchSize), 1, maxBatchSize),
    flushIntervalMs: count('flushIntervalMs', options.flushIntervalMs, 1000, 1, MAX_TIMER_MS),
    maxBatchSize,
    maxQueueSize: count('maxQueueSize', options.maxQueueSize, 100_000),
    maxQueueBytes: count('maxQueueBytes', options.maxQueueBytes, 64 * 1024 * 1024, 1024),
    maxInFlight,
    timeoutMs: count('timeoutMs', options.timeoutMs, 10_000, 1, MAX_TIMER_MS),
    gzip: flag('gzip', options.gzip, true) && platform.gzip !== undefined, // no CompressionStream: plain JSON
    retry: resolveRetry(options.retry),
    endpoint,
    fetch: options.fetch ?? platform.defaultFetch(maxInFlight),
    appFetch: options.fetch !== undefined,
    logger:
      options.logger === false
        ? silent
        : options.logger
          ? safeLogger(options.logger)
          : consoleLogger,
    strict: flag('strict', options.strict, false),
    handleSignals: signalsFlag(options.handleSignals),
  };
}

/** What the client calls on a store: checked now, or a forgotten `()` would throw from `track()`. */
const STORE_METHODS = ['append', 'lease', 'ack', 'forEach'] as const;

/** Stores a client was made with: a store serves one client, whose events, counts and flushes it holds. */
const storesInUse = new WeakSet<EventStore>();

/** `store` now serves a client (see `checkStore`). */
export function takeStore(store: EventStore): void {
  storesInUse.add(store);
}

function checkStore(store: unknown): void {
  if (store === undefined) return;
  if (typeof store === 'function')
    throw new OursConfigError(
      'store',
      `must be an event store, got the function ${store.name || '(anonymous)'}: call it, e.g. \`store: fileStore({ dir })\``,
    );
  if (
    STORE_METHODS.some((m) => typeof (store as Record<string, unknown> | null)?.[m] !== 'function')
  )
    throw new OursConfigError(
      'store',
      `must be an event store (fileStore(), redisStore() or one with ${STORE_METHODS.join(', ')}), got ${describeValue(store)}`,
    );
  if (storesInUse.has(store as EventStore))
    throw new OursConfigError(
      'store',
      "is already the store of another OursClient, which would deliver, count and flush this one's events as its own: share that client (`ours({ client })`), or give each client its own store",
    );
}

/** On by default where there is a process to listen to; asked for where there is none, a config error. */
function signalsFlag(value: boolean | undefined): boolean {
  const on = flag('handleSignals', value, platform.watchSignals !== undefined);
  if (on && !platform.watchSignals) {
    throw new OursConfigError(
      'handleSignals',
      'cannot be true on this platform: it has no process signals (a Worker or an edge function). Hand `flush()` to `waitUntil` instead',
    );
  }
  return on;
}
