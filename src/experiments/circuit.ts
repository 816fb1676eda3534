/**
 * Stops asking an API that is down or hung. After a failure (a timeout, a
 * 5xx, a 429, a network error) no request is made for `coolDownMs`; then one
 * call is let through as a probe, and each further failure starts the wait
 * again. Any success closes the circuit. Without it, a hung API would get one
 * request per visitor, each holding a socket until its timeout.
 *
 * @example
 * if (!circuit.allows()) return CONTROL; // the API failed a moment ago
 * const ok = await ask();
 * ok ? circuit.success() : circuit.failure();
 */
export class Circuit {
  #open = false;
  #retryAt = 0;

  constructor(
    private readonly coolDownMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** May a request go out now? While open, yes once per `coolDownMs` (the probe). */
  allows(): boolean {
    if (!this.#open) return true;
    const now = this.now();
    if (now < this.#retryAt) return false;
    this.#retryAt = now + this.coolDownMs; // only this call probes in the next window
    return true;
  }

  success(): void {
    this.#open = false;
  }

  failure(): void {
    this.#open = true;
    this.#retryAt = this.now() + this.coolDownMs;
  }
}
