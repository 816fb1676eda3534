import { platform } from '#platform';
import { kFlushQueued, kRelease } from '../client/side-channels';
import type { DefaultProperties } from '../contract/types';
import type { IdentifyEvent, Identity, TrackEvent } from '../events';
import { isThenable } from '../is-thenable';
import { buildIdentifyEvent, buildTrackEvent, mergeDefaults, readConsent } from './build-event';
import { withConsent, type ConsentMap } from './consent';
import { reportFailure } from './decide';
import type { HandOff, OpenHandOff } from './hand-off-batch';
import type { Decision, HeldCall } from './held-call';
import type { MiddlewareConfig } from './middleware-config';
import { queueEvent } from './queue-event';
import { kDecide, kSource, kNoVisitorCookie, type TrackedRequest } from './tracked-request';

/**
 * The `req.ours` calls of a request that tracks, made at its first call (a
 * request that tracks nothing never pays for it): held while the response
 * runs, handed to the client once it is over, each built into its event once
 * the request's decision is known. It is the request's entry in the client's
 * `HandOffBatch`, so the hand-off needs no closure of its own.
 */
export class HeldCalls<Req, Res> implements HandOff {
  #calls: HeldCall[] | undefined;
  #handedOff = false;
  /** Its delivery is the turn's (see `start()`): handing off only builds and queues. */
  #sharesTurn = false;
  /** The visitor opted out: what is held, and what waits for an async hook, is dropped. */
  #dropped = false;
  /** skip, gpc and identify, asked once per request at its first hand-off. */
  #decision: Decision | Promise<Decision> | undefined;
  /** This request's place among the open hand-offs, while its response runs (see `HandOffBatch.open`). */
  #open: OpenHandOff | undefined;
  /** `userProperties.consent` of this request's events, read once (`null`: none). */
  #consentMap: ConsentMap | null | undefined;
  readonly #request: TrackedRequest;
  readonly #config: MiddlewareConfig<Req, Res>;
  readonly #req: Req;
  readonly #res: Res;

  /** Holds `first`; `start()` then hooks the end of the response. */
  constructor(
    request: TrackedRequest,
    config: MiddlewareConfig<Req, Res>,
    req: Req,
    res: Res,
    first: HeldCall,
  ) {
    this.#request = request;
    this.#config = config;
    this.#req = req;
    this.#res = res;
    this.#calls = [first];
  }

