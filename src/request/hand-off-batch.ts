import { platform } from '#platform';
import type { OursClient } from '../client';
import type { PendingWork } from '../client/pending-work';
import { kBeforeFlush, kFlushQueued, kReport } from '../client/side-channels';
import { OursError } from '../errors';
import { OpenList, type OpenEntry } from './open-list';

/** A request's hand-off: its held calls, handed to the client once (a second `handOff()` is a no-op). */
export interface HandOff {
  handOff(): void;
}

/** A request's place among the open hand-offs (see `HandOffBatch.open`). */
export type OpenHandOff = OpenEntry<HandOff>;

/**
 * The middleware's hand-offs to one client, and what `flush()`/`shutdown()`
 * must wait for: hand-offs of finished responses (run together once per
 * event-loop turn), requests that hold calls while their response still runs
 * (a streaming download), and hand-offs waiting for an async hook.
 *
 * Hand-offs of finished responses, run together once per event-loop turn:
 *
 * A hand-off reads the request, builds the event, checks and serialises it:
 * ~1 KB of fresh objects and code that the HTTP stack's work in between
 * evicts from the CPU caches. Run back to back after the turn's I/O, the
 * same work costs less (how much: bench/RESULTS.md, the hand-off batch).
 * The delay is one turn; `drain()` runs what waits at
 * once (the client calls it first thing in `flush()` and `shutdown()`).
 *
 * The batch runs outside every request's async context, whoever runs it (the
 * end of the turn, or a `flush()` a route awaits): otherwise one request's
 * AsyncLocalStorage store would show in the hooks (`beforeSend`, `identify`,
 * `skip`) of all the others. The hooks get the request as an argument instead.
 */
export class HandOffBatch implements PendingWork {
  #waiting: HandOff[] = [];
  /** The delivery of the hand-offs waiting now, where a platform's `waitUntil` waits for it (see `turnDelivery`). */
  #turn: { promise: Promise<unknown>; resolve: (delivery: Promise<unknown>) => void } | undefined;
  /** Hand-offs of requests that hold calls and whose response has not ended. */
  readonly #open = new OpenList<HandOff>();
  /**
   * Hand-offs waiting for an async hook; each settles (never rejects) within
   * the hook's bound. A Set is harmless here (see OpenList): a settled
   * Promise holds its result, not the request.
   */
  readonly #pending = new Set<Promise<void>>();
  readonly #onError: (err: unknown) => void;
  readonly #deliver: () => Promise<unknown>;
  readonly #runWaiting = platform.outsideContext(() => this.#runAll(false));
  readonly #runWaitingAndOpen = platform.outsideContext(() => this.#runAll(true));

  /**
   * `onError` hears a hand-off that threw; the others still run. `deliver`
   * flushes what is queued, for a turn's delivery.
   */
  constructor(onError: (err: unknown) => void, deliver: () => Promise<unknown>) {
    this.#onError = onError;
    this.#deliver = deliver;
  }

  /** Runs `handOff` at the end of this turn, after the hand-offs queued before it. */
  add(handOff: HandOff): void {
    if (this.#waiting.push(handOff) === 1) platform.defer(this.#runWaiting);
  }

  /**
   * The delivery of the hand-offs waiting now, for requests whose platform
   * waits on it (`waitUntil`): settles once they have run, their async hooks
   * have settled, and a flush of what is queued then has. One per turn, so
   * the requests that end together share their build, their flush and their
   * API request. Call it after `add()`.
   */
  turnDelivery(): Promise<unknown> {
    if (!this.#turn) {
      let resolve!: (delivery: Promise<unknown>) => void;
      const promise = new Promise<unknown>((r) => (resolve = r));
      this.#turn = { promise, resolve };
    }
    return this.#turn.promise;
  }

  /** A request holds calls while its response runs: `settle()` hands them over early. Pass what it returns to `closed()`. */
  open(handOff: HandOff): OpenHandOff {
    return this.#open.add(handOff);
  }

  /** The request handed its calls over (its response ended, or a flush took them). */
  closed(open: OpenHandOff): void {
    this.#open.delete(open);
  }

  /** A hand-off waits for an async hook: `settle()` waits for `work`, which must never reject. */
  wait(work: Promise<void>): void {
    this.#pending.add(work);
    void work.then(() => this.#pending.delete(work));
  }

  /**
   * For `flush()` and `shutdown()`: runs the waiting hand-offs, hands over
   * the calls of requests still running (they were tracked before the
   * flush), and returns what to wait for while async hooks settle, or
   * undefined when none is pending. The process is kept alive meanwhile, as
   * an awaited flush is; every hook wait is bounded, so this ends.
   */
  settle(): Promise<void> | undefined {
    this.#runWaitingAndOpen();
    if (this.#pending.size === 0) return undefined;
    const keepAlive = setInterval(() => undefined, 60_000);
    return Promise.all(this.#pending).then(() => clearInterval(keepAlive));
  }

  /** Runs every waiting hand-off now (a no-op when none waits). */
  drain(): void {
    if (this.#waiting.length !== 0) this.#runWaiting();
  }

  /** The waiting hand-offs, then (`open`) those of requests still running; in no request's async context. */
  #runAll(open: boolean): void {
    const batch = this.#waiting;
    if (batch.length !== 0) {
      const turn = this.#turn;
      this.#waiting = [];
      this.#turn = undefined;
      for (const handOff of batch) this.#run(handOff);
      turn?.resolve(this.#deliverTurn());
    }
    if (open) for (const handOff of this.#open.values()) this.#run(handOff);
  }

  /** After the turn's hand-offs: their async hooks (and any other pending), then a flush. Never rejects. */
  #deliverTurn(): Promise<unknown> {
    const deliver = (): Promise<unknown> => {
      try {
        return this.#deliver();
      } catch (err) {
        this.#onError(err);
        return Promise.resolve();
      }
    };
    return this.#pending.size ? Promise.all(this.#pending).then(deliver) : deliver();
  }

  #run(handOff: HandOff): void {
    try {
      handOff.handOff();
    } catch (err) {
      this.#onError(err);
    }
  }
}

/** One per client, shared by every middleware made with it (even one made per request by mistake). */
const batches = new WeakMap<OursClient, HandOffBatch>();

/** The hand-off batch of `client`, made and registered with it (drained before its flushes) on first use. */
export function handOffsOf(client: OursClient): HandOffBatch {
  let batch = batches.get(client);
  if (!batch) {
    batch = new HandOffBatch(
      (err) =>
        client[kReport](
          new OursError(`a hand-off failed: ${(err as Error)?.message ?? String(err)}`),
        ),
      () => client[kFlushQueued](true), // only a platform waits on it: it may join the batch in flight
    );
    client[kBeforeFlush](batch);
    batches.set(client, batch);
  }
  return batch;
}
