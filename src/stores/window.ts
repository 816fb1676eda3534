/** Longest wait between two tries while writes keep failing. */
const MAX_BACKOFF_MS = 5000;
/** A store failure that goes on is reported again at most this often. */
const REPORT_EVERY_MS = 60_000;

/**
 * The write window of a durable store: work piles up in memory and `run`
 * writes it all at most `ms` after the first piece, one run at a time. A run
 * that fails is reported (once, then at most once a minute while it keeps
 * failing) and tried again with a doubling delay; nothing is thrown.
 *
 * The timer holds the process open for at most one window, so that a script
 * that ends on its own still writes what it tracked (a retry after a failure
 * does not hold it).
 */
export class WriteWindow {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #again = false;
  #failures = 0;
  #reportedAt = 0;
  #closed = false;

  constructor(
    readonly ms: number,
    private readonly run: () => Promise<void>,
    private readonly report: (err: Error) => void,
  ) {}

  /** Work is waiting: run within the window (or the backoff, while failing). */
  arm(): void {
    if (this.#timer || this.#closed) return;
    if (!this.#failures) {
      this.#timer = setTimeout(this.#fire, this.ms);
      return;
    }
    // Retrying a failure must not keep a process alive that is otherwise done.
    this.#timer = setTimeout(
      this.#fire,
      Math.min(this.ms * 2 ** this.#failures, MAX_BACKOFF_MS),
    ).unref();
  }

  #fire = (): void => {
    this.#timer = undefined;
    void this.flush();
  };

  /** Runs now, or once more after the run in progress; resolves when done. Never rejects. */
  flush(): Promise<void> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.#loop().finally(() => (this.#running = undefined));
    return this.#running;
  }

  async #loop(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.run();
        this.#failures = 0;
      } catch (err) {
        this.#failed(err as Error);
        return;
      }
    } while (this.#again);
  }

  #failed(err: Error): void {
    this.#failures++;
    const now = performance.now();
    if (this.#failures === 1 || now - this.#reportedAt >= REPORT_EVERY_MS) {
      this.#reportedAt = now;
      this.report(err);
    }
    this.arm();
  }

  /** Stops the timer and runs one last time. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