  /** Another call: held, or, after the response (a streamed body still being written), sent at once and delivered within `waitUntil`. */
  add(call: HeldCall): void {
    if (this.#handedOff) return void this.#deliver(this.#send([call]));
    this.#calls?.push(call);
  }

  /** An opted-out visitor: what is held is dropped (counted as `filtered`), and so is what an async hook still decides. */
  drop(): void {
    this.#dropped = true;
    if (this.#calls) this.#config.client[kRelease]('filtered', this.#calls.length);
    this.#calls = undefined;
  }

  /** Hooks the end of the response, once: the calls are handed off then, or by a flush that comes first. */
  start(): void {
    const { handOffs, flushOnResponseMs, response } = this.#config;
    this.#open = handOffs.open(this); // a flush or shutdown before the response ends takes the calls then
    if (flushOnResponseMs !== undefined) {
      response.holdEnd(this.#res, () => this.#handOff() ?? Promise.resolve(), flushOnResponseMs);
      return response.onDone(this.#res, () => this.handOff());
    }
    const waitUntil = response.waitUntil?.(this.#res) ?? this.#config.waitUntil;
    // A delivery that a platform waits on starts at the response, within the request's lifetime:
    // the turn's, shared with the requests that end with it, where the platform allows (not Workers).
    if (waitUntil && !platform.sharedDeliveries)
      return response.onDone(this.#res, () => this.handOff());
    this.#sharesTurn = waitUntil !== undefined;
    let ended = false;
    response.onDone(this.#res, () => {
      if (ended) return; // a Web request's signal (the client went away), then its respond()
      ended = true;
      handOffs.add(this);
      if (waitUntil) this.#handTo(waitUntil, handOffs.turnDelivery());
    });
  }

  /** Hands what was held to the client; runs once, however often it is called. */
  handOff(): void {
    void this.#handOff();
  }

  /** The hand-off; returns the delivery promise when someone waits for it (sharing the turn's: its async hooks' work). */
  #handOff(): Promise<unknown> | undefined {
    if (this.#handedOff) return undefined;
    this.#handedOff = true;
    if (this.#open) this.#config.handOffs.closed(this.#open);
    const calls = this.#calls ?? [];
    this.#calls = undefined;
    const sending = this.#send(calls);
    return this.#sharesTurn ? sending : this.#deliver(sending); // the turn's delivery waits for `sending`
  }

  /**
   * With `waitUntil` (the request's or the option) or `flushOnResponse`: this
   * request's delivery, after `sending` (an async hook), handed to
   * `waitUntil` and returned.
   */
  #deliver(sending: Promise<void> | undefined): Promise<unknown> | undefined {
    const { response, flushOnResponseMs, client } = this.#config;
    const waitUntil = response.waitUntil?.(this.#res) ?? this.#config.waitUntil;
    if (!waitUntil && flushOnResponseMs === undefined) return undefined;
    // This request's delivery: other requests still running keep their calls. A held response is not kept
    // waiting for a batch in flight; what only `waitUntil` waits for joins it (see JoinWindow).
    const join = flushOnResponseMs === undefined;
    const delivery = sending
      ? sending.then(() => client[kFlushQueued](join))
      : client[kFlushQueued](join);
    if (waitUntil) this.#handTo(waitUntil, delivery);
    return delivery;
  }

  /** Hands `delivery` to the platform's `waitUntil`; what it throws or rejects with is reported. */
  #handTo(waitUntil: (promise: Promise<unknown>) => void, delivery: Promise<unknown>): void {
    try {
      const result: unknown = waitUntil(delivery);
      if (isThenable(result)) result.then(undefined, (err: unknown) => this.#report(err));
    } catch (err) {
      this.#report(err);
    }
  }

  /**
   * Builds and queues `calls` once the request's decision is known; returns
   * the work still waiting for an async hook (which `flush()` waits for),
   * else undefined. Never throws, and every call ends queued or dropped.
   */
  #send(calls: HeldCall[]): Promise<void> | undefined {
    if (calls.length === 0) return undefined;
    let decision: Decision | Promise<Decision>;
    try {
      decision = this.#decision ??= this.#request[kDecide]();
    } catch (err) {
      this.#report(err); // the request could not be read
      decision = this.#decision = 'invalid';
    }
    const sending = isThenable(decision)
      ? decision.then((d) => this.#sendAll(calls, d))
      : this.#sendAll(calls, decision);
    if (sending) this.#config.handOffs.wait(sending);
    return sending;
  }

  #sendAll(calls: HeldCall[], decision: Decision): Promise<void> | undefined {
    const { client } = this.#config;
    if (typeof decision === 'string') return void client[kRelease](decision, calls.length);
    // optOut() while an async hook decided: the calls it waited with are dropped too.
    if (this.#dropped) return void client[kRelease]('filtered', calls.length);
    let waits: Promise<void>[] | undefined;
    // One call's failure (a throwing beforeSend, strict validation) loses only that call.
    for (const call of calls) {
      const waiting = this.#sendOne(call, decision);
      if (waiting) (waits ??= []).push(waiting);
    }
    return waits && Promise.all(waits).then(() => undefined);
  }

  /** Builds one call and queues it (see `queueEvent`); the Promise of an async `beforeSend`. */
  #sendOne(call: HeldCall, base: Identity): Promise<void> | undefined {
    let event: TrackEvent | IdentifyEvent;
    try {
      // A hook will see the event: it gets copies of the request's shared objects.
      const own = this.#config.beforeSend !== undefined;
      event =
        call.kind === 'identify'
          ? this.#identifyEvent(call, base, own)
          : this.#trackEvent(call, base, own);
    } catch (err) {
      this.#report(err);
      return void this.#config.client[kRelease]('invalid', 1);
    }
    return queueEvent(this.#config, this.#req, call.kind, event, this.#request[kNoVisitorCookie]);
  }

  #trackEvent(call: HeldCall, base: Identity, own: boolean): TrackEvent {
    // Stamped at the call: a wall clock stepped back since (NTP), while the response
    // streamed or a hook ran, would have it in the future, which the API refuses.
    const now = Date.now();
    if (call.time > now) call = { ...call, time: now };
    const ctx = this.#request.context;
    const more = call.overrides?.defaultProperties;
    const annotateGpc = ctx.gpc && this.#config.gpc === 'annotate';
    return this.#withConsent(
      buildTrackEvent(
        call,
        base,
        ctx,
        own,
        annotateGpc,
        more ? this.#withDefaults(more) : undefined,
      ),
    );
  }

  #identifyEvent(call: HeldCall, base: Identity, own: boolean): IdentifyEvent {
    const ctx = this.#request.context;
    const more = call.overrides?.defaultProperties;
    return this.#withConsent(
      buildIdentifyEvent(call, base, ctx, own, more ? this.#withDefaults(more) : undefined),
    );
  }

  /** The request's `defaultProperties` with a call's on top; URLs the call passes are redacted like the request's. */
  #withDefaults(more: DefaultProperties): DefaultProperties {
    return mergeDefaults(
      this.#request.context.defaultProperties,
      more,
      this.#config.redact?.forRequest(this.#req),
    );
  }

  /** `event` with this request's consent in `userProperties.consent` (what the call set wins), when there is any. */
  #withConsent<E extends TrackEvent | IdentifyEvent>(event: E): E {
    if (this.#consentMap === undefined) {
      const { consent, gpc } = this.#config;
      const request = this.#request;
      this.#consentMap =
        readConsent(
          this.#config,
          consent,
          this.#req,
          request[kSource](),
          gpc === 'consent' && request.context.gpc,
        ) ?? null;
    }
    if (this.#consentMap)
      event.userProperties = withConsent(event.userProperties, this.#consentMap);
    return event;
  }

  #report(err: unknown): void {
    reportFailure(this.#config.client, err);
  }
}
