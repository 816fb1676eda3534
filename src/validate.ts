import { platform } from '#platform';
import { compileSchema, type CompiledCheck, type ContractIssue } from './contract/check';
import { batchRequestSchema, identifyRequestSchema } from './contract/schema';
import type { Schema } from './contract/schema-types';
import { describeValue } from './errors';
import type { IdentifyEvent, PropertyMap, TrackEvent, UserPropertiesInput } from './events';

/** The contract: `time` must be in the past and within the last 7 days. */
export const MAX_EVENT_AGE_MS = 7 * 24 * 60 * 60 * 1000;
/** Leeway for a caller's clock running slightly ahead of ours. */
const FUTURE_SKEW_MS = 1000;

const has = Object.prototype.hasOwnProperty;
const batchRow = batchRequestSchema.properties!.events!.items!;
const trackFields = batchRow.properties!;
const identifyFields = identifyRequestSchema.properties!;
const IDENTITY = ['userId', 'externalId', 'email'] as const;

/** Each field's compiled check, by name; a Map, so `__proto__` or `constructor` finds nothing. */
function compileFields(fields: Record<string, Schema>): Map<string, CompiledCheck> {
  return new Map(Object.keys(fields).map((key) => [key, compileSchema(fields[key]!)]));
}
const trackChecks = compileFields(trackFields);
/** Set by checkTrack itself, after the copy. */
const SKIP_TRACK = ['time', 'distinctId'] as const;
const identifyChecks = compileFields(identifyFields);
const checkDistinctId = trackChecks.get('distinctId')!;

/**
 * The issue of an event that names no visitor: the one a new user meets
 * first (a curl test, a first visit before the browser SDK has set its
 * cookie), so the client reports it apart, as a `no_visitor` drop.
 */
export const NO_VISITOR: Readonly<ContractIssue> = Object.freeze({
  field: 'userId',
  problem:
    'is missing, and so are externalId and email: give at least one so Ours can attach the event to a visitor',
});

/** A checked event in the exact shape the API takes, or the issues that stop it. */
export type Checked<T> = { ok: true; body: T } | { ok: false; issues: ContractIssue[] };

/** Wire shape of one `/batch` row (and of `/track` without the token). */
export type WireEvent = Record<string, unknown> & {
  event: string;
  distinctId: string;
  time: number;
};

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Coerces a custom map to the contract's strings: numbers and booleans become
 * strings, `undefined` is left out, `null` stays; anything else is an issue.
 */
function coerceMap(
  map: unknown,
  field: string,
  issues: ContractIssue[],
): Record<string, string | null> | null | undefined {
  if (map === undefined || map === null) return map;
  if (!isPlainObject(map)) {
    issues.push({ field, problem: 'must be an object of strings, numbers or booleans' });
    return undefined;
  }
  // Serialised before track() returns, so a map with nothing to coerce needs no copy.
  if (allStrings(map)) return map as Record<string, string | null>;
  const out: Record<string, string | null> = {};
  for (const key of Object.keys(map)) {
    const value = (map as PropertyMap)[key];
    if (value === undefined) continue;
    if (value === null || typeof value === 'string') out[key] = value;
    else if (typeof value === 'boolean' || (typeof value === 'number' && Number.isFinite(value)))
      out[key] = String(value);
    else
      issues.push({
        field: `${field}.${key}`,
        problem: `must be a string, a finite number, a boolean or null, got ${describeValue(value)}`,
      });
  }
  return out;
}

/** Whether every value of `map` is a string or null: what the contract takes as is. */
function allStrings(map: Record<string, unknown>): boolean {
  for (const key in map) {
    if (!has.call(map, key)) continue;
    const value = map[key];
    if (value !== null && typeof value !== 'string') return false;
  }
  return true;
}

