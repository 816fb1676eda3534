import { platform } from '#platform';
import { Cancellation } from '../cancellation';
import { abortable } from '../deadline';
import { OursDeliveryError, type OursError } from '../errors';
import type { ResolvedOptions } from '../options';
import type { Reporter } from '../reporter';
import type { EventPath, EventStore } from '../stores/event-store';
import { BackoffGate } from './backoff';
import type { AwaitedEvent } from './flush-waiter';
import { interpret, oddAnswer } from './interpret-response';
import { JoinWindow } from './join-window';
import { PumpTimer } from './pump-timer';
import type { Ledger } from './ledger';
import { encodeBody, post, type ApiResponse } from './post-events';
import { releaseJson, restoreJson } from './released-json';
import { MemoryStore } from '../stores/memory-store';

/** A request's worth of events, kept whole across retries with its encoded body. */
interface OutgoingRequest {
  readonly path: EventPath;
  readonly events: AwaitedEvent[];
  attempts: number;
  gzip: boolean;
  body?: Promise<Uint8Array | string>;
  /** The backoff round it was last sent in (see `BackoffGate`). */
  round?: number;
  /** The body its events' JSON lives in while they let go of it (see `releaseJson`). */
  jsonBody?: Uint8Array | string;
}

/** Uncompressed JSON per `/batch` request; a 413 splits further. */
const MAX_BATCH_BYTES = 512 * 1024;

/** Why requests stop at shutdown: the reason they fail with. */
const SHUTDOWN = new Error('cancelled by shutdown');

/**
 * Moves events from the store to the API: leases them into requests (on the
 * next turn, or when the interval timer fires), at most `maxInFlight` at a
 * time behind one backoff gate, and acts on each answer (settle, split and
 * resend, back off and retry, or give up). Every event it takes ends settled
 * in the ledger, requeued, or abandoned to a durable store.
 */
export class Dispatcher {
  readonly #opts: ResolvedOptions;
  readonly #store: EventStore;
  readonly #ledger: Ledger;
  readonly #reporter: Reporter;
  readonly #retry: OutgoingRequest[] = [];
  readonly #inFlight = new Set<OutgoingRequest>();
  readonly #gate: BackoffGate;
  readonly #join = new JoinWindow(platform.joinBatchesMs);
  readonly #cancellation = new Cancellation();
  /** `{"token":"…"` once, spliced into every body; the token appears nowhere else. */
  readonly #tokenPrefix: string;
  #gzip: boolean;
  /** Encoded `/batch` requests let go of their events' JSON (see `releaseJson`). */
  readonly #releasesJson: boolean;
  /** Events in `#retry` and in `#inFlight`, counted as they come and go. */
  retryCount = 0;
  inFlightCount = 0;

