import { createHash } from 'node:crypto';
import type { ContractIssue } from '../contract/check';
import { failure, type Reply } from './replies';
import type { ExperimentPath } from './types';

/*
 * The mock's side of Ours' server-side experiments (facts in
 * docs/experiments.md): the request contract of both endpoints, and answers
 * from experiments and personalizations a test declares.
 */

/**
 * One variant of a mock experiment.
 */
export interface MockVariant {
  id: string;
  name?: string | undefined;
  isControl?: boolean | undefined;
  /** Split-URL variant: where to send the visitor (sent as is, even if unsafe: test your refusals). */
  redirect?: string | undefined;
}

/**
 * How the mock answers `POST /experiments/assignments/{key}` for one key.
 *
 * @example
 * mock.experiment('checkout', { variants: [{ id: 'ctl', isControl: true }, { id: 'b', name: 'B' }] });
 * mock.experiment('pricing', { variants: [{ id: 'b' }], assign: (visitorId) => (visitorId === 'v1' ? 'b' : null) });
 */
export interface MockExperiment {
  /** The variants; at least one. */
  variants: readonly MockVariant[];
  /** The experiment's id. @defaultValue `exp_<key>` */
  id?: string | undefined;
  /** Only these pages are eligible: the context's `url` contains the string, or matches the RegExp. */
  url?: string | RegExp | undefined;
  /**
   * Picks the variant id for a visitor (`null`: not in the experiment). By
   * default a stable hash of the visitor id and key, as the real API is sticky.
   */
  assign?:
    | ((
        visitorId: string,
        context: { url?: string | undefined; search?: string | undefined } | null,
      ) => string | null)
    | undefined;
}

/**
 * A visitor's personalization, as `mock.personalization()` takes it.
 *
 * @example
 * mock.personalization('v1', { personalizations: [{ experimentId: 'e1', variantId: 'v' }], properties: { plan: 'pro' } });
 */
export interface MockPersonalization {
  personalizations?:
    | readonly {
        experimentId: string;
        variantId: string;
        experimentKey?: string | undefined;
        experimentName?: string | undefined;
        variantName?: string | undefined;
        assignedAt?: number | undefined;
      }[]
    | undefined;
  properties?: Readonly<Record<string, string | number | boolean>> | undefined;
}

/**
 * An `$experiment_impression` the mock recorded (an assignment asked with
 * `track_impression` true or absent, for a visitor in the experiment).
 *
 * @example
 * expect(mock.impressions).to.deep.equal([{ experimentKey: 'checkout', visitorId: 'v1', variantId: 'b' }]);
 */
export interface MockImpression {
  experimentKey: string;
  visitorId: string;
  variantId: string;
}

/** What a test declared and what the mock recorded, cleared by `reset()`. */
export class ExperimentBook {
  readonly experiments = new Map<string, MockExperiment>();
  readonly personalizations = new Map<string, MockPersonalization>();
  readonly impressions: MockImpression[] = [];

  clear(): void {
    this.experiments.clear();
    this.personalizations.clear();
    this.impressions.length = 0;
  }
}

const PREFIX = '/experiments/assignments/';

/**
 * The endpoint and experiment key of an experiments path (relative to the
 * base URL), or undefined for any other path.
 *
 * @example
 * experimentRoute('/experiments/assignments/checkout'); // { endpoint: '/experiments/assignments', key: 'checkout' }
 */
export function experimentRoute(
  rest: string,
): { endpoint: ExperimentPath; key: string } | undefined {
  if (rest === '/experiments/personalization') return { endpoint: rest, key: '' };
  if (!rest.startsWith(PREFIX)) return undefined;
  let key: string;
  try {
    key = decodeURIComponent(rest.slice(PREFIX.length));
  } catch {
    key = rest.slice(PREFIX.length);
  }
  return { endpoint: '/experiments/assignments', key };
}

const ASSIGNMENT_FIELDS = new Set(['token', 'visitor_id', 'context', 'track_impression']);
const PERSONALIZATION_FIELDS = new Set(['token', 'visitor_id']);
const CONTEXT_FIELDS = new Set(['url', 'search']);

/**
 * The contract issues of an experiments request body (docs/experiments.md):
 * the `exp_` token, a visitor id, the page context, `track_impression`, and
 * no field the API does not know.
 *
 * @example
 * checkExperimentBody('/experiments/personalization', '', { token: 'tok', visitor_id: '' }); // token, visitor_id issues
 */
export function checkExperimentBody(
  endpoint: ExperimentPath,
  key: string,
  body: unknown,
): ContractIssue[] {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return [{ field: '', problem: 'must be a JSON object' }];
  const b = body as Record<string, unknown>;
  const issues: ContractIssue[] = [];
  const assignment = endpoint === '/experiments/assignments';
  if (assignment && key.length === 0)
    issues.push({ field: 'experimentKey', problem: 'is missing from the path' });
  const known = assignment ? ASSIGNMENT_FIELDS : PERSONALIZATION_FIELDS;
  for (const name of Object.keys(b))
    if (!known.has(name)) issues.push({ field: name, problem: 'is not a field of this request' });
  if (typeof b.token !== 'string' || b.token === '')
    issues.push({ field: 'token', problem: 'is required' });
  else if (!b.token.startsWith('exp_'))
    issues.push({
      field: 'token',
      problem: 'must be the experiment token (exp_…), not the Source token',
      limit: 'exp_…',
    });
  if (typeof b.visitor_id !== 'string' || b.visitor_id === '')
    issues.push({ field: 'visitor_id', problem: 'is required (a non-empty string)' });
  if (assignment) {
    if (
      b.track_impression !== undefined &&
      b.track_impression !== null &&
      typeof b.track_impression !== 'boolean'
    ) {
      issues.push({ field: 'track_impression', problem: 'must be a boolean or null' });
    }
    issues.push(...contextIssues(b.context));
  }
  return issues;
}

