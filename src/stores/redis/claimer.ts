import { claimIdle, type StoredEntry } from './entries';
import { touchEntries, type RedisLike, type StreamNames } from './commands';

/** XAUTOCLAIM pages per tick: a dead peer's backlog comes over in steps, not all at once. */
const MAX_PAGES = 10;

/** What the claimer needs from its store. */
export interface ClaimTarget {
  /** IDs of the entries this instance holds (waiting, in flight or retrying). */
  heldIds(): string[];
  /** Entries that are now this instance's to deliver. */
  adopt(entries: StoredEntry[]): void;
  report(err: Error): void;
}

/**
 * The fleet's failover, run by every instance: each tick (a third of
 * `claimIdleMs`) it first touches the entries it holds, so that their idle
 * time stays well below `claimIdleMs` while it lives, however long an outage
 * keeps them; then it claims the entries that have been idle longer than
 * `claimIdleMs`, which only a dead instance leaves. The timer is unref'd.
 */
export class Claimer {
  readonly #tickMs: number;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #ticking: Promise<void> | undefined;

  constructor(
    private readonly redis: RedisLike,
    private readonly names: StreamNames,
    private readonly claimIdleMs: number,
    private readonly target: ClaimTarget,
  ) {
    this.#tickMs = Math.max(10, Math.floor(claimIdleMs / 3));
  }

  start(): void {
    if (!this.#stopped) this.#schedule(0);
  }

  #schedule(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#ticking = this.#tick()
        .catch((err: Error) => this.target.report(err))
        .finally(() => {
          this.#ticking = undefined;
          if (!this.#stopped) this.#schedule(this.#tickMs);
        });
    }, ms);
    this.#timer.unref();
  }

  async #tick(): Promise<void> {
    await touchEntries(this.redis, this.names, this.target.heldIds());
    let cursor = '0-0';
    for (let page = 0; page < MAX_PAGES && !this.#stopped; page++) {
      const claimed = await claimIdle(this.redis, this.names, this.claimIdleMs, cursor);
      if (claimed.entries.length) this.target.adopt(claimed.entries);
      cursor = claimed.cursor;
      if (cursor === '0-0') return;
    }
  }

  /** No more ticks; waits for the one running, if any. */
  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    await this.#ticking;
  }
}
