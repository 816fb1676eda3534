/**
 * How long a partial batch that nobody awaits (a serverless request's
 * delivery, which only the platform's `waitUntil` waits for; the interval
 * timer's) waits for the `/batch` request sent just before it. Each request
 * of a busy instance took an API request of its own otherwise, whose fixed
 * cost (a gzip body, a request, its answer) was most of what its event
 * cost. With it, the batch sent last lands (or `ms` pass) and the next
 * request takes all the deliveries queued meanwhile. An API that does not
 * answer delays them by `ms` at most; `flush()`, a held response
 * (`flushOnResponse`) and one-event requests (`/track`, `/identify`) never wait.
 */
export class JoinWindow {
  #ms: number;
  /** The `/batch` request sent last, while it is in flight. */
  #batch: object | undefined;
  #sentAt = 0;

  /** `ms`: 0 never waits (see `Platform.joinBatchesMs`). */
  constructor(ms: number) {
    this.#ms = ms;
  }

  /** A request was sent (a first attempt): a `/batch` one is the one to join. */
  sent(request: { readonly path: string }): void {
    if (request.path !== '/batch' || this.#ms === 0) return;
    this.#batch = request;
    this.#sentAt = performance.now();
  }

  /** A request is out of flight (answered, failed, given up). */
  landed(request: object): void {
    if (request === this.#batch) this.#batch = undefined;
  }

  /** Nothing more will be queued (shutdown): nothing is left to wait for. */
  close(): void {
    this.#ms = 0;
    this.#batch = undefined;
  }

  /** Milliseconds a partial batch still waits; 0: it goes now. */
  waitMs(): number {
    if (!this.#batch) return 0;
    return Math.max(0, this.#sentAt + this.#ms - performance.now());
  }
}
