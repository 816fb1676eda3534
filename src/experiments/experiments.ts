import { platform } from '#platform';
import { Cancellation } from '../cancellation';
import { OursError } from '../errors';
import { flatten } from '../flatten';
import { RateLimitedLog } from '../logger';
import { ExperimentsApi, type ApiOutcome, type PageContext } from './api';
import { Circuit } from './circuit';
import { InFlight } from './in-flight';
import type { ResolvedExperimentOptions } from './options';
import {
  controlOf,
  NO_PERSONALIZATION,
  parseAssignment,
  parsePersonalization,
} from './parse-answer';
import { TtlCache } from './ttl-cache';
import type { ExperimentAssignment, Personalization } from './types';
import { answerWithin } from '../deadline';

/** What a call knows about its request, read lazily (a throwing `identify` hook is caught here). */
export interface Visit {
  visitorId(): string | null | undefined;
  page(): PageContext | undefined;
  /** May this request record an impression (false when the app skips it, or drops Global Privacy Control requests)? */
  mayRecord(): boolean | PromiseLike<boolean>;
}

/** What the experiments need from their client. @internal */
export interface ExperimentsDeps {
  options: ResolvedExperimentOptions;
  apiUrl: string;
  report(err: OursError): void;
  /** Monotonic milliseconds; injectable for tests. */
  now?: () => number;
}

/** One question to the API: where its answer is cached, and how to ask for it and read it. */
interface Question<V> {
  cacheKey: string;
  /** The experiment key (or `personalization`), for reports. */
  label: string;
  impression: boolean;
  /** The answer when there is none: the control path, or no personalization. */
  fallback: V;
  parse(body: unknown, key: string): V | undefined;
  ask(api: ExperimentsApi, impression: boolean): Promise<ApiOutcome>;
}

interface Cached<V> {
  value: V;
  /** An impression was recorded when this answer was fetched. */
  impression: boolean;
}

/** A request to the API is given this long to fill the cache, even after its caller's budget ran out. */
const REQUEST_TIMEOUT_MS = 2000;
/** After a transient failure, no request for this long (then one probe). */
const COOL_DOWN_MS = 1000;
/** Sockets of the experiments' own pool, apart from event delivery's: neither waits behind the other. */
const SOCKETS = 16;
/**
 * Requests in flight at most (4 per socket). Past it a call takes the control
 * path at once: a burst of new visitors against a slow API would otherwise
 * queue hundreds of requests, whose setting up alone outlasts every budget.
 */
const MAX_PENDING = 64;
/** Longest experiment key / visitor id sent (the contract's userId is at most 400). */
const MAX_KEY = 256;
const MAX_VISITOR = 400;

/**
 * Server-side experiments of one client: answers from a bounded cache, or
 * from the API within a time budget, one request shared by concurrent
 * callers, a circuit that stops asking an API that fails. Never rejects and
 * never throws: whatever goes wrong resolves to the control path and is
 * reported (once a minute per kind of failure).
 *
 * @example
 * const experiments = new Experiments({ options, apiUrl, report: (err) => client.emit('error', err) });
 * const variant = await experiments.assign('pricing', visit);
 */
export class Experiments {
  readonly #opts: ResolvedExperimentOptions;
  readonly #report: (err: OursError) => void;
  readonly #now: () => number;
  readonly #api: ExperimentsApi | undefined;
  readonly #cache: TtlCache<Cached<unknown>>;
  readonly #inFlight = new InFlight<unknown>();
  readonly #circuit: Circuit;
  readonly #log = new RateLimitedLog();
  readonly #cancellation = new Cancellation();

  constructor({ options, apiUrl, report, now = () => performance.now() }: ExperimentsDeps) {
    this.#opts = options;
    this.#report = report;
    this.#now = now;
    this.#cache = new TtlCache(options.maxEntries, options.ttlMs, now);
    this.#circuit = new Circuit(COOL_DOWN_MS, now);
    if (options.token !== undefined) {
      const fetch = options.fetch ?? platform.defaultFetch(SOCKETS);
      const timeoutMs = Math.max(options.budgetMs, REQUEST_TIMEOUT_MS);
      this.#api = new ExperimentsApi(fetch, apiUrl, options.token, timeoutMs, this.#cancellation);
    }
  }

