import type { MockEvent, MockPath } from './types';

/**
 * What a `/batch` row becomes under a `rows` script.
 */
export type RowOutcome = 'ok' | 'queue_failed' | 'invalid_event';

/**
 * Decides the fate of each valid `/batch` row (rows that break the contract are
 * `invalid_event` before it is asked). Called with the row and its index in the batch.
 */
export type RowResolver = (event: MockEvent, index: number) => RowOutcome;

/**
 * Which requests a script item applies to, how often, and after how long.
 *
 * @example
 * mock.respondWith({ status: 503, path: '/batch', times: 2, delayMs: 50 });
 */
export interface ScriptScope {
  /** Only requests to this endpoint; default any endpoint. */
  path?: MockPath | undefined;
  /** How many matching requests it answers, or `'always'` (until `reset()`); default 1. */
  times?: number | 'always' | undefined;
  /** Wait this long before answering (applies to every kind of item). */
  delayMs?: number | undefined;
}

/**
 * Answer with this non-2xx status and the contract's body for it (e.g. 429 on `/track`
 * is `{ success: false }`; 500 on `/batch` is `{ success: false, error, retryable: true }`).
 * Nothing is recorded in `events` / `identifies`.
 *
 * @example
 * mock.respondWith({ status: 429, retryAfter: 1 });
 */
export interface StatusReply {
  /** 400-599. */
  status: number;
  /** Sent as the `Retry-After` header: seconds, or an HTTP date. */
  retryAfter?: number | string | undefined;
  /** The `error` text, where the contract's body for that status has one. */
  error?: string | undefined;
}

/**
 * Per-row results for `/batch` (matches `/batch` requests only): all `ok` gives 200,
 * a mix 207, every row `invalid_event` 400, none accepted but some `queue_failed`
 * 500 with `results`. Only `ok` rows are recorded.
 *
 * @example
 * mock.respondWith({ rows: (e) => (e.event === 'Bad' ? 'invalid_event' : 'ok'), times: 'always' });
 */
export interface RowsReply {
  rows: RowResolver;
}

/**
 * 413 `{ success: false, error, limit }` for bodies over `maxBodyBytes`. Matches only
 * such requests, so with `times: 'always'` it acts as a server body limit. Measured
 * decompressed by default (what a client can compute before gzipping); `'wire'` counts
 * the bytes as sent.
 *
 * @example
 * mock.respondWith({ maxBodyBytes: 10_000, times: 'always' });
 */
export interface BodyLimitReply {
  maxBodyBytes: number;
  measure?: 'decoded' | 'wire' | undefined;
}

/**
 * 415 for gzipped bodies (matches only those), to test a client's fallback to plain JSON.
 *
 * @example
 * mock.respondWith({ rejectGzip: true, times: 'always' });
 */
export interface RejectGzipReply {
  rejectGzip: true;
}

/**
 * Never answer: the request hangs until the client gives up or `close()`. Not recorded.
 *
 * @example
 * mock.respondWith({ hang: true });
 */
export interface HangReply {
  hang: true;
}

/**
 * Break the connection. `'before-response'` destroys the socket without answering (the
 * body is not recorded). `'mid-response'` processes the request normally (records it,
 * as a server would) then sends headers and half the body and destroys the socket:
 * the client cannot know its events arrived, the classic cause of duplicates.
 *
 * @example
 * mock.respondWith({ drop: 'mid-response' });
 */
export interface DropReply {
  drop: 'before-response' | 'mid-response';
}

/**
 * Keys that choose what a script item does; an item may set at most one.
 *
 * @example
 * const chosen = REPLY_KEYS.filter((key) => key in item); // at most one entry
 */
export const REPLY_KEYS = ['status', 'rows', 'maxBodyBytes', 'rejectGzip', 'hang', 'drop'] as const;
type ReplyKey = (typeof REPLY_KEYS)[number];

/** `T` with every other reply key forbidden, so `{ status: 500, hang: true }` fails to compile. */
type Only<T> = T & { [K in ReplyKey as K extends keyof T ? never : K]?: never };

/**
 * One scripted response. With no reply key (`{}` or `{ delayMs }`) the request is
 * answered normally (after the delay), which also lets a test skip requests:
 * `respondWith({}, { status: 500 })` fails only the second one.
 *
 * @example
 * mock.respondWith({ status: 500, path: '/batch' }, { drop: 'before-response' }, { delayMs: 200 });
 */
export type MockScript = ScriptScope &
  (
    | Only<StatusReply>
    | Only<RowsReply>
    | Only<BodyLimitReply>
    | Only<RejectGzipReply>
    | Only<HangReply>
    | Only<DropReply>
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- a script item with none of the reply fields
    | Only<{}>
  );
