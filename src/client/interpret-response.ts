import { OursDeliveryError } from '../errors';
import type { QueuedEvent, EventPath } from '../stores/event-store';
import { parseRetryAfter } from './backoff';
import type { ApiResponse } from './post-events';

/** One row of a `/batch` result, as the contract gives it. */
interface RowResult {
  index: number;
  success: boolean;
  code?: 'invalid_event' | 'queue_failed';
  message?: string;
}

/** Events lost for good, and why. */
export interface Failure {
  events: QueuedEvent[];
  message: string;
  status?: number;
}

/** What one answer of the API means for the events of the request that got it. */
export interface Verdict {
  /** A 2xx: the API is up, which resets the backoff. */
  ok: boolean;
  /** A 200 whose body is not the contract's: counted delivered all the same, and worth a warning. */
  oddBody?: string;
  delivered: QueuedEvent[];
  failed: Failure[];
  /** Transient failure: back off, then resend these same events. */
  retry?: { events: QueuedEvent[]; afterMs: number | undefined; reason: string };
  /** Resend at once, no backoff: a 413 split in parts, or a 415 without gzip. */
  resend?: { parts: QueuedEvent[][]; gzip: boolean };
  /** 401/403: the token is wrong (the client says so loudly, once). */
  unauthorized: boolean;
}

/** The request an answer belongs to. */
export interface SentRequest {
  readonly path: EventPath;
  readonly events: QueuedEvent[];
  readonly gzip: boolean;
}

/**
 * Reads an answer the way the contract defines each status: 200 done (any
 * 2xx: accepted, whatever its body, which only a `/batch` row may refine);
 * 207 per row; 3xx final, naming where it leads (a wrong `apiUrl`); 400 and
 * other 4xx final; 401 final and loud; 413 split down to one event; 415 once
 * more without gzip; 408, 429 and 5xx back off and retry (a `/batch` 500
 * with rows: only the rows that failed transport).
 */
export function interpret(sent: SentRequest, res: ApiResponse, url: string): Verdict {
  const { status } = res;
  const from = `HTTP ${status} from POST ${url}`;
  const verdict: Verdict = {
    ok: status >= 200 && status < 300,
    delivered: [],
    failed: [],
    unauthorized: false,
  };
  const all = sent.events;
  if (verdict.ok || (status === 500 && sent.path === '/batch' && rowsOf(res.body))) {
    if (sent.path === '/batch') readRows(sent, res, verdict, from);
    else verdict.delivered = all;
    if (status === 200)
      verdict.oddBody = oddBody(res.body, verdict.failed.length > 0 || verdict.retry !== undefined);
  } else if (status >= 300 && status < 400) {
    verdict.failed.push({
      events: all,
      message: `${all.length} events not sent: ${from} redirects to ${res.location ?? 'nowhere (no Location)'}; the Ours API never redirects, so apiUrl is wrong: set it to the URL the API is at (events are never sent on to a redirect, which would take the token with them)`,
      status,
    });
  } else if (status === 413) {
    if (all.length > 1) verdict.resend = { parts: halves(all), gzip: sent.gzip };
    else
      verdict.failed.push({
        events: all,
        message: `event too large for the API (${from}${limitText(res.body)})`,
        status,
      });
  } else if (status === 415 && sent.gzip) {
    verdict.resend = { parts: [all], gzip: false };
  } else if (status === 401 || status === 403) {
    verdict.unauthorized = true;
    verdict.failed.push({
      events: all,
      message: `the Ours API refused the token (${from}): check the token option or OURS_TOKEN; ${all.length} events lost`,
      status,
    });
  } else if (status === 408 || status === 429 || status >= 500) {
    verdict.retry = { events: all, afterMs: parseRetryAfter(res.retryAfter), reason: from };
  } else {
    const hint =
      status === 404 || status === 405
        ? ': check apiUrl, which should be the API base URL ending in /api/v1'
        : errorText(res.body);
    verdict.failed.push({
      events: all,
      message: `${all.length} events rejected with ${from}${hint}`,
      status,
    });
  }
  return verdict;
}

/** Per-row outcome of a `/batch`: accepted rows are done, never resent. */
function readRows(sent: SentRequest, res: ApiResponse, verdict: Verdict, from: string): void {
  const rows = rowsOf(res.body);
  const retry: QueuedEvent[] = [];
  const seen = new Set<number>();
  for (const row of rows ?? []) {
    const event = sent.events[row.index];
    if (!event || seen.has(row.index)) continue;
    seen.add(row.index);
    if (row.success) verdict.delivered.push(event);
    else if (row.code === 'invalid_event') {
      const message = `event rejected as invalid (row ${row.index} of ${from}): ${row.message ?? 'no reason given'}`;
      verdict.failed.push({ events: [event], message, status: res.status });
    } else retry.push(event);
  }
  // Rows the answer does not mention: any other 2xx, or a 207 that lists rows,
  // accepted them. A 207 without rows or a 500: resend (distinctId makes it harmless).
  const acceptedByDefault = res.status === 207 ? rows !== undefined : res.status < 300;
  sent.events.forEach((event, i) => {
    if (!seen.has(i)) (acceptedByDefault ? verdict.delivered : retry).push(event);
  });
  if (retry.length) {
    verdict.retry = {
      events: retry,
      afterMs: parseRetryAfter(res.retryAfter),
      reason: `${from}: ${retry.length} rows failed queue transport`,
    };
  }
}

/**
 * What is wrong with a 200's body, if anything: the contract's is JSON with
 * `success: true` (`/batch`: rows, which may name failures). A body that is
 * not JSON, or says `success: false` and names no failed row, contradicts
 * its status, which wins: resending what a 200 accepted would send it twice.
 */
function oddBody(body: unknown, rowsFailed: boolean): string | undefined {
  if (typeof body !== 'object' || body === null) return 'a body that is not a JSON object';
  const { success } = body as { success?: unknown };
  if (success === false && !rowsFailed) return 'success: false and no failed row';
  return undefined;
}

/**
 * What the app hears of a 200 whose body is not the contract's: an error
 * (its events counted delivered, so none is known lost: `count` 0), since a
 * proxy's page in place of the API's answer may mean they never reached Ours.
 */
export function oddAnswer(url: string, oddBody: string, events: number): OursDeliveryError {
  return new OursDeliveryError(
    `HTTP 200 from POST ${url} with ${oddBody}, not the Ours API's answer: ${events} events counted delivered, as its status says; if apiUrl leads through a proxy, check that it passes the API's answers on`,
    0,
    200,
  );
}

function halves<T>(items: T[]): T[][] {
  const mid = Math.ceil(items.length / 2);
  return [items.slice(0, mid), items.slice(mid)];
}

function rowsOf(body: unknown): RowResult[] | undefined {
  const results = (body as { results?: unknown } | undefined)?.results;
  return Array.isArray(results)
    ? results.filter((r): r is RowResult => typeof r?.index === 'number')
    : undefined;
}

function errorText(body: unknown): string {
  const error = (body as { error?: unknown } | undefined)?.error;
  return typeof error === 'string' ? `: ${error.slice(0, 500)}` : '';
}

function limitText(body: unknown): string {
  const limit = (body as { limit?: unknown } | undefined)?.limit;
  return limit === undefined ? '' : `, limit ${String(limit)}`;
}
