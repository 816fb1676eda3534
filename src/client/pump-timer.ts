import { MAX_TIMER_MS } from '../deadline';

/**
 * The dispatcher's one timer: wakes the pump for the flush interval, a
 * backoff or a partial batch's wait (see `JoinWindow`), whichever is due
 * first. It keeps the process alive only while a flush is awaited, and never
 * after a signal the app handles itself (`release`).
 */
export class PumpTimer {
  readonly #fire: () => void;
  /** Whether a flush is awaited now (it keeps the process alive through a wait). */
  readonly #awaited: () => boolean;
  #timer: NodeJS.Timeout | undefined;
  #at = 0;
  #released = false;

  constructor(fire: () => void, awaited: () => boolean) {
    this.#fire = fire;
    this.#awaited = awaited;
  }

  /** Fires in `ms`, unless it will fire sooner anyway. */
  arm(ms: number): void {
    const now = performance.now();
    // A timer past its time is late (a busy loop) or dropped (workerd drops an ended request's timers): due now.
    // A backoff past setTimeout's range (maxDelayMs plus jitter) fires at its limit, and the pump arms again.
    const delay = this.#timer && this.#at <= now ? 0 : Math.min(ms, MAX_TIMER_MS);
    const at = now + delay;
    if (this.#timer && this.#at <= at && this.#at > now) return;
    clearTimeout(this.#timer);
    this.#at = at;
    // `delay`, not `at - now`: that rounds past MAX_TIMER_MS for some `now`, and overflows to 1 ms.
    this.#timer = setTimeout(this.#onTimer, delay);
    if (!this.#awaited() || this.#released) this.#timer.unref?.(); // workerd's timers are numbers
  }

  /** An awaited flush keeps the process alive through a wait; an idle client does not. */
  keepAlive(yes: boolean): void {
    if (!yes) this.#timer?.unref?.();
    else if (!this.#released) this.#timer?.ref?.();
  }

  /** A signal the app handles itself: from now on, the timer never holds the process open. */
  release(): void {
    this.#released = true;
    this.#timer?.unref?.();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#fire();
  };
}
