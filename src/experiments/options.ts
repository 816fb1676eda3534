import { platform } from '#platform';
import { OursConfigError } from '../errors';
import type { FetchLike } from '../client/post-events';

/**
 * The experiment cache: one entry per visitor, experiment and page (about
 * 350 bytes each; see docs/experiments.md).
 *
 * @example
 * new OursClient({ experimentCache: { maxEntries: 50_000, ttlMs: 5 * 60_000 } });
 */
export interface ExperimentCacheOptions {
  /** Entries kept; the least recently used goes first. @defaultValue 10000 */
  maxEntries?: number | undefined;
  /** How long an answer is reused, in milliseconds. @defaultValue 60000 */
  ttlMs?: number | undefined;
}

/**
 * Client options of server-side experiments (`req.ours.experiment()`).
 *
 * @example
 * app.use(ours({ token: process.env.OURS_TOKEN, experimentToken: process.env.OURS_EXPERIMENT_TOKEN, experimentBudgetMs: 100 }));
 */
export interface ExperimentClientOptions {
  /**
   * The experiment token (`exp_…`, from the dashboard; not the Source token).
   * Without one, every experiment call resolves to the control path and says so once.
   * @defaultValue `process.env.OURS_EXPERIMENT_TOKEN`
   */
  experimentToken?: string | undefined;
  /**
   * Longest an `experiment()` / `personalization()` call may take: past it the
   * call resolves to the control path (the request to the API may finish later
   * and fill the cache). @defaultValue 150
   */
  experimentBudgetMs?: number | undefined;
  /** Cache of answers, or `false` to ask the API on every call. @defaultValue `{ maxEntries: 10000, ttlMs: 60000 }` */
  experimentCache?: ExperimentCacheOptions | false | undefined;
}

/** Experiment options checked, with defaults applied. */
export interface ResolvedExperimentOptions {
  token: string | undefined;
  budgetMs: number;
  maxEntries: number;
  ttlMs: number;
  /** The fetch the user gave, if any (else experiments get their own node:http pool). */
  fetch: FetchLike | undefined;
}

const MAX_BUDGET_MS = 10_000;

function whole(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number,
): number {
  const v = value ?? fallback;
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new OursConfigError(
      name,
      `must be a whole number from ${min} to ${max}, got ${String(value)}`,
    );
  }
  return v;
}

/** Checks the experiment options once, when the client is made (a mistake throws there, not on a request). */
export function resolveExperimentOptions(
  options: ExperimentClientOptions & { fetch?: FetchLike } = {},
): ResolvedExperimentOptions {
  const token = options.experimentToken ?? (platform.env('OURS_EXPERIMENT_TOKEN') || undefined);
  if (
    token !== undefined &&
    (typeof token !== 'string' || token.length === 0 || token.length > 250)
  ) {
    throw new OursConfigError(
      'experimentToken',
      'must be a string of 1 to 250 characters (the exp_… token from the dashboard)',
    );
  }
  const cache = options.experimentCache ?? {};
  if (cache !== false && (typeof cache !== 'object' || cache === null)) {
    throw new OursConfigError('experimentCache', 'must be { maxEntries?, ttlMs? } or false');
  }
  return {
    token,
    budgetMs: whole('experimentBudgetMs', options.experimentBudgetMs, 150, 1, MAX_BUDGET_MS),
    maxEntries:
      cache === false
        ? 0
        : whole('experimentCache.maxEntries', cache.maxEntries, 10_000, 0, 10_000_000),
    ttlMs:
      cache === false
        ? 0
        : whole('experimentCache.ttlMs', cache.ttlMs, 60_000, 0, 24 * 60 * 60 * 1000),
    fetch: options.fetch,
  };
}
