import { checkValue, type ContractIssue } from '../contract/check';
import { batchRequestSchema, identifyRequestSchema, trackRequestSchema } from '../contract/schema';
import type { Schema } from '../contract/schema-types';
import type { MockPath } from './types';

/** The event endpoints' schemas (the experiments endpoints are checked in experiments.ts). */
const SCHEMAS: Record<string, Schema> = {
  '/track': trackRequestSchema,
  '/batch': batchRequestSchema,
  '/identify': identifyRequestSchema,
};

/**
 * The contract's batch-count limit (1000); over it the API answers 413, not 400.
 *
 * @example
 * const chunks = Math.ceil(events.length / MAX_BATCH_EVENTS);
 */
export const MAX_BATCH_EVENTS = batchRequestSchema.properties!.events!.maxItems!;

/** `time` may be this far ahead of the server clock (clients' clocks drift). */
const CLOCK_SKEW_MS = 60_000;
/** The contract: "The time must be in the past and within the last 7 days." */
const MAX_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** Below this, a `time` is almost surely seconds (1e11 ms is 1973; 1e11 s is year 5138). */
const SECONDS_HINT = 1e11;

/**
 * The contract issues of one request body, split by consequence: `whole` rejects the
 * request (400), `rows` rejects single `/batch` rows (`invalid_event`), `tooMany` is 413.
 *
 * @example
 * const check: BodyCheck = checkBody('/track', { event: 'x' });
 * check.whole[0]?.field; // 'token'
 */
export interface BodyCheck {
  /** Every issue, for `mock.violations`. */
  all: ContractIssue[];
  whole: ContractIssue[];
  rows: Map<number, ContractIssue[]>;
  /** The batch has more events than the contract allows. */
  tooMany: boolean;
}

/**
 * Checks a parsed body against its endpoint's schema (with `checkValue`) plus the rule the
 * schema cannot express: `time` within the last 7 days and not in the future.
 *
 * @example
 * checkBody('/batch', { token: 't', events: [{ event: 'a' }] }).rows.get(0); // distinctId is required
 */
export function checkBody(endpoint: MockPath, body: unknown, now = Date.now()): BodyCheck {
  const all = checkValue(SCHEMAS[endpoint]!, body, '');
  all.push(...timeIssues(endpoint, body, now));
  const check: BodyCheck = { all, whole: [], rows: new Map(), tooMany: false };
  for (const issue of all) {
    const row = endpoint === '/batch' ? /^events\[(\d+)\]/.exec(issue.field) : null;
    if (!row) check.whole.push(issue);
    else check.rows.set(Number(row[1]), [...(check.rows.get(Number(row[1])) ?? []), issue]);
  }
  const events = (body as { events?: unknown } | null)?.events;
  check.tooMany =
    endpoint === '/batch' && Array.isArray(events) && events.length > MAX_BATCH_EVENTS;
  return check;
}

function timeIssues(endpoint: MockPath, body: unknown, now: number): ContractIssue[] {
  if (endpoint === '/identify' || typeof body !== 'object' || body === null) return [];
  if (endpoint === '/track')
    return optional(checkTime((body as { time?: unknown }).time, 'time', now));
  const events = (body as { events?: unknown }).events;
  if (!Array.isArray(events)) return [];
  return events.flatMap((row: unknown, i) =>
    optional(checkTime((row as { time?: unknown } | null)?.time, `events[${i}].time`, now)),
  );
}

/**
 * The schema already reports a `time` that is not a number; this only judges the value.
 *
 * @example
 * checkTime(Date.now() / 1000, 'time', Date.now())?.problem; // '... it looks like seconds ...'
 */
export function checkTime(time: unknown, field: string, now: number): ContractIssue | undefined {
  if (typeof time !== 'number' || !Number.isFinite(time)) return undefined;
  if (time > now + CLOCK_SKEW_MS) {
    return { field, problem: 'is in the future', limit: '60 s of clock skew' };
  }
  if (time < now - MAX_AGE_MS) {
    const hint =
      time < SECONDS_HINT ? ' (it looks like seconds; time is milliseconds since the epoch)' : '';
    return { field, problem: `is more than 7 days in the past${hint}`, limit: '7 days' };
  }
  return undefined;
}

function optional<T>(value: T | undefined): T[] {
  return value === undefined ? [] : [value];
}
