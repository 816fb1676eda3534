import type { RetryOptions } from '../options';

/**
 * The contract's backoff for 429 and 5xx: start at `initialDelayMs`, double
 * per consecutive failure up to `maxDelayMs`, add uniform jitter. `random` is
 * injectable so tests can pin the jitter.
 */
export function backoffDelay(
  failures: number,
  retry: Required<RetryOptions>,
  random = Math.random,
): number {
  const exponential = Math.min(
    retry.maxDelayMs,
    retry.initialDelayMs * 2 ** Math.max(0, failures - 1),
  );
  const [min, max] = retry.jitterMs;
  return exponential + min + Math.floor(random() * (max - min + 1));
}

/** HTTP's delta-seconds, and the fractions some servers send; `Number()` would also read `0x10` and `1e9`. */
const DELTA_SECONDS = /^\s*\d+(\.\d+)?\s*$/;

/**
 * The longest `Retry-After` obeyed: five times the contract's longest backoff
 * (60 s). Longer, and every event of the client waits in memory (or on disk)
 * on one server's word, past the whole retry budget's default span: a proxy's
 * "come back tomorrow" would park delivery for good. See docs/reliability.md.
 */
export const MAX_RETRY_AFTER_MS = 300_000;

/**
 * `Retry-After` as milliseconds: delta-seconds or an HTTP date; anything else
 * is no `Retry-After`. Capped at `MAX_RETRY_AFTER_MS`.
 */
export function parseRetryAfter(
  header: string | null | undefined,
  now = Date.now(),
): number | undefined {
  if (!header) return undefined;
  const ms = DELTA_SECONDS.test(header) ? Number(header) * 1000 : Date.parse(header) - now;
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return Math.min(ms, MAX_RETRY_AFTER_MS);
}

/**
 * One backoff gate for the whole client: when the API says "slow down", every
 * request waits, not only the one that was refused. Otherwise N requests in
 * flight would each retry on their own schedule and keep the API saturated.
 *
 * The doubling counts rounds, not requests: the requests sent together in one
 * round that all fail are one failure of the API, not `maxInFlight` of them.
 * Counting each would jump from 2 s to 16 s at once and soon sit at 60 s, past
 * the end of a short outage (the soak in `bench/` measured exactly that).
 *
 * Times are on the monotonic clock: a wall clock stepped back (NTP, a VM
 * restored from a snapshot) would otherwise hold the gate shut for the step.
 */
export class BackoffGate {
  #failures = 0;
  #openAt = 0;
  #round = 0;

  constructor(private readonly retry: Required<RetryOptions>) {}

  /** The round a request sent now belongs to; hand it back to `failure`. */
  get round(): number {
    return this.#round;
  }

  /** Milliseconds until requests may go again (0 when open). */
  waitMs(now = performance.now()): number {
    return Math.max(0, this.#openAt - now);
  }

  /**
   * A retryable failure of a request sent in `sentInRound`: close the gate for
   * the next backoff, at least `retryAfterMs`. Only the first failure of a
   * round doubles the wait; the others keep the gate closed at least as long.
   */
  failure(
    retryAfterMs: number | undefined,
    sentInRound = this.#round,
    now = performance.now(),
  ): number {
    if (sentInRound === this.#round) {
      this.#failures++;
      this.#round++;
    }
    const delay = Math.max(
      backoffDelay(Math.max(1, this.#failures), this.retry),
      retryAfterMs ?? 0,
    );
    this.#openAt = Math.max(this.#openAt, now + delay);
    return delay;
  }

  /** Any success resets the doubling. */
  success(): void {
    this.#failures = 0;
  }
}
