import { API_BASE_URL } from './contract/schema';
import { OursConfigError } from './errors';
import { consoleLogger, type Logger } from './logger';
import type { FetchLike } from './transport';
import { httpFetch } from './http-fetch';
import type { EventStore } from './queue';

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
export interface ClientOptions {
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
  /** Requests in flight at once. @defaultValue 4 */
  maxInFlight?: number | undefined;
  /** One deadline per request, response body included. @defaultValue 10000 */
  timeoutMs?: number | undefined;
  /** Compress request bodies with gzip. @defaultValue true */
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
   * @defaultValue Node's `http`/`https` client with kept-alive connections (`maxInFlight` of them)
   */
  fetch?: FetchLike | undefined;
  /** A pino-compatible logger, or `false` for silence. @defaultValue warnings and errors to the console */
  logger?: Logger | false | undefined;
  /**
   * Flush on SIGTERM/SIGINT (within `timeoutMs`), then let the signal end the
   * process as it would have. @defaultValue false
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
  logger: Logger;
  strict: boolean;
  handleSignals: boolean;
}

/** The contract's cap on events per `/batch` request. */
export const MAX_BATCH_EVENTS = 1000;

const silent: Logger = { debug() {}, info() {}, warn() {}, error() {} };

function count(name: string, value: number | undefined, fallback: number, min = 1, max = Number.MAX_SAFE_INTEGER): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new OursConfigError(name, `must be a whole number from ${min} to ${max}, got ${String(value)}`);
  }
  return v;
}

function resolveToken(token: string | undefined): string {
  const value = token ?? process.env.OURS_TOKEN;
  if (!value) {
    throw new OursConfigError('token', 'is missing: pass `{ token }` or set the OURS_TOKEN environment variable (the Source token from the Ours dashboard)');
  }
  if (typeof value !== 'string' || value.length > 250) {
    throw new OursConfigError('token', 'must be a string of 1 to 250 characters, as the API contract requires');
  }
  return value;
}

const LOOPBACK = /^(localhost|127(\.\d{1,3}){3}|\[::1\])$/i;

function resolveApiUrl(apiUrl: string | undefined, allowInsecureHttp: boolean): string {
  const raw = apiUrl ?? process.env.OURS_API_URL ?? API_BASE_URL;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OursConfigError('apiUrl', `is not a valid URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new OursConfigError('apiUrl', `must use https:, got ${url.protocol}`);
  }
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname) && !allowInsecureHttp) {
    throw new OursConfigError('apiUrl', `uses plain http:// to ${url.hostname}, which would send the token in clear; use https:// or set allowInsecureHttp: true`);
  }
  return url.href.replace(/\/+$/, '');
}

function resolveRetry(retry: RetryOptions = {}): Required<RetryOptions> {
  const jitterMs = retry.jitterMs ?? [1000, 5000];
  if (!Array.isArray(jitterMs) || jitterMs.length !== 2 || !(jitterMs[0] >= 0) || !(jitterMs[1] >= jitterMs[0])) {
    throw new OursConfigError('retry.jitterMs', 'must be [min, max] with 0 <= min <= max');
  }
  const initialDelayMs = count('retry.initialDelayMs', retry.initialDelayMs, 2000, 0);
  return {
    initialDelayMs,
    maxDelayMs: count('retry.maxDelayMs', retry.maxDelayMs, 60_000, initialDelayMs),
    jitterMs: [jitterMs[0], jitterMs[1]],
    maxAttempts: count('retry.maxAttempts', retry.maxAttempts, 10),
  };
}

/** Applies defaults and checks every option once, at construction. */
export function resolveOptions(options: ClientOptions = {}): ResolvedOptions {
  const maxBatchSize = count('maxBatchSize', options.maxBatchSize, 500, 1, MAX_BATCH_EVENTS);
  const endpoint = options.endpoint ?? 'batch';
  if (endpoint !== 'batch' && endpoint !== 'track') {
    throw new OursConfigError('endpoint', `must be 'batch' or 'track', got ${JSON.stringify(endpoint)}`);
  }
  if (options.fetch !== undefined && typeof options.fetch !== 'function') {
    throw new OursConfigError('fetch', 'must be a fetch-compatible function');
  }
  const maxInFlight = count('maxInFlight', options.maxInFlight, 4, 1, 256);
  return {
    token: resolveToken(options.token),
    apiUrl: resolveApiUrl(options.apiUrl, options.allowInsecureHttp === true),
    flushAt: count('flushAt', options.flushAt, Math.min(200, maxBatchSize), 1, maxBatchSize),
    flushIntervalMs: count('flushIntervalMs', options.flushIntervalMs, 1000),
    maxBatchSize,
    maxQueueSize: count('maxQueueSize', options.maxQueueSize, 100_000),
    maxQueueBytes: count('maxQueueBytes', options.maxQueueBytes, 64 * 1024 * 1024, 1024),
    maxInFlight,
    timeoutMs: count('timeoutMs', options.timeoutMs, 10_000),
    gzip: options.gzip ?? true,
    retry: resolveRetry(options.retry),
    endpoint,
    fetch: options.fetch ?? httpFetch(maxInFlight),
    logger: options.logger === false ? silent : (options.logger ?? consoleLogger),
    strict: options.strict ?? false,
    handleSignals: options.handleSignals ?? false,
  };
}
