import { platform } from '#platform';
import { Admission } from './client/admission';
import { Dispatcher } from './client/dispatcher';
import type { FlushReport } from './client/flush-waiter';
import { Flushes } from './client/flushes';
import { Ledger } from './client/ledger';
import { openStore } from './client/open-store';
import { PendingWorkList, type PendingWork } from './client/pending-work';
import { shutDown } from './client/shutdown';
import { countClient } from './client/client-census';
import * as k from './client/side-channels';
import { signalHooks } from './client/signal-hooks';
import { Emitter } from './emitter';
import { MAX_TIMER_MS } from './deadline';
import { describeValue, OursError } from './errors';
import type { IdentifyEvent, TrackEvent } from './events';
import { Experiments } from './experiments/experiments';
import { resolveExperimentOptions, type ResolvedExperimentOptions } from './experiments/options';
import { resolveOptions, takeStore, type ClientOptions, type ResolvedOptions } from './options';
import { Reporter } from './reporter';
import type { SignalClient } from './signals';
import type { ClientStats, DropInfo } from './stats';
import type { EventStore } from './stores/event-store';
import { MemoryStore } from './stores/memory-store';

/** EventEmitter's own listener type, which the overloads of `on` narrow. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyListener = (...args: any[]) => void;

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
  // A facade over parts of one idea each, in src/client/ (see docs/architecture.md).
  readonly #opts: ResolvedOptions;
  readonly #store: EventStore;
  readonly #reporter: Reporter;
  readonly #ledger: Ledger;
  readonly #dispatcher: Dispatcher;
  readonly #admission: Admission;
  readonly #flushes: Flushes;
  /** What to drain before a flush or shutdown looks at the queue: the middleware's hand-offs. */
  readonly #pendingWork = new PendingWorkList();
  #shutdown: Promise<FlushReport> | undefined;
  /** What the process-wide signal and exit listeners call; held here, weakly there. */
  readonly #signalHooks: SignalClient;
  #unwatchSignals: (() => void) | undefined;
  readonly #experimentOptions: ResolvedExperimentOptions;
  #experiments: Experiments | undefined;
  /** Takes this client out of the count of open clients for its destination (see client-census.ts). */
  readonly #uncount: () => void;

  constructor(options?: ClientOptions) {
    super();
    this.#opts = resolveOptions(options);
    this.#experimentOptions = resolveExperimentOptions(options);
    this.#reporter = new Reporter(this, this.#opts.logger, this.#opts.token);
    const { logger: log, apiUrl, token } = this.#opts;
    this.#uncount = countClient(`${apiUrl} ${token}`, (message) => log.warn({}, message));
    this.#store = options?.store ?? new MemoryStore();
    takeStore(this.#store);
    this.#ledger = new Ledger(this.#reporter);
    this.#dispatcher = new Dispatcher(this.#opts, this.#store, this.#ledger, this.#reporter);
    this.#admission = new Admission(
      this.#opts,
      this.#store,
      this.#ledger,
      this.#dispatcher,
      this.#reporter,
    );
    this.#flushes = new Flushes(this.#ledger, this.#store, this.#dispatcher);
    openStore(this.#store, this.#ledger, this.#flushes, this.#dispatcher, this.#reporter);
    const { logger, timeoutMs } = this.#opts;
    this.#signalHooks = signalHooks(this, {
      ledger: this.#ledger,
      dispatcher: this.#dispatcher,
      store: this.#store,
      pendingWork: this.#pendingWork,
      logger,
      timeoutMs,
    });
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
    this.#admission.track(event);
  }

  /**
   * Sets properties on a visitor (`POST /identify`), under the same retry rules.
   *
   * @example
   * client.identify({ externalId: 'u_42', userProperties: { email: 'a@b.co', custom_properties: { plan: 'pro' } } });
   */
  identify(event: IdentifyEvent): void {
    this.#admission.identify(event);
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
    return this.#flushes.flush(this.#pendingWork.settle());
  }

  /**
   * Stops accepting events, flushes, and resolves within `timeoutMs` (default:
   * the client's `timeoutMs`; `Infinity`: no deadline) with what happened.
   * What could not be delivered in time is counted as failed and reported. Idempotent.
   *
   * @example
   * process.on('SIGTERM', () => client.shutdown().finally(() => process.exit(0)));
   */
  shutdown({
    timeoutMs = this.#opts.timeoutMs,
  }: { timeoutMs?: number | undefined } = {}): Promise<FlushReport> {
    this.#uncount();
    this.#shutdown ??= shutDown(
      {
        ledger: this.#ledger,
        dispatcher: this.#dispatcher,
        flushes: this.#flushes,
        store: this.#store,
        pendingWork: this.#pendingWork,
        close: () => {
          this.#admission.closed = true;
          this.#experiments?.close();
        },
        report: (err) => this.#reporter.error(err),
        unwatchSignals: () => this.#unwatchSignals?.(),
      },
      this.#shutdownTimeout(timeoutMs),
    );
    return this.#shutdown;
  }

  /** A wrong `timeoutMs` is reported and the client's used: a shutdown that gave up at once would lose the queue. */
  #shutdownTimeout(ms: unknown): number {
    if (typeof ms === 'number' && ms >= 0) return Math.min(ms, MAX_TIMER_MS); // a longer timer would fire at once
    this.#reporter.error(
      new OursError(
        `shutdown(): timeoutMs must be a number of milliseconds (Infinity: no deadline), got ${describeValue(ms)}; using the client's ${this.#opts.timeoutMs} ms`,
      ),
    );
    return this.#opts.timeoutMs;
  }

  /** Counters since the client was made; see {@link ClientStats}. */
  stats(): ClientStats {
    const { queuedCount, inFlightCount } = this.#dispatcher;
    return this.#ledger.stats(queuedCount, inFlightCount, this.#flushes.recovering);
  }

  override on(event: 'error', listener: (err: OursError) => void): this;
  override on(event: 'drop', listener: (info: DropInfo) => void): this;
  override on(event: string | symbol, listener: AnyListener): this;
  override on(event: string | symbol, listener: AnyListener): this {
    return super.on(event, listener);
  }

  /** @internal */
  [k.kReport](err: OursError): void {
    this.#reporter.error(err);
  }

  /** @internal */
  [k.kWarn](message: string): void {
    this.#opts.logger.warn({}, message);
  }

  /** @internal */
  [k.kDebug](message: string): void {
    this.#opts.logger.debug({}, message);
  }

  /** @internal */
  [k.kIsClosed](): boolean {
    return this.#admission.closed;
  }

  /** @internal */
  [k.kBeforeFlush](work: PendingWork): void {
    this.#pendingWork.add(work);
  }

  /** A `req.ours` call: tracked now, held by its request (see `Admission.hold`). @internal */
  [k.kHold](): boolean {
    return this.#admission.hold();
  }

  /** @internal */
  [k.kAcceptHeld](kind: 'track' | 'identify', event: TrackEvent | IdentifyEvent): void {
    this.#admission.acceptHeld(kind, event);
  }

  /** @internal */
  [k.kRelease](reason: DropInfo['reason'], count: number): void {
    this.#admission.release(reason, count);
  }

  /** @internal */
  [k.kFlushQueued](join = false): Promise<FlushReport> {
    this.#pendingWork.drain();
    return this.#flushes.queued(undefined, join).promise;
  }

  /** @internal */
  [k.kExperiments](): Experiments {
    this.#experiments ??= new Experiments({
      options: this.#experimentOptions,
      apiUrl: this.#opts.apiUrl,
      report: (err) => this.#reporter.error(err),
    });
    return this.#experiments;
  }
}