  /** Events waiting to be sent: in the store, and retries waiting for their backoff (`stats().queued`). */
  get queuedCount(): number {
    return this.#store.count + this.retryCount;
  }
  readonly #timer = new PumpTimer(
    () => {
      this.#sendAnySize = true;
      this.#pump();
    },
    () => this.#ledger.waiter?.done === false,
  );
  #pumpQueued = false;
  /** Set by the interval timer or a flush: send what waits even below `flushAt`. */
  #sendAnySize = false;
  /** Set by a flush that someone waits on (see `sendNow`): a partial batch goes without joining. */
  #urgent = false;
  /** Shut down (past the deadline, or done): no delivery starts any more. */
  stopped = false;
  /** Called when the last request in flight lands. */
  #onIdle: (() => void) | undefined;

  constructor(opts: ResolvedOptions, store: EventStore, ledger: Ledger, reporter: Reporter) {
    this.#opts = opts;
    this.#store = store;
    this.#ledger = ledger;
    this.#reporter = reporter;
    this.#gate = new BackoffGate(opts.retry);
    this.#gzip = opts.gzip;
    this.#tokenPrefix = `{"token":${JSON.stringify(opts.token)}`;
    this.#releasesJson = store instanceof MemoryStore && platform.bodyText !== undefined;
  }

  /** An event was queued: send when `flushAt` is reached, else within `flushIntervalMs`. */
  queued(): void {
    if (this.#store.count >= this.#opts.flushAt) this.schedulePump();
    else this.#timer.arm(this.#opts.flushIntervalMs);
  }

  /**
   * A flush or recovered events: send what waits, whatever its size.
   * `urgent: false` for a delivery only a platform's `waitUntil` waits for:
   * it may join the batch in flight (see JoinWindow).
   */
  sendNow(urgent = true): void {
    if (urgent) this.#urgent = true;
    this.#sendAnySize = true;
    this.schedulePump();
  }

  /** Visits the events taken from the store and not yet settled (retrying or in flight). */
  forEachTaken(visit: (event: AwaitedEvent) => void): void {
    for (const request of this.#retry) request.events.forEach(visit);
    for (const request of this.#inFlight) request.events.forEach(visit);
  }

  /** An awaited flush keeps the process alive through a backoff; an idle client does not. */
  keepAlive(yes: boolean): void {
    this.#timer.keepAlive(yes);
  }

  /** A signal the app handles itself: from now on, delivery never holds the process open. */
  release(): void {
    this.#timer.release();
  }

  /** Resolves when the requests in flight have landed; undefined when none is in flight. */
  idle(): Promise<void> | undefined {
    if (this.#inFlight.size === 0) return undefined;
    return new Promise<void>((resolve) => (this.#onIdle = resolve));
  }

  /** Past the shutdown deadline: requests in flight settle at once, whatever the fetch function does. */
  cancel(): void {
    this.#cancellation.cancel(SHUTDOWN);
  }

  /** Shutting down: no more events come to join a partial batch, so none waits (see JoinWindow). */
  closing(): void {
    this.#join.close();
  }

  /** Shut down for good: no timer, no request starts. */
  stop(): void {
    this.stopped = true;
    this.#timer.stop();
  }

  /**
   * Out of time: what is in flight is cancelled, and it and what still waits
   * (store and retries) are given up, or left to a durable store, in one
   * report of their total: one per request would be cut by the log's rate
   * limit (which keys on the message) to the first request's count.
   */
  abandonAll(timeoutMs: number): void {
    let abandoned = [...this.#inFlight, ...this.#retry].flatMap((r) => r.events);
    while (this.#store.count > 0)
      abandoned = abandoned.concat(this.#store.lease(Number.MAX_SAFE_INTEGER, Infinity));
    this.#inFlight.clear(); // their answers, or the cancellation below, are not acted on: see `#leaveFlight`
    this.inFlightCount = 0;
    this.#retry.length = 0;
    this.retryCount = 0;
    this.cancel();
    this.#onIdle?.();
    if (abandoned.length)
      this.#abandon(
        abandoned,
        `shutdown deadline of ${timeoutMs} ms passed; ${abandoned.length} events not delivered to ${this.#opts.apiUrl}`,
      );
  }

  // --- scheduling ------------------------------------------------------------

  /** Pumps on the next turn, once, so a loop of track() calls costs no I/O work. */
  schedulePump(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    platform.defer(this.#pump);
  }

  #pump = (): void => {
    this.#pumpQueued = false;
    if (this.stopped) return; // shut down: nothing starts any more
    // Read once, before this pass sends anything: a partial batch waits for a request sent
    // before it, never for one sent beside it (a flush's own first batches, a retry, an identify).
    // A flush someone awaits never waits.
    const join = this.#urgent ? 0 : this.#join.waitMs();
    while (this.#inFlight.size < this.#opts.maxInFlight) {
      const wait = this.#gate.waitMs();
      if (wait > 0) return this.#timer.arm(wait);
      const retried = this.#retry.shift();
      if (retried) this.retryCount -= retried.events.length;
      const request = retried ?? this.#lease(join);
      if (!request) break;
      // Not a retry (nor a 413's halves): a batch waiting now for the one before would wait again.
      if (!retried) this.#join.sent(request);
      this.#dispatch(request);
    }
    if (this.#store.count === 0 && this.#retry.length === 0)
      this.#sendAnySize = this.#urgent = false;
    else this.#timer.arm(this.#opts.flushIntervalMs);
  };

  /** `join`: how long a partial batch still waits for the `/batch` request in flight (see JoinWindow). */
  #lease(join: number): OutgoingRequest | undefined {
    const store = this.#store;
    if (store.count === 0) return undefined;
    if (store.count < this.#opts.flushAt) {
      if (!this.#sendAnySize) return undefined;
      if (join > 0) return void this.#timer.arm(join);
    }
    const events = store.lease(this.#opts.maxBatchSize, MAX_BATCH_BYTES);
    const path = events[0]?.path;
    return path && { path, events, attempts: 0, gzip: this.#gzip };
  }

  // --- sending ---------------------------------------------------------------

  #dispatch(request: OutgoingRequest): void {
    this.#inFlight.add(request);
    this.inFlightCount += request.events.length;
    request.round = this.#gate.round;
    this.#send(request)
      .catch((err: Error) => {
        if (this.#leaveFlight(request))
          this.#fail(request.events, `internal error while sending: ${err.message}`);
      })
      .finally(() => this.schedulePump());
  }

  /**
   * The request is over; its events are about to be settled or requeued.
   * False when shutdown gave them up already (`abandonAll`): nothing more is done with them.
   */
  #leaveFlight(request: OutgoingRequest): boolean {
    const inFlight = this.#inFlight.delete(request);
    this.#join.landed(request);
    if (inFlight) this.inFlightCount -= request.events.length;
    if (this.#inFlight.size === 0) this.#onIdle?.();
    return inFlight;
  }

  async #send(request: OutgoingRequest): Promise<void> {
    const encoding = (request.body ??= encodeBody(this.#tokenPrefix, request, this.#opts.appFetch));
    const url = this.#opts.apiUrl + request.path; // shown in every error about this request; the token is in the body, never here
    const { gzip } = request;
    let res: ApiResponse;
    try {
      res = await this.#cancellation.run(async (cancel) => {
        // The gzip runs on libuv's thread pool, which the app's own work can keep busy past a shutdown deadline.
        const body = await abortable(encoding, cancel);
        if (this.#releasesJson && request.path === '/batch' && request.jsonBody === undefined) {
          request.jsonBody = body;
          releaseJson(request.events);
        }
        return post(this.#opts.fetch, url, body, gzip, this.#opts.timeoutMs, cancel);
      });
    } catch (err) {
      if (!this.#leaveFlight(request)) return;
      return this.#retryLater(
        request,
        request.events,
        undefined,
        `network error on POST ${url}: ${(err as Error).message}`,
      );
    }
    if (this.#leaveFlight(request)) this.#act(request, res, url);
  }

  /** Acts on what the answer means: settle, resend at once, or back off. */
  #act(request: OutgoingRequest, res: ApiResponse, url: string): void {
    const verdict = interpret(request, res, url);
    if (verdict.ok) this.#gate.success();
    if (verdict.oddBody)
      this.#reporter.errorOnce('odd-200', oddAnswer(url, verdict.oddBody, request.events.length));
    if (verdict.delivered.length) this.#settle(verdict.delivered, 'delivered');
    if (verdict.unauthorized)
      this.#reporter.warnOnce(
        'unauthorized',
        { status: res.status },
        verdict.failed[0]!.message,
        'error',
      );
    for (const { events, message, status } of verdict.failed) this.#fail(events, message, status);
    if (verdict.resend) {
      this.#restoreJson(request); // the parts are encoded again
      const { parts, gzip } = verdict.resend;
      if (!gzip && this.#gzip) {
        this.#gzip = false;
        this.#opts.logger.warn(
          { status: 415 },
          `the Ours API refused a gzip body (HTTP 415 from POST ${url}); sending uncompressed from now on`,
        );
      }
      this.#requeueFront(
        parts.map((events) => ({ path: request.path, events, attempts: request.attempts, gzip })),
      );
    }
    if (verdict.retry)
      this.#retryLater(request, verdict.retry.events, verdict.retry.afterMs, verdict.retry.reason);
  }

  /** Gives the request's events their JSON back from its body, when they let go of it. */
  #restoreJson(request: OutgoingRequest): void {
    if (request.jsonBody === undefined) return;
    restoreJson(request.events, request.jsonBody, request.gzip);
    request.jsonBody = undefined;
  }

  #requeueFront(requests: OutgoingRequest[]): void {
    if (this.stopped)
      return this.#abandon(
        requests.flatMap((r) => r.events),
        'shut down before they could be sent again',
      );
    for (const r of requests) this.retryCount += r.events.length;
    this.#retry.unshift(...requests);
  }

  /** A transient failure: back off (all requests together) and resend the same events, or give up. */
  #retryLater(
    request: OutgoingRequest,
    events: AwaitedEvent[],
    retryAfterMs: number | undefined,
    reason: string,
  ): void {
    const attempts = request.attempts + 1;
    if (this.stopped) {
      const why = this.#cancellation.cancelled ? 'shutdown deadline passed' : 'shut down';
      return this.#abandon(
        events,
        `${why}; last error: ${reason}; ${events.length} events not delivered`,
      );
    }
    if (attempts >= this.#opts.retry.maxAttempts) {
      return this.#fail(
        events,
        `gave up after ${attempts} attempts; last error: ${reason}; ${events.length} events lost`,
      );
    }
    this.#ledger.counts.retried += events.length;
    this.retryCount += events.length;
    const whole = events === request.events;
    if (!whole) this.#restoreJson(request); // a part is encoded again
    this.#retry.push({
      path: request.path,
      events,
      attempts,
      gzip: request.gzip,
      body: whole ? request.body : undefined,
      jsonBody: whole ? request.jsonBody : undefined,
    });
    const delay = this.#gate.failure(retryAfterMs, request.round);
    this.#reporter.warnOnce(
      'retry',
      { reason, delayMs: delay, attempts },
      `the Ours API is unavailable (${reason}); retrying in ${delay} ms, with backoff`,
    );
  }

  // --- settling --------------------------------------------------------------

  #settle(events: AwaitedEvent[], outcome: 'delivered' | 'failed', ack = true): void {
    if (ack) this.#store.ack(events);
    this.#ledger.settled(events, outcome);
  }

  #fail(events: AwaitedEvent[], message: string, status?: number): void {
    this.#settle(events, 'failed');
    this.#report(new OursDeliveryError(message, events.length, status));
  }

  /**
   * Shutdown ran out of time: the events are lost to this process. A durable
   * store keeps them (no ack) for the next process to deliver.
   */
  #abandon(events: AwaitedEvent[], message: string): void {
    if (!this.#store.durable) return this.#fail(events, message);
    this.#settle(events, 'failed', false);
    this.#report(
      new OursDeliveryError(
        `${message}; they stay in the durable store for the next start`,
        events.length,
      ),
    );
  }

  #report(err: OursError): void {
    this.#reporter.error(err);
  }
}