function contextIssues(context: unknown): ContractIssue[] {
  if (context === undefined || context === null) return [];
  if (typeof context !== 'object' || Array.isArray(context))
    return [{ field: 'context', problem: 'must be an object or null' }];
  const c = context as Record<string, unknown>;
  const issues: ContractIssue[] = [];
  for (const name of Object.keys(c))
    if (!CONTEXT_FIELDS.has(name))
      issues.push({ field: `context.${name}`, problem: 'is not a field of the page context' });
  if (c.url !== undefined && (typeof c.url !== 'string' || !/^https?:\/\/[^/]/i.test(c.url))) {
    issues.push({ field: 'context.url', problem: 'must be an absolute http(s) URL' });
  }
  if (
    c.search !== undefined &&
    (typeof c.search !== 'string' || (c.search !== '' && !c.search.startsWith('?')))
  ) {
    issues.push({ field: 'context.search', problem: "must be a query string starting with '?'" });
  }
  return issues;
}

/**
 * The answer to a valid experiments request: the declared variant (or
 * `in_experiment: false`), 404 for a key nobody declared, 401 for a token
 * other than the mock's `experimentToken`.
 *
 * @example
 * answerExperiment(book, undefined, '/experiments/personalization', '', { token: 'exp_t', visitor_id: 'v1' });
 */
export function answerExperiment(
  book: ExperimentBook,
  token: string | undefined,
  endpoint: ExperimentPath,
  key: string,
  body: unknown,
): Reply {
  const b = body as {
    token: string;
    visitor_id: string;
    context?: { url?: string; search?: string } | null;
    track_impression?: boolean | null;
  };
  if (token !== undefined && b.token !== token)
    return failure(endpoint, 401, 'the experiment token is not valid');
  if (endpoint === '/experiments/personalization')
    return personalizationReply(book.personalizations.get(b.visitor_id));
  const experiment = book.experiments.get(key);
  if (!experiment) return failure(endpoint, 404, `no experiment with key ${JSON.stringify(key)}`);
  const context = b.context ?? null;
  if (!eligible(experiment.url, context?.url))
    return { status: 200, body: { success: true, in_experiment: false } };
  const variantId = experiment.assign
    ? experiment.assign(b.visitor_id, context)
    : bucket(b.visitor_id, key, experiment.variants);
  const variant = experiment.variants.find((v) => v.id === variantId);
  if (!variant) return { status: 200, body: { success: true, in_experiment: false } };
  if (b.track_impression !== false)
    book.impressions.push({ experimentKey: key, visitorId: b.visitor_id, variantId: variant.id });
  const reply: Record<string, unknown> = {
    success: true,
    in_experiment: true,
    experiment_id: experiment.id ?? `exp_${key}`,
    experiment_key: key,
    variant_id: variant.id,
    is_control: variant.isControl === true,
    type: variant.redirect === undefined ? 'ab' : 'redirect',
  };
  if (variant.name !== undefined) reply.variant_name = variant.name;
  if (variant.redirect !== undefined) reply.redirect = variant.redirect;
  return { status: 200, body: reply };
}

/**
 * Checks a declared experiment, so a typo throws at the call site.
 *
 * @example
 * assertExperiment('checkout', { variants: [] }); // throws: at least one variant
 */
export function assertExperiment(key: string, experiment: MockExperiment): void {
  const fail = (problem: string): never => {
    throw new TypeError(`mock.experiment(${JSON.stringify(key)}): ${problem}`);
  };
  if (typeof key !== 'string' || key === '') fail('the key must be a non-empty string');
  if (!Array.isArray(experiment?.variants) || experiment.variants.length === 0)
    fail('variants must list at least one variant');
  if (experiment.variants.some((v) => typeof v?.id !== 'string' || v.id === ''))
    fail('every variant needs a non-empty string id');
  if (experiment.assign !== undefined && typeof experiment.assign !== 'function')
    fail('assign must be a function');
}

function eligible(rule: string | RegExp | undefined, url: string | undefined): boolean {
  if (rule === undefined) return true;
  if (url === undefined) return false;
  return typeof rule === 'string' ? url.includes(rule) : rule.test(url);
}

/** Sticky like the real API: the same visitor and key always land in the same variant. */
function bucket(visitorId: string, key: string, variants: readonly MockVariant[]): string {
  const n = createHash('sha256').update(`${key}\0${visitorId}`).digest().readUInt32BE(0);
  return variants[n % variants.length]!.id;
}

function personalizationReply(found: MockPersonalization | undefined): Reply {
  const personalizations = (found?.personalizations ?? []).map((p) => {
    const entry: Record<string, unknown> = {
      assigned_at: p.assignedAt ?? Date.now(),
      experiment_id: p.experimentId,
      variant_id: p.variantId,
    };
    if (p.experimentKey !== undefined) entry.experiment_key = p.experimentKey;
    if (p.experimentName !== undefined) entry.experiment_name = p.experimentName;
    if (p.variantName !== undefined) entry.variant_name = p.variantName;
    return entry;
  });
  return {
    status: 200,
    body: { success: true, personalizations, properties: { ...found?.properties } },
  };
}
