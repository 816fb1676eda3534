import type { ContractIssue } from '../contract/check';
import type { IdentifyRequest, TrackRequest } from '../contract/types';

/** The two experiments endpoints, as `respondWith({ path })` names them. */
export type ExperimentPath = '/experiments/assignments' | '/experiments/personalization';

/**
 * An endpoint of the mock, relative to `mock.url` (as the contract spells its paths).
 *
 * @example
 * mock.respondWith({ status: 500, path: '/batch' });
 */
export type MockPath = '/track' | '/batch' | '/identify' | ExperimentPath;

/**
 * An accepted track event: a `/track` body without its token, or one accepted `/batch` row.
 *
 * @example
 * const [first]: MockEvent[] = await mock.waitFor(1);
 * expect(first.event).to.equal('Signup');
 */
export type MockEvent = Omit<TrackRequest, 'token'>;

/**
 * An accepted `/identify` body, without its token.
 *
 * @example
 * const who: MockIdentify | undefined = mock.identifies[0];
 */
export type MockIdentify = Omit<IdentifyRequest, 'token'>;

/**
 * One HTTP request the mock received, whatever happened to it.
 *
 * @example
 * const statuses = mock.requests.map((r: MockRequest) => r.status); // e.g. [429, 200]
 */
export interface MockRequest {
  method: string;
  /** The URL path as received, e.g. `/api/v1/batch` (query string removed). */
  path: string;
  /** The endpoint it hit, or `null` for a path the API does not serve. */
  endpoint: MockPath | null;
  /** The status sent, or `null` when none was (hang, connection dropped before answering). */
  status: number | null;
  /** Request headers; `authorization`, `cookie` and anything named like a token are redacted. */
  headers: Readonly<Record<string, string | string[] | undefined>>;
  /** Whether the body was sent with `Content-Encoding: gzip`. */
  gzip: boolean;
  /** Body size on the wire (compressed size when gzipped). */
  bytes: number;
  /** The parsed JSON body with `token` redacted, or `undefined` if it could not be read. */
  body: unknown;
  /** `Date.now()` when the body had been read: handy to measure a client's backoff. */
  receivedAt: number;
}

/**
 * One way a request broke the contract (an invalid field, a bad encoding, invalid JSON...).
 * `message` is the issue in words; like every issue, it never contains the value itself.
 *
 * @example
 * afterEach(() => expect(mock.violations.map((v: MockViolation) => v.message)).to.deep.equal([]));
 */
export interface MockViolation extends ContractIssue {
  /** The URL path of the offending request. */
  path: string;
  /** e.g. `events[2].time is more than 7 days in the past (limit: 7 days)`. */
  message: string;
}

/**
 * Options of `createMockOurs()`.
 *
 * @example
 * const mock = await createMockOurs({ token: 'test-token', port: 0 });
 */
export interface MockOursOptions {
  /** When set, requests carrying another token get 401. Any token is accepted otherwise. */
  token?: string | undefined;
  /** Port to listen on; default 0 (a free port chosen by the OS). */
  port?: number | undefined;
  /** Interface to listen on; default `127.0.0.1`. */
  host?: string | undefined;
  /** When set, experiments requests carrying another token get 401. Any `exp_` token is accepted otherwise. */
  experimentToken?: string | undefined;
}

/**
 * What `mock.waitFor()` counts and how long it waits.
 *
 * @example
 * await mock.waitFor(1, { of: 'identifies', timeoutMs: 5000 });
 */
export interface WaitForOptions {
  /** Give up (reject) after this long; default 5000 ms (room for a busy CI machine: it only bounds a wait that fails). */
  timeoutMs?: number | undefined;
  /** Which list to count; default `events`. */
  of?: 'events' | 'identifies' | 'requests' | undefined;
}
