import type { ContractIssue } from '../contract/check';
import { OursError, OursValidationError } from '../errors';
import { flatten } from '../flatten';
import type { ResolvedOptions } from '../options';
import type { Reporter } from '../reporter';
import type { EventPath, EventStore } from '../stores/event-store';
import type { DropInfo } from '../stats';
import type { IdentifyEvent, TrackEvent } from '../events';
import { checkIdentify, checkTrack, NO_VISITOR, type Checked } from '../validate';
import type { Dispatcher } from './dispatcher';
import type { Ledger } from './ledger';

/**
 * What a `no_visitor` drop says, with every way to fix it: it is what a new
 * user meets first (a curl test, a first visit), so it names the remedies.
 */
const NO_VISITOR_MESSAGE = (kind: string): string =>
  `${kind === 'track' ? 'an event' : 'an identify call'} was dropped because it names no visitor: no userId, externalId or email ` +
  '(from a request: no ours_device_id cookie, which the Ours browser SDK sets, and no identity from the app). ' +
  'Give it one: `setVisitorCookie: true` in ours() (mints the cookie; a consent decision), an `identify: (req) => ({ externalId: req.user?.id })` option, ' +
  '`req.ours.setIdentity({ externalId })` in the route, or an id on the event itself (`client.track({ event, externalId })`)';

/**
 * The way into the queue: counts the event as tracked, checks it against
 * the contract, serialises it once, and queues it within the memory bound
 * and the store's, or drops it with a reason. Never throws, except an
 * invalid event with `strict`.
 */
export class Admission {
  /** `shutdown()` was called: new events are dropped (held `req.ours` calls were tracked before). */
  closed = false;
  readonly #opts: ResolvedOptions;
  readonly #store: EventStore;
  readonly #ledger: Ledger;
  readonly #dispatcher: Dispatcher;
  readonly #reporter: Reporter;

  constructor(
    opts: ResolvedOptions,
    store: EventStore,
    ledger: Ledger,
    dispatcher: Dispatcher,
    reporter: Reporter,
  ) {
    this.#opts = opts;
    this.#store = store;
    this.#ledger = ledger;
    this.#dispatcher = dispatcher;
    this.#reporter = reporter;
  }

  /** `held`: a `req.ours` call, already counted (see `hold()`). */
  track(event: TrackEvent, held = false): void {
    this.#accept('track', event, held);
  }

  identify(event: IdentifyEvent, held = false): void {
    this.#accept('identify', event, held);
  }

  /*
   * The middleware's side of `stats()`: a `req.ours` call is tracked when it
   * is made (`hold`), held until its response ends and its hooks have run,
   * then queued (`track`/`identify` with `held`) or dropped with a reason (`release`).
   */

  /** A `req.ours` call: tracked now, held by its request. False (and dropped) once shut down. */
  hold(): boolean {
    this.#ledger.counts.tracked++;
    if (this.closed) {
      this.#ledger.drop('shutdown', 1, 'req.ours call after shutdown() was dropped');
      return false;
    }
    this.#ledger.held++;
    return true;
  }

  /** A held call, built: queued like `track()`/`identify()`, counted once. */
  acceptHeld(kind: 'track' | 'identify', event: TrackEvent | IdentifyEvent): void {
    if (this.#dispatcher.stopped) return; // counted as dropped at the shutdown deadline
    this.#ledger.held--;
    if (kind === 'track') this.track(event as TrackEvent, true);
    else this.identify(event as IdentifyEvent, true);
  }

  /** Held calls that will not be sent: `filtered` by the app's hooks, a `hook_failed`, or `invalid`. */
  release(reason: DropInfo['reason'], count: number): void {
    if (this.#dispatcher.stopped) return;
    this.#ledger.held -= count;
    this.#ledger.drop(reason, count);
  }

  /** `held`: a `req.ours` call, already counted, and tracked before any shutdown. */
  #accept(kind: 'track' | 'identify', event: TrackEvent | IdentifyEvent, held: boolean): void {
    if (!held) this.#ledger.counts.tracked++;
    if (this.closed && !held) {
      this.#ledger.drop(
        'shutdown',
        1,
        `a ${kind} after shutdown() was dropped: the client no longer sends; track before shutting it down`,
      );
      return;
    }
    let checked: Checked<Record<string, unknown>>;
    try {
      // Not a closure per call: this runs for every event.
      checked =
        kind === 'track'
          ? checkTrack(event as TrackEvent, Date.now())
          : checkIdentify(event as IdentifyEvent);
    } catch (err) {
      this.#ledger.drop('invalid', 1);
      this.#reporter.error(new OursError(`${kind} dropped: ${(err as Error).message}`));
      return;
    }
    if (!checked.ok) return this.#invalid(kind, checked.issues);
    this.#enqueue(this.#path(kind), flatten(JSON.stringify(checked.body)));
  }

  #path(kind: 'track' | 'identify'): EventPath {
    if (kind === 'identify') return '/identify';
    return this.#opts.endpoint === 'batch' ? '/batch' : '/track';
  }

  #invalid(kind: 'track' | 'identify', issues: ContractIssue[]): void {
    // A missing visitor is a setup step, not a malformed event: its own reason and advice.
    if (!this.#opts.strict && issues.length === 1 && issues[0] === NO_VISITOR)
      return this.#ledger.drop('no_visitor', 1, NO_VISITOR_MESSAGE(kind));
    const err = new OursValidationError(kind, issues);
    this.#ledger.drop('invalid', 1);
    if (this.#opts.strict) throw err;
    this.#reporter.error(err);
  }

  /** Queues within the memory bound (see `Ledger`) and the store's own. */
  #enqueue(path: EventPath, json: string): void {
    const bytes = json.length;
    const { maxQueueSize, maxQueueBytes } = this.#opts;
    if (!this.#ledger.fits(bytes, maxQueueSize, maxQueueBytes)) {
      this.#ledger.drop(
        'queue_full',
        1,
        `queue full (${maxQueueSize} events or ${maxQueueBytes} bytes held): new events are dropped until the API catches up; if this happens in normal traffic, raise maxQueueSize or maxQueueBytes`,
      );
      return;
    }
    if (!this.#store.append({ json, bytes, path })) {
      this.#ledger.drop(
        'queue_full',
        1,
        "the event store is full: new events are dropped until it drains; if this happens in normal traffic, raise the store's maxBytes",
      );
      return;
    }
    this.#ledger.queued(bytes);
    this.#dispatcher.queued();
  }
}