function coerceUserProperties(input: unknown, issues: ContractIssue[]): unknown {
  if (!isPlainObject(input)) return input; // checkValue reports the wrong type
  const props = input as UserPropertiesInput;
  if (props.custom_properties === undefined && props.consent === undefined) return input;
  // `{ ...props }` without the spread (docs/architecture.md, "The hot path").
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(props)) {
    // A JSON-parsed `__proto__` key is data, as a spread would copy it.
    if (key === '__proto__')
      Object.defineProperty(out, key, {
        value: (props as Record<string, unknown>)[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    else out[key] = (props as Record<string, unknown>)[key];
  }
  out.custom_properties = coerceMap(
    props.custom_properties,
    'userProperties.custom_properties',
    issues,
  );
  const consent = coerceMap(props.consent, 'userProperties.consent', issues);
  // An empty consent object would replace the visitor's stored consent with nothing.
  out.consent = consent && Object.keys(consent).length === 0 ? undefined : consent;
  return out;
}

function checkTime(time: unknown, now: number, issues: ContractIssue[]): number {
  const ms = time instanceof Date ? time.getTime() : time;
  if (typeof ms !== 'number' || !Number.isFinite(ms)) {
    issues.push({ field: 'time', problem: 'must be a Date or milliseconds since the epoch' });
  } else if (ms > now + FUTURE_SKEW_MS) {
    issues.push({ field: 'time', problem: 'is in the future; the API takes only past events' });
  } else if (ms < now - MAX_EVENT_AGE_MS) {
    const hint = ms < 1e11 ? ' (it looks like seconds; the API takes milliseconds)' : '';
    issues.push({ field: 'time', problem: `is more than 7 days old${hint}`, limit: '7 days' });
  }
  return ms as number;
}

/**
 * Copies the fields of `input` into a wire object, coercing custom maps and
 * checking every field against the contract schema. Unknown fields are issues.
 */
function copyChecked(
  input: Record<string, unknown>,
  fields: Map<string, CompiledCheck>,
  skip: readonly string[],
  issues: ContractIssue[],
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in input) {
    if (!has.call(input, key)) continue;
    let value = input[key];
    if (value === undefined || skip.includes(key)) continue;
    const check = key === 'token' ? undefined : fields.get(key);
    if (check === undefined) {
      issues.push({ field: key, problem: 'is not a field of the Ours API' });
      continue;
    }
    if (key === 'eventProperties') value = coerceMap(value, key, issues);
    else if (key === 'userProperties') value = coerceUserProperties(value, issues);
    if (value === undefined) continue;
    check(value, '', key, issues);
    out[key] = value;
  }
  if (!IDENTITY.some((k) => typeof out[k] === 'string')) issues.push(NO_VISITOR);
  return out;
}

/** Checks and completes one track event: stamps `distinctId` and `time` once, here. */
export function checkTrack(input: TrackEvent, now: number): Checked<WireEvent> {
  if (!isPlainObject(input))
    return {
      ok: false,
      issues: [{ field: 'event', problem: 'must be an object with at least { event }' }],
    };
  const issues: ContractIssue[] = [];
  const body = copyChecked(input, trackChecks, SKIP_TRACK, issues);
  if (input.event === undefined) issues.push({ field: 'event', problem: 'is required' });
  body.distinctId = input.distinctId ?? platform.randomUUID();
  checkDistinctId(body.distinctId, '', 'distinctId', issues);
  body.time = input.time === undefined ? now : checkTime(input.time, now, issues);
  return issues.length ? { ok: false, issues } : { ok: true, body: body as WireEvent };
}

/** Checks one identify call against the contract. */
export function checkIdentify(input: IdentifyEvent): Checked<Record<string, unknown>> {
  if (!isPlainObject(input))
    return { ok: false, issues: [{ field: 'userProperties', problem: 'is required' }] };
  const issues: ContractIssue[] = [];
  const body = copyChecked(input, identifyChecks, [], issues);
  if (body.userProperties === undefined)
    issues.push({ field: 'userProperties', problem: 'is required' });
  return issues.length ? { ok: false, issues } : { ok: true, body };
}
