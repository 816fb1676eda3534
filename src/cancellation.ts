/**
 * Shutdown's cancellation of requests in flight, as one AbortSignal per
 * request, made when it starts: workerd ties a signal to the request (of the
 * Worker) that made it and refuses it in any other, and one client serves
 * many requests. After `cancel()`, a request that starts is aborted at once.
 */
export class Cancellation {
  readonly #live = new Set<AbortController>();
  #reason: Error | undefined;

  get cancelled(): boolean {
    return this.#reason !== undefined;
  }

  /** `work` with a signal of its own, aborted if `cancel()` comes (or came) first. */
  async run<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    if (this.#reason) controller.abort(this.#reason);
    this.#live.add(controller);
    try {
      return await work(controller.signal);
    } finally {
      this.#live.delete(controller);
    }
  }

  cancel(reason: Error): void {
    this.#reason ??= reason;
    for (const controller of this.#live) controller.abort(reason);
  }
}