  /** The visitor's variant of experiment `key`, or the control path. Never rejects. */
  assign(key: string, visit: Visit, trackImpression = true): Promise<ExperimentAssignment> {
    return this.#assign(key, visit, trackImpression !== false).catch((err) =>
      this.#bug(err, controlOf(String(key))),
    );
  }

  /** The visitor's personalizations and properties, or none. Never rejects. */
  personalization(visit: Visit): Promise<Personalization> {
    return this.#personalization(visit).catch((err) => this.#bug(err, NO_PERSONALIZATION));
  }

  /** Cancels requests in flight; later calls take the control path at once. */
  close(): void {
    this.#cancellation.cancel(new Error('cancelled by shutdown'));
    this.#cache.clear();
  }

  async #assign(
    key: string,
    visit: Visit,
    trackImpression: boolean,
  ): Promise<ExperimentAssignment> {
    const label = typeof key === 'string' ? key : String(key);
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_KEY) {
      this.#warn(
        `key:${label.slice(0, 40)}`,
        `experiment key must be a string of 1 to ${MAX_KEY} characters`,
        label,
      );
      return controlOf(label);
    }
    const asked = this.#read(visit, key);
    if (!asked) return controlOf(key);
    const { page } = asked;
    // An async `skip` shares the budget: no answer in time records no impression.
    const impression =
      trackImpression &&
      (typeof asked.mayRecord === 'boolean'
        ? asked.mayRecord
        : (await answerWithin(Promise.resolve(asked.mayRecord), this.#opts.budgetMs)) === true);
    return this.#answer({
      cacheKey: cacheKeyOf(
        `a${asked.visitorId.length}:${asked.visitorId}${key.length}:${key}${page?.url ?? ''}`,
      ),
      label: key,
      impression,
      fallback: controlOf(key),
      parse: parseAssignment,
      ask: (api, record) => api.assignment(key, asked.visitorId, page, record),
    });
  }

  async #personalization(visit: Visit): Promise<Personalization> {
    const asked = this.#read(visit, 'personalization');
    if (!asked) return NO_PERSONALIZATION;
    return this.#answer({
      cacheKey: cacheKeyOf(`p${asked.visitorId}`),
      label: 'personalization',
      impression: false,
      fallback: NO_PERSONALIZATION,
      parse: parsePersonalization,
      ask: (api) => api.personalization(asked.visitorId),
    });
  }

  /** The last safety net: a bug of ours becomes a report and the control path, never a rejection in the app. */
  #bug<V>(err: unknown, fallback: V): V {
    this.#warn(
      'internal',
      `internal error: ${(err as Error)?.message ?? String(err)}`,
      'experiments',
    );
    return fallback;
  }

  /** The visitor and page, or undefined (reported) when there is nothing to ask about. */
  #read(
    visit: Visit,
    what: string,
  ):
    | {
        visitorId: string;
        page: PageContext | undefined;
        mayRecord: boolean | PromiseLike<boolean>;
      }
    | undefined {
    if (!this.#api || this.#cancellation.cancelled) {
      if (!this.#api)
        this.#warn(
          'no-token',
          'no experimentToken (or OURS_EXPERIMENT_TOKEN): every experiment call takes the control path',
          what,
        );
      return undefined;
    }
    let visitorId: string | null | undefined;
    let page: PageContext | undefined;
    let mayRecord: boolean | PromiseLike<boolean>;
    try {
      visitorId = visit.visitorId();
      page = visit.page();
      mayRecord = visit.mayRecord();
    } catch (err) {
      this.#warn(
        'hook',
        `reading the request failed: ${(err as Error)?.message ?? String(err)}`,
        what,
      );
      return undefined;
    }
    if (typeof visitorId !== 'string' || visitorId.length === 0 || visitorId.length > MAX_VISITOR) {
      this.#warn(
        'no-visitor',
        'the request has no visitor id (no ours_device_id cookie, no userId): control path. setVisitorCookie: true mints one',
        what,
      );
      return undefined;
    }
    return { visitorId, page, mayRecord };
  }

  /**
   * The cached answer; else the API's within the budget; else `fallback`.
   * Asked with an impression, a cached answer fetched without one does not count.
   */
  async #answer<V>(question: Question<V>): Promise<V> {
    const { cacheKey, impression, fallback } = question;
    const hit = this.#cache.get(cacheKey) as Cached<V> | undefined;
    if (hit && (hit.impression || !impression)) return hit.value;
    // A call without an impression may join one with; not the other way round.
    const joined = (this.#inFlight.get(`${cacheKey}1`) ??
      (impression ? undefined : this.#inFlight.get(`${cacheKey}0`))) as Promise<V> | undefined;
    if (!joined && !this.#circuit.allows()) return fallback;
    if (!joined && this.#inFlight.size >= MAX_PENDING) {
      this.#warn(
        'busy',
        `${MAX_PENDING} requests to the experiments API are already waiting: control path`,
        question.label,
      );
      return fallback;
    }
    const pending =
      joined ??
      (this.#inFlight.share(`${cacheKey}${impression ? 1 : 0}`, () =>
        this.#fetch(question),
      ) as Promise<V>);
    const answer = await answerWithin(pending, this.#opts.budgetMs);
    if (answer !== undefined) return answer;
    this.#circuit.failure();
    this.#warn(
      'budget',
      `the experiments API did not answer within experimentBudgetMs (${this.#opts.budgetMs} ms): control path`,
      question.label,
    );
    return fallback;
  }

  /** One request: its answer is cached (a final refusal as the fallback, so it is not asked again at once). */
  async #fetch<V>({ cacheKey, label, impression, fallback, parse, ask }: Question<V>): Promise<V> {
    const outcome = await ask(this.#api!, impression);
    if (outcome.kind === 'transient') {
      if (!this.#cancellation.cancelled) {
        this.#circuit.failure();
        this.#warn(
          'transient',
          `the experiments API is unavailable (${outcome.reason}): control path`,
          label,
        );
      }
      return fallback;
    }
    // A refused token will not be accepted for the next visitor either: stop asking for a while.
    if (outcome.kind === 'final' && (outcome.status === 401 || outcome.status === 403))
      this.#circuit.failure();
    else this.#circuit.success();
    const value = outcome.kind === 'ok' ? parse(outcome.body, label) : undefined;
    if (value === undefined) {
      const [status, why] =
        outcome.kind === 'ok'
          ? [200, 'an answer of unexpected shape']
          : [outcome.status, `a refusal (${outcome.reason})`];
      this.#warn(
        `final:${label}:${status}`,
        `the experiments API gave ${why}: control path`,
        label,
      );
    }
    // Flat: a key built from a cookie's value would otherwise keep the whole Cookie header alive.
    this.#cache.set(flatten(cacheKey), { value: value ?? fallback, impression });
    return value ?? fallback;
  }

  /** Reports once a minute per `kind`; the experiment token is cut out of anything echoed. */
  #warn(kind: string, message: string, label: string): void {
    if (this.#log.take(kind, this.#now()) < 0) return;
    const token = this.#opts.token;
    const text = `experiment '${label.slice(0, 80)}': ${message}`;
    this.#report(
      new OursError(token && token.length >= 8 ? text.split(token).join('[redacted]') : text),
    );
  }
}

/** Longest cache key kept as is; longer ones are hashed. */
const MAX_KEY_CHARS = 256;

/**
 * The key as is, or its SHA-256 when long: the visitor id (a cookie) and the
 * page URL (query string included) come from the request, and a client
 * sending 4 KB URLs must not make each cache entry hold 4 KB.
 */
function cacheKeyOf(raw: string): string {
  return raw.length <= MAX_KEY_CHARS ? raw : `#${platform.hashKey(raw)}`;
}
