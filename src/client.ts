import { platform } from '#platform';
import { Cancellation } from './cancellation';
import { abortable, within } from './deadline';
import type { ContractIssue } from './contract/check';
import { Emitter } from './emitter';
import { OursDeliveryError, OursError, OursValidationError } from './errors';
import type { IdentifyEvent, TrackEvent } from './events';
import { Experiments } from './experiments/experiments';
import { resolveExperimentOptions, type ResolvedExperimentOptions } from './experiments/options';
import { flatten } from './flatten';
import { FlushWaiter, type FlushReport } from './flush';
import { resolveOptions, type ClientOptions, type ResolvedOptions } from './options';
import { MemoryStore, type EventPath, type EventStore, type QueuedEvent } from './queue';
import { Reporter } from './reporter';
import { HandOffBatch } from './request/hand-off-batch';
import { interpret } from './response';
import { BackoffGate } from './retry';
import type { SignalClient } from './signals';
import type { ClientStats, DropInfo } from './stats';
import { encodeBody, post, type ApiResponse } from './transport';
import { checkIdentify, checkTrack, NO_VISITOR } from './validate';

/** A request's worth of events, kept whole across retries with its encoded body. */
interface Batch {
  readonly path: EventPath;
  readonly events: QueuedEvent[];
  attempts: number;
  gzip: boolean;
  body?: Promise<Uint8Array | string>;
  /** The backoff round it was last sent in (see `BackoffGate`). */
  round?: number;
}

/**
 * How the adapters report a failure through the client's `error` channel
 * without a public method for it (Node throws on `emit('error')` with no
 * listener, which must never happen inside a host app).
 * @internal
 */
export const kReport = Symbol('ours-middleware.report');

/** Lets an adapter warn through the client's logger. @internal */
export const kWarn = Symbol('ours-middleware.warn');

/** Whether `shutdown()` has been called: a closed client is never shared again. @internal */
export const kIsClosed = Symbol('ours-middleware.isClosed');

/** The middleware's hand-off batch of this client (see `HandOffBatch`). @internal */
export const kHandOffs = Symbol('ours-middleware.handOffs');

/** Why requests stop at shutdown: the reason they fail with. */
const SHUTDOWN = new Error('cancelled by shutdown');

/**
 * What a `no_visitor` drop says, with every way to fix it: it is what a new
 * user meets first (a curl test, a first visit), so it names the remedies.
 */
const NO_VISITOR_MESSAGE = (kind: string): string =>
  `${kind === 'track' ? 'an event' : 'an identify call'} was dropped because it names no visitor: no userId, externalId or email ` +
  '(from a request: no ours_device_id cookie, which the Ours browser SDK sets, and no identity from the app). ' +
  'Give it one: `setVisitorCookie: true` in ours() (mints the cookie; a consent decision), an `identify: (req) => ({ externalId: req.user?.id })` option, ' +
  '`req.ours.setIdentity({ externalId })` in the route, or an id on the event itself (`client.track({ event, externalId })`)';

/** The client's server-side experiments (see `Experiments`), made on first use. @internal */
export const kExperiments = Symbol('ours-middleware.experiments');

/**
 * The middleware's side of `stats()`: a `req.ours` call is tracked when it is
 * made (`kHold`), held until its response ends and its hooks have run, then
 * queued (`kAcceptHeld`) or dropped with a reason (`kRelease`).
 * @internal
 */
export const kHold = Symbol('ours-middleware.hold');
/** @internal */
export const kAcceptHeld = Symbol('ours-middleware.acceptHeld');
/** @internal */
export const kRelease = Symbol('ours-middleware.release');
/** `flush()` without taking requests still running: for `waitUntil`/`flushOnResponse`, per response. @internal */
export const kFlushQueued = Symbol('ours-middleware.flushQueued');
/** Lets an adapter log at debug level through the client's logger. @internal */
export const kDebug = Symbol('ours-middleware.debug');

/** Uncompressed JSON per `/batch` request; a 413 splits further. */
const MAX_BATCH_BYTES = 512 * 1024;

