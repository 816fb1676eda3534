import type { ExperimentAssignment, Personalization, PersonalizationEntry } from './types';

/*
 * The experiments endpoints' 200 bodies, read defensively: they are not in
 * the OpenAPI contract (see docs/experiments.md), so anything unexpected is
 * `undefined` (reported by the caller, answered with the control path), and
 * results are frozen because the cache hands the same object to many requests.
 */

type Json = Record<string, unknown>;

/** Not in the experiment: the control path. */
export function controlOf(experimentKey: string): ExperimentAssignment {
  return Object.freeze({
    inExperiment: false,
    variantId: null,
    variantName: null,
    isControl: true,
    experimentKey,
  });
}

/** No personalizations, no properties. */
export const NO_PERSONALIZATION: Personalization = Object.freeze({
  personalizations: Object.freeze([]),
  properties: Object.freeze({}),
});

/** `{ success, in_experiment, variant_id, … }` as an assignment, or undefined when it is not one. */
export function parseAssignment(body: unknown, key: string): ExperimentAssignment | undefined {
  if (!isObject(body) || body.success !== true || typeof body.in_experiment !== 'boolean')
    return undefined;
  if (!body.in_experiment) return controlOf(key);
  const variantId = id(body.variant_id);
  if (variantId === undefined) return undefined;
  const out: { -readonly [K in keyof ExperimentAssignment]: ExperimentAssignment[K] } = {
    inExperiment: true,
    variantId,
    variantName: text(body.variant_name) ?? null,
    isControl: body.is_control === true,
    experimentKey: text(body.experiment_key) ?? key,
  };
  const experimentId = id(body.experiment_id);
  if (experimentId !== undefined) out.experimentId = experimentId;
  const redirect = text(body.redirect);
  if (redirect !== undefined) out.redirect = redirect;
  return Object.freeze(out);
}

/** `{ success, personalizations, properties }`, keeping only well-formed entries and scalar properties. */
export function parsePersonalization(body: unknown): Personalization | undefined {
  if (!isObject(body) || body.success !== true) return undefined;
  const list = Array.isArray(body.personalizations) ? body.personalizations : [];
  const props = isObject(body.properties) ? body.properties : {};
  const personalizations = list
    .map(entryOf)
    .filter((e): e is PersonalizationEntry => e !== undefined);
  // Object.fromEntries defines own properties: a `__proto__` key stays a key.
  const properties = Object.fromEntries(
    Object.entries(props).filter(([, v]) => ['string', 'number', 'boolean'].includes(typeof v)),
  ) as Record<string, string | number | boolean>;
  return Object.freeze({
    personalizations: Object.freeze(personalizations),
    properties: Object.freeze(properties),
  });
}

function entryOf(raw: unknown): PersonalizationEntry | undefined {
  if (!isObject(raw)) return undefined;
  const experimentId = id(raw.experiment_id);
  const variantId = id(raw.variant_id);
  if (experimentId === undefined || variantId === undefined || typeof raw.assigned_at !== 'number')
    return undefined;
  const entry: { -readonly [K in keyof PersonalizationEntry]: PersonalizationEntry[K] } = {
    assignedAt: raw.assigned_at,
    experimentId,
    variantId,
  };
  const experimentKey = text(raw.experiment_key);
  if (experimentKey !== undefined) entry.experimentKey = experimentKey;
  const experimentName = text(raw.experiment_name);
  if (experimentName !== undefined) entry.experimentName = experimentName;
  const variantName = text(raw.variant_name);
  if (variantName !== undefined) entry.variantName = variantName;
  return Object.freeze(entry);
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 ? value : undefined;
}

/** Ids are strings in the SDK's types; a number is accepted and spelled as one. */
function id(value: unknown): string | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? String(value) : text(value);
}