/**
 * Sends events to the Ours API: checks each against the contract, queues it
 * (bounded by count and bytes), and delivers in gzip `/batch` requests with
 * one shared backoff, retries that reuse each event's `distinctId`, and no
 * promise that can reject into your app.
 *
 * Events: `error` ({@link OursError}: every failure), `drop` ({@link DropInfo}).
 * Without an `error` listener, failures go to the logger instead of throwing.
 *
 * @example
 * const client = new OursClient({ token: process.env.OURS_TOKEN });
 * client.on('error', (err) => log.warn(err));
 * client.track({ event: 'Signed Up', userId, eventProperties: { plan: 'pro' } });
 * await client.shutdown();
 */
export class OursClient extends Emitter {
  readonly #opts: ResolvedOptions;
  readonly #store: EventStore;
  readonly #retry: Batch[] = [];
  readonly #inFlight = new Set<Batch>();
  readonly #gate: BackoffGate;
  readonly #cancellation = new Cancellation();
  readonly #reporter: Reporter;
  /** `{"token":"…"` once, spliced into every body; the token appears nowhere else. */
  readonly #tokenPrefix: string;
  #gzip: boolean;
  #stats = { tracked: 0, delivered: 0, retried: 0, failed: 0, dropped: 0 };
  /** `req.ours` calls tracked and not yet queued or dropped (see `kHold`). */
  #held = 0;
  #retryCount = 0;
  #inFlightCount = 0;
  #heldCount = 0;
  #heldBytes = 0;
  #droppedSinceFlush = 0;
  #appendsSinceFlush = 0;
  #timer: NodeJS.Timeout | undefined;
  #timerAt = 0;
  #pumpQueued = false;
  /** Set by the interval timer or a flush: send what waits even below `flushAt`. */
  #due = false;
  #waiter: FlushWaiter | undefined;
  #closed = false;
  #shutdown: Promise<FlushReport> | undefined;
  /** What the process-wide signal and exit listeners call (see `signals.ts`); held here, weakly there. */
  readonly #signalHooks: SignalClient = {
    shutdown: () => this.shutdown(),
    deliverSoon: () => this.#deliverSoon(),
    reportUndelivered: () => this.#reportUndelivered(),
  };
  #unwatchSignals: (() => void) | undefined;
  /** After a signal the app handles itself: delivery no longer holds the process open. */
  #released = false;
  /** While the store recovers: the flushes made meanwhile, which wait for its end; the first adopts what it finds. */
  #recovering: FlushWaiter[] | undefined;
  /**
   * Shut down (past the deadline, or done): no delivery starts any more, and
   * held calls were counted as dropped (nothing more is queued).
   */
  #stopped = false;
  /** Called when the last request in flight lands. */
  #onIdle: (() => void) | undefined;
  /** One per client, made when a middleware first uses it; drained before a flush looks at the queue. */
  #handOffs: HandOffBatch | undefined;
  readonly #experimentOptions: ResolvedExperimentOptions;
  #experiments: Experiments | undefined;

  constructor(options?: ClientOptions) {
    super();
    this.#opts = resolveOptions(options);
    this.#experimentOptions = resolveExperimentOptions(options);
    this.#gate = new BackoffGate(this.#opts.retry);
    this.#reporter = new Reporter(this, this.#opts.logger, this.#opts.token);
    this.#gzip = this.#opts.gzip;
    this.#tokenPrefix = `{"token":${JSON.stringify(this.#opts.token)}`;
    this.#store = options?.store ?? new MemoryStore();
    const opened = this.#store.open?.({
      recovered: (events) => this.#recovered(events),
      dropped: (count, why, reason) => {
        this.#stats.tracked += count; // tracked by an earlier process, like recovered events
        this.#drop(reason, count, why);
      },
      error: (err) => this.#report(new OursError(`event store: ${err.message}`)),
    });
    if (opened) {
      this.#recovering = [];
      const over = (): void => this.#recoveryOver();
      opened.then(over, over);
    }
    if (this.#opts.handleSignals) this.#unwatchSignals = platform.watchSignals?.(this.#signalHooks);
  }

  /**
   * Queues one event. Never throws (unless `strict` and the event is invalid)
   * and never blocks: delivery happens later, in the background.
   *
   * @example
   * client.track({ event: 'Order Completed', externalId: user.id, eventProperties: { total: 42.5 } });
   */
  track(event: TrackEvent): void {
    this.#accept('track', () => checkTrack(event, Date.now()), this.#trackPath());
  }

  /**
   * Sets properties on a visitor (`POST /identify`), under the same retry rules.
   *
   * @example
   * client.identify({ externalId: 'u_42', userProperties: { email: 'a@b.co', custom_properties: { plan: 'pro' } } });
   */
  identify(event: IdentifyEvent): void {
    this.#accept('identify', () => checkIdentify(event), '/identify');
  }

  /**
   * Resolves when every event queued before the call has been delivered or
   * has definitively failed. Never rejects. Concurrent calls share one flush.
   * On Workers and edge functions, hand it to the platform so delivery
   * outlives the response: `ctx.waitUntil(client.flush())`.
   *
   * @example
   * const { delivered, failed, dropped } = await client.flush();
   */
  flush(): Promise<FlushReport> {
    // Calls the middleware holds (for the end of this turn, for a response
    // still streaming, for an async hook) were tracked before this flush: queued first.
    const handing = this.#handOffs?.settle();
    if (this.#stopped) return Promise.resolve(this.#emptyReport()); // shut down: nothing will be sent any more
    const queued = this.#flushQueued();
    // What async hooks hand over joins this flush (events queued now may be delivered meanwhile).
    return handing ? handing.then(() => this.#flushQueued(queued).promise) : queued.promise;
  }

  /** The flush of what is queued now; `after`: the waiter of the same flush, joined even when done. */
  #flushQueued(after?: FlushWaiter): FlushWaiter {
    // A waiter whose own events are settled may still wait for one before it: chain to it until it has reported.
    const previous = after ?? (this.#waiter && !this.#waiter.reported ? this.#waiter : undefined);
    if (previous && this.#appendsSinceFlush === 0 && this.#droppedSinceFlush === 0) return previous;
    const waiter = new FlushWaiter(previous, this.#droppedSinceFlush);
    this.#droppedSinceFlush = 0;
    this.#appendsSinceFlush = 0;
    this.#store.forEach((e) => waiter.adopt(e));
    for (const batch of [...this.#retry, ...this.#inFlight]) batch.events.forEach((e) => waiter.adopt(e));
    if (this.#recovering) {
      waiter.hold(); // what the store has yet to find was queued before this call too
      this.#recovering.push(waiter);
    }
    waiter.resolveIfDone();
    if (waiter.done && !previous) return waiter;
    this.#waiter = waiter;
    this.#due = true;
    // An awaited flush keeps the process alive through a backoff; an idle client does not.
    if (!this.#released) this.#timer?.ref?.();
    void waiter.promise.then(() => this.#waiter?.done && this.#timer?.unref?.());
    this.#schedulePump();
    return waiter;
  }

  /** A report with nothing delivered or failed: the drops since the last one. */
  #emptyReport(): FlushReport {
    const dropped = this.#droppedSinceFlush;
    this.#droppedSinceFlush = 0;
    return { delivered: 0, failed: 0, dropped };
  }

  /**
   * Stops accepting events, flushes, and resolves within `timeoutMs` (default:
   * the client's `timeoutMs`) with what happened. What could not be delivered
   * in time is counted as failed and reported. Idempotent.
   *
   * @example
   * process.on('SIGTERM', () => client.shutdown().finally(() => process.exit(0)));
   */
  shutdown({ timeoutMs = this.#opts.timeoutMs }: { timeoutMs?: number | undefined } = {}): Promise<FlushReport> {
    this.#shutdown ??= this.#close(timeoutMs);
    return this.#shutdown;
  }

  /** Counters since the client was made; see {@link ClientStats}. */
  stats(): ClientStats {
    return {
      ...this.#stats,
      queued: this.#store.count + this.#retryCount,
      inFlight: this.#inFlightCount,
      held: this.#held,
      recovering: this.#recovering !== undefined,
    };
  }

  override on(event: 'error', listener: (err: OursError) => void): this;
  override on(event: 'drop', listener: (info: DropInfo) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this;
  override on(event: string | symbol, listener: (...args: any[]) => void): this {
    return super.on(event, listener);
  }

  /** @internal */
  [kReport](err: OursError): void {
    this.#report(err);
  }

  /** @internal */
  [kWarn](message: string): void {
    this.#opts.logger.warn({}, message);
  }

  /** @internal */
  [kIsClosed](): boolean {
    return this.#closed;
  }

  /** @internal */
  [kDebug](message: string): void {
    this.#opts.logger.debug({}, message);
  }

  /** A `req.ours` call: tracked now, held by its request. False (and dropped) once shut down. @internal */
  [kHold](): boolean {
    this.#stats.tracked++;
    if (this.#closed) {
      this.#drop('shutdown', 1, 'req.ours call after shutdown() was dropped');
      return false;
    }
    this.#held++;
    return true;
  }

  /** A held call, built: queued like `track()`/`identify()`, counted once. @internal */
  [kAcceptHeld](kind: 'track' | 'identify', event: TrackEvent | IdentifyEvent): void {
    if (this.#stopped) return; // counted as dropped at the shutdown deadline
    this.#held--;
    if (kind === 'track') this.#accept('track', () => checkTrack(event as TrackEvent, Date.now()), this.#trackPath(), true);
    else this.#accept('identify', () => checkIdentify(event as IdentifyEvent), '/identify', true);
  }

  /** Held calls that will not be sent: `filtered` by the app's hooks, a `hook_failed`, or `invalid`. @internal */
  [kRelease](reason: DropInfo['reason'], count: number): void {
    if (this.#stopped) return;
    this.#held -= count;
    this.#drop(reason, count);
  }

  /** @internal */
  [kFlushQueued](): Promise<FlushReport> {
    this.#handOffs?.drain();
    return this.#flushQueued().promise;
  }

  /** @internal */
  [kHandOffs](): HandOffBatch {
    this.#handOffs ??= new HandOffBatch((err) =>
      this.#report(new OursError(`a hand-off failed: ${(err as Error)?.message ?? String(err)}`)),
    );
    return this.#handOffs;
  }

  /** @internal */
  [kExperiments](): Experiments {
    this.#experiments ??= new Experiments({ options: this.#experimentOptions, apiUrl: this.#opts.apiUrl, report: (err) => this.#report(err) });
    return this.#experiments;
  }

  // --- accepting -------------------------------------------------------------

  #trackPath(): EventPath {
    return this.#opts.endpoint === 'batch' ? '/batch' : '/track';
  }

  /** `held`: a `req.ours` call, already counted, and tracked before any shutdown. */
  #accept(kind: 'track' | 'identify', check: () => ReturnType<typeof checkTrack> | ReturnType<typeof checkIdentify>, path: EventPath, held = false): void {
    if (!held) this.#stats.tracked++;
    if (this.#closed && !held) {
      this.#drop('shutdown', 1, `a ${kind} after shutdown() was dropped: the client no longer sends; track before shutting it down`);
      return;
    }
    let checked;
    try {
      checked = check();
    } catch (err) {
      this.#drop('invalid', 1);
      this.#report(new OursError(`${kind} dropped: ${(err as Error).message}`));
      return;
    }
    if (!checked.ok) return this.#invalid(kind, checked.issues);
    this.#enqueue(path, flatten(JSON.stringify(checked.body)));
  }

  #invalid(kind: 'track' | 'identify', issues: ContractIssue[]): void {
    // A missing visitor is a setup step, not a malformed event: its own reason and advice.
    if (!this.#opts.strict && issues.length === 1 && issues[0] === NO_VISITOR) return this.#drop('no_visitor', 1, NO_VISITOR_MESSAGE(kind));
    const err = new OursValidationError(kind, issues);
    this.#drop('invalid', 1);
    if (this.#opts.strict) throw err;
    this.#report(err);
  }

  /*
   * Invariant: every accepted event is counted in #heldCount/#heldBytes from
   * the moment it is queued until it is settled (delivered or failed), whether
   * it waits in the store, in #retry, or in flight. The bound is checked
   * against that total, so retries cannot push memory past maxQueueSize or
   * maxQueueBytes: new events are dropped instead, and counted.
   */
  #enqueue(path: EventPath, json: string): void {
    const bytes = json.length;
    if (this.#heldCount >= this.#opts.maxQueueSize || this.#heldBytes + bytes > this.#opts.maxQueueBytes) {
      this.#drop('queue_full', 1, `queue full (${this.#opts.maxQueueSize} events or ${this.#opts.maxQueueBytes} bytes held): new events are dropped until the API catches up; if this happens in normal traffic, raise maxQueueSize or maxQueueBytes`);
      return;
    }
    if (!this.#store.append({ json, bytes, path })) {
      this.#drop('queue_full', 1, "the event store is full: new events are dropped until it drains; if this happens in normal traffic, raise the store's maxBytes");
      return;
    }
    this.#heldCount++;
    this.#heldBytes += bytes;
    this.#appendsSinceFlush++;
    if (this.#store.count >= this.#opts.flushAt) this.#schedulePump();
    else this.#arm(this.#opts.flushIntervalMs);
  }

  /** Events a durable store kept from an earlier process: held and sent like new ones. */
  #recovered(events: readonly QueuedEvent[]): void {
    const waiter = this.#recovering?.[0];
    for (const event of events) {
      this.#heldCount++;
      this.#heldBytes += event.bytes;
      waiter?.adopt(event);
    }
    this.#stats.tracked += events.length;
    this.#due = true;
    this.#schedulePump();
  }

  /** The store has read all it had: the flushes that waited for it wait for its events only. */
  #recoveryOver(): void {
    const waiters = this.#recovering ?? [];
    this.#recovering = undefined;
    for (const waiter of waiters) waiter.release();
  }

  // --- scheduling ------------------------------------------------------------

  /** Pumps on the next turn, once, so a loop of track() calls costs no I/O work. */
  #schedulePump(): void {
    if (this.#pumpQueued) return;
    this.#pumpQueued = true;
    platform.defer(this.#pump);
  }

  /** Arms the one timer to pump in `ms`, unless it will fire sooner anyway. */
  #arm(ms: number): void {
    const now = performance.now();
    // A timer past its time is late (a busy loop) or dropped (workerd drops an ended request's timers): due now.
    const at = this.#timer && this.#timerAt <= now ? now : now + ms;
    if (this.#timer && this.#timerAt <= at && this.#timerAt > now) return;
    clearTimeout(this.#timer);
    this.#timerAt = at;
    this.#timer = setTimeout(this.#onTimer, at - now);
    if (!this.#waiter || this.#waiter.done || this.#released) this.#timer.unref?.(); // workerd's timers are numbers
  }

  #onTimer = (): void => {
    this.#timer = undefined;
    this.#due = true;
    this.#pump();
  };

  #pump = (): void => {
    this.#pumpQueued = false;
    if (this.#stopped) return; // shut down: nothing starts any more
    while (this.#inFlight.size < this.#opts.maxInFlight) {
      const wait = this.#gate.waitMs();
      if (wait > 0) return this.#arm(wait);
      const retried = this.#retry.shift();
      if (retried) this.#retryCount -= retried.events.length;
      const batch = retried ?? this.#lease();
      if (!batch) break;
      this.#dispatch(batch);
    }
    if (this.#store.count === 0 && this.#retry.length === 0) this.#due = false;
    else this.#arm(this.#opts.flushIntervalMs);
  };

  #lease(): Batch | undefined {
    const store = this.#store;
    if (store.count === 0 || (store.count < this.#opts.flushAt && !this.#due)) return undefined;
    const events = store.lease(this.#opts.maxBatchSize, MAX_BATCH_BYTES);
    const path = events[0]?.path;
    return path && { path, events, attempts: 0, gzip: this.#gzip };
  }

  // --- sending ---------------------------------------------------------------

  #dispatch(batch: Batch): void {
    this.#inFlight.add(batch);
    this.#inFlightCount += batch.events.length;
    batch.round = this.#gate.round;
    this.#send(batch)
      .catch((err: Error) => {
        this.#landed(batch);
        this.#fail(batch.events, `internal error while sending: ${err.message}`);
      })
      .finally(() => this.#schedulePump());
  }

  /** The request is over; its events are about to be settled or requeued. */
  #landed(batch: Batch): void {
    if (this.#inFlight.delete(batch)) this.#inFlightCount -= batch.events.length;
    if (this.#inFlight.size === 0) this.#onIdle?.();
  }

  async #send(batch: Batch): Promise<void> {
    const encoding = (batch.body ??= encodeBody(this.#tokenPrefix, batch));
    const url = this.#opts.apiUrl + batch.path; // shown in every error about this request; the token is in the body, never here
    const { gzip } = batch;
    let res: ApiResponse;
    try {
      res = await this.#cancellation.run(async (cancel) => {
        // The gzip runs on libuv's thread pool, which the app's own work can keep busy past a shutdown deadline.
        const body = await abortable(encoding, cancel);
        return post(this.#opts.fetch, url, body, gzip, this.#opts.timeoutMs, cancel);
      });
    } catch (err) {
      this.#landed(batch);
      return this.#retryLater(batch, batch.events, undefined, `network error on POST ${url}: ${(err as Error).message}`);
    }
    this.#landed(batch);
    this.#handle(batch, res, url);
  }

  /** Acts on what the answer means: settle, resend at once, or back off. */
  #handle(batch: Batch, res: ApiResponse, url: string): void {
    const verdict = interpret(batch, res, url);
    if (verdict.ok) this.#gate.success();
    this.#delivered(verdict.delivered);
    if (verdict.unauthorized) this.#reporter.warnOnce('unauthorized', { status: res.status }, verdict.failed[0]!.message, 'error');
    for (const { events, message, status } of verdict.failed) this.#fail(events, message, status);
    if (verdict.resend) {
      const { parts, gzip } = verdict.resend;
      if (!gzip && this.#gzip) {
        this.#gzip = false;
        this.#opts.logger.warn({ status: 415 }, `the Ours API refused a gzip body (HTTP 415 from POST ${url}); sending uncompressed from now on`);
      }
      this.#requeueFront(parts.map((events) => ({ path: batch.path, events, attempts: batch.attempts, gzip })));
    }
    if (verdict.retry) this.#retryLater(batch, verdict.retry.events, verdict.retry.afterMs, verdict.retry.reason);
  }

  #requeueFront(batches: Batch[]): void {
    if (this.#stopped) return this.#abandon(batches.flatMap((b) => b.events), 'shut down before they could be sent again');
    for (const b of batches) this.#retryCount += b.events.length;
    this.#retry.unshift(...batches);
  }

  /** A transient failure: back off (all requests together) and resend the same events, or give up. */
  #retryLater(batch: Batch, events: QueuedEvent[], retryAfterMs: number | undefined, reason: string): void {
    const attempts = batch.attempts + 1;
    if (this.#stopped) {
      const why = this.#cancellation.cancelled ? 'shutdown deadline passed' : 'shut down';
      return this.#abandon(events, `${why}; last error: ${reason}; ${events.length} events not delivered`);
    }
    if (attempts >= this.#opts.retry.maxAttempts) {
      return this.#fail(events, `gave up after ${attempts} attempts; last error: ${reason}; ${events.length} events lost`);
    }
    this.#stats.retried += events.length;
    this.#retryCount += events.length;
    const whole = events === batch.events;
    this.#retry.push({ path: batch.path, events, attempts, gzip: batch.gzip, body: whole ? batch.body : undefined });
    const delay = this.#gate.failure(retryAfterMs, batch.round);
    this.#reporter.warnOnce('retry', { reason, delayMs: delay, attempts }, `the Ours API is unavailable (${reason}); retrying in ${delay} ms, with backoff`);
  }

  // --- settling --------------------------------------------------------------

  #settle(events: QueuedEvent[], outcome: 'delivered' | 'failed', ack = true): void {
    if (ack) this.#store.ack(events);
    for (const event of events) {
      this.#heldCount--;
      this.#heldBytes -= event.bytes;
      event.waiter?.settle(outcome);
    }
    this.#stats[outcome] += events.length;
  }

  #delivered(events: QueuedEvent[]): void {
    if (events.length) this.#settle(events, 'delivered');
  }

  #fail(events: QueuedEvent[], message: string, status?: number): void {
    this.#settle(events, 'failed');
    this.#report(new OursDeliveryError(message, events.length, status));
  }

  /**
   * Shutdown ran out of time: the events are lost to this process. A durable
   * store keeps them (no ack) for the next process to deliver.
   */
  #abandon(events: QueuedEvent[], message: string): void {
    if (!this.#store.durable) return this.#fail(events, message);
    this.#settle(events, 'failed', false);
    this.#report(new OursDeliveryError(`${message}; they stay in the durable store for the next start`, events.length));
  }

  #drop(reason: DropInfo['reason'], count: number, logMessage?: string): void {
    this.#stats.dropped += count;
    // Into the pending flush's report (the newest: it reports last), else the next flush's.
    if (!this.#waiter?.addDropped(count)) this.#droppedSinceFlush += count;
    this.#reporter.drop({ reason, count }, this.#stats.dropped, logMessage);
  }

  #report(err: OursError): void {
    this.#reporter.error(err);
  }

  // --- shutdown --------------------------------------------------------------

  async #close(timeoutMs: number): Promise<FlushReport> {
    const endsAt = performance.now() + timeoutMs;
    const handing = this.#handOffs?.settle(); // before closing: they were tracked before shutdown()
    this.#closed = true;
    this.#experiments?.close();
    let waiter = this.#flushQueued(); // then joined by what async hooks hand over
    const flushing = handing ? handing.then(() => (waiter = this.#flushQueued(waiter)).promise) : waiter.promise;
    const inTime = await within(timeoutMs, flushing);
    if (!inTime) this.#giveUp(timeoutMs);
    // Past the deadline, hooks still pending are not waited for: their calls were dropped, joined here.
    const report = inTime ? await flushing : await this.#flushQueued(waiter).promise;
    // Closed: no delivery starts after this (a durable store may still find events; they stay stored).
    // One already in flight (a Redis store's claim) may land before the deadline: its ack is then recorded.
    this.#dropHeld();
    const left = (): number => Math.max(0, endsAt - performance.now());
    if (this.#inFlight.size) await within(left(), new Promise<void>((resolve) => (this.#onIdle = resolve)));
    this.#cancellation.cancel(SHUTDOWN);
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const closing = this.#store.close?.().catch((err: Error) => this.#report(new OursError(`event store: ${err.message}`)));
    // A store writes on the thread pool too; what the file store has not written by the deadline, it writes at exit.
    if (closing) await within(left(), closing);
    this.#unwatchSignals?.();
    return report;
  }

  /**
   * Out of time: cancel what is in flight (it settles at once, whatever the
   * thread pool or the fetch function does) and give up what still waits (a
   * durable store keeps it for the next start: see #abandon).
   */
  #giveUp(timeoutMs: number): void {
    this.#dropHeld(); // hooks still pending give their calls up now: they do not wait past the deadline
    this.#cancellation.cancel(SHUTDOWN);
    // What the store has not found by now stays in it, for the next start.
    for (const waiter of this.#recovering?.splice(0) ?? []) waiter.release();
    let waiting = this.#retry.flatMap((b) => b.events);
    while (this.#store.count > 0) waiting = waiting.concat(this.#store.lease(Number.MAX_SAFE_INTEGER, Infinity));
    this.#retry.length = 0;
    this.#retryCount = 0;
    if (waiting.length) this.#abandon(waiting, `shutdown deadline of ${timeoutMs} ms passed; ${waiting.length} events not delivered to ${this.#opts.apiUrl}`);
  }

  /**
   * From the deadline on (or the end), nothing more is queued: calls still
   * waiting for their hooks are counted as dropped now, in the report, and
   * never queued when the hooks settle.
   */
  #dropHeld(): void {
    const held = this.#held;
    this.#stopped = true;
    this.#held = 0;
    if (held > 0) this.#drop('shutdown', held, `shutdown deadline passed with ${held} req.ours calls waiting for their hooks: dropped`);
  }

  /** A signal the app handles itself: deliver now, but let the app's own exit happen. */
  #deliverSoon(): void {
    void this.flush();
    setTimeout(() => {
      this.#released = true;
      this.#timer?.unref?.();
    }, this.#opts.timeoutMs).unref?.();
  }

  /** The process is ending: say what it takes with it, once, synchronously. */
  #reportUndelivered(): void {
    this.#handOffs?.drain(); // responses already sent whose events were still waiting for the end of the turn
    const left = this.#store.count + this.#retryCount + this.#inFlightCount + this.#held;
    if (left === 0) return;
    const fate = this.#store.durable
      ? 'the durable store keeps them for the next start'
      : 'they are lost. To deliver them, `await client.shutdown()` (or `tracking.client.shutdown()`) before the process exits';
    const events = left === 1 ? '1 event was' : `${left} events were`;
    this.#opts.logger.error({ undelivered: left }, `${events} not delivered before the process exited: ${fate}`);
  }
}
