import { platform } from '#platform';
import type { ServerResponse } from 'node:http';
import { serialize } from 'cookie';
import { kAcceptHeld, kExperiments, kFlushQueued, kHold, kRelease, kReport } from '../client';
import type { DefaultProperties } from '../contract/types';
import { OursError } from '../errors';
import type { Identity, IdentifyEvent, PropertyMap, TrackEvent, UserPropertiesInput } from '../events';
import { pageContext } from '../experiments/api';
import type { Visit } from '../experiments/experiments';
import { controlOf, NO_PERSONALIZATION } from '../experiments/parse-answer';
import { answerRedirect } from '../experiments/redirect';
import type { ExperimentAssignment, ExperimentCallOptions, Personalization, PersonalizationCallOptions } from '../experiments/types';
import { withConsent, withGpc, type ConsentMap } from './consent';
import { extractContext, type RequestContext } from './extract-context';
import { addSetCookie, keepCookieOnWriteHead } from './visitor-cookie';
import { holdEnd, onResponseDone } from './hand-off';
import { hookError, isThenable, settleHook } from './hook';
import { WebResponse } from './web-response';
import type { BeforeSendResult } from './middleware-options';
import { hasOptedOut, optOutCookie } from './opt-out';
import { redactUrlFields } from './redact-option';
import type { RequestSource } from './request-source';
import type { TrackerConfig } from './tracker-config';

/** Fields of the contract's event that a call may set, winning over what was read. */
export type TrackOverrides = Omit<TrackEvent, 'event' | 'eventProperties'>;
/** Fields of an identify call that a call may set. */
export type IdentifyOverrides = Omit<IdentifyEvent, 'userProperties'>;

interface HeldCall {
  readonly kind: 'track' | 'identify';
  readonly name: string;
  readonly properties: PropertyMap | UserPropertiesInput | undefined;
  readonly overrides: TrackOverrides | IdentifyOverrides | undefined;
  readonly identity: Identity | undefined;
  readonly time: number;
}

/**
 * What a request sends as: the identity of its calls, or why it sends
 * nothing (the app filtered it, or one of its hooks failed).
 */
type Decision = Identity | 'filtered' | 'hook_failed' | 'invalid';

const VISITOR_TOO_LATE =
  "setVisitorCookie: the response headers were already sent at the request's first track(), so no visitor cookie could be set, and the event has no visitor (no ours_device_id, identify or setIdentity): not sent. Track before the response starts streaming.";

/** Whether an `ours()` with this config made the tracker (see `requestTracker`). @internal */
const kMadeBy = Symbol('ours-middleware.madeBy');

/** A year, as the browser SDK keeps its visitor cookie. */
const VISITOR_COOKIE_MAX_AGE = 365 * 24 * 60 * 60;

/**
 * The request-scoped tracker behind `req.ours` / `ctx.ours`. Creating one does
 * nothing else: the request is read on first use, and calls are held until
 * the response has been sent, then handed to the shared client, so tracking
 * never delays a response.
 *
 * @example
 * req.ours.track('Checkout Completed', { orderId: order.id, total: order.total });
 * req.ours.setIdentity({ externalId: user.id }); // after login
 * req.ours.identify({ email: user.email });
 */
export class RequestTracker<Req = unknown> {
  readonly #config: TrackerConfig<Req>;
  readonly #sourceOf: (req: Req, socketAddress: string | undefined) => RequestSource;
  #source: RequestSource | undefined;
  readonly #res: ServerResponse | WebResponse;
  readonly #req: Req;
  readonly #socketAddress: string | undefined;
  #held: HeldCall[] | undefined;
  #handedOff = false;
  #identity: Identity | undefined;
  #context: RequestContext | undefined;
  #mintedUserId: string | undefined;
  /** The visitor opted out (`optOut()` or the cookie): every call is dropped, as `filtered`. */
  #optedOut = false;
  /** `userProperties.consent` of this request's events, read once (`null`: none). */
  #consentMap: ConsentMap | null | undefined;
  /** `setVisitorCookie` found the headers already sent: no visitor could be given. */
  #visitorCookieTooLate = false;
  /** skip, gpc and identify, asked once per request at its first hand-off. */
  #decision: Decision | Promise<Decision> | undefined;
  /** What `skip` said for this request (see `#skip`). */
  #skipped: boolean | Promise<boolean> | undefined;
  /** This request's hand-off, while its response runs (see `HandOffBatch.open`). */
  #handOffNow: (() => void) | undefined;

  /**
   * Made for every request, so it only stores: the adapter's view of the
   * request (`sourceOf`) is built on first use, and a request that tracks
   * nothing costs five stores. `socketAddress` is the one thing read at the
   * start (the socket's peer address is gone once the client disconnects).
   * @internal
   */
  constructor(
    config: TrackerConfig<Req>,
    sourceOf: (req: Req, socketAddress: string | undefined) => RequestSource,
    res: ServerResponse | WebResponse,
    req: Req,
    socketAddress: string | undefined,
  ) {
    this.#config = config;
    this.#sourceOf = sourceOf;
    this.#res = res;
    this.#req = req;
    this.#socketAddress = socketAddress;
  }

  /** @internal */
  [kMadeBy](config: TrackerConfig<Req>): boolean {
    return this.#config === config;
  }

  /** What was read from the request (visitor, device, page, campaign), computed on first read. */
  get context(): Readonly<RequestContext> {
    this.#context ??= Object.freeze(extractContext(this.#request(), this.#extractOptions(), Date.now()));
    return this.#context;
  }

  /** The adapter's view of the request, made on first use. */
  #request(): RequestSource {
    this.#source ??= this.#sourceOf(this.#req, this.#socketAddress);
    return this.#source;
  }

  /**
   * Tracks an event for this request's visitor. Sent after the response.
   * @param event - the event name, as allow-listed in the Ours dashboard
   * @param eventProperties - anything about the event; numbers and booleans become strings
   * @param overrides - any field of the contract's event; wins over what was read from the request
   */
  track(event: string, eventProperties?: PropertyMap, overrides?: TrackOverrides): void {
    this.#hold({ kind: 'track', name: event, properties: eventProperties, overrides, identity: this.#identity, time: Date.now() });
  }

  /** Sets properties on this request's visitor (`POST /identify`), after the response. */
  identify(userProperties: UserPropertiesInput, overrides?: IdentifyOverrides): void {
    this.#hold({ kind: 'identify', name: '', properties: userProperties, overrides, identity: this.#identity, time: Date.now() });
  }

  /**
   * For a visitor who asks not to be tracked: nothing is sent for this
   * request, and a cookie (`ours_opt_out=1`) makes the middleware send
   * nothing on this browser's later requests either.
   */
  optOut(): void {
    this.#silence();
    try {
      if (this.#res.headersSent) return;
      const cookie = optOutCookie(this.#request().protocol() === 'https', this.#config.cookieDomain);
      this.#addCookie(cookie);
    } catch (err) {
      this.#report(err);
    }
  }

  /** An opted-out visitor: what is held is dropped (counted as `filtered`), and nothing is held or sent from now on. */
  #silence(): void {
    this.#optedOut = true;
    if (this.#held) this.#config.client[kRelease]('filtered', this.#held.length);
    this.#held = undefined;
  }

  /** Whether the visitor opted out, now or earlier (the cookie): asked by experiment calls, which may come before any track(). */
  #hasOptedOut(): boolean {
    if (!this.#optedOut && hasOptedOut(this.#request())) this.#optedOut = true;
    return this.#optedOut;
  }

  /** Who the visitor is, for every call made after this one in this request (e.g. after login). */
  setIdentity(identity: Identity): void {
    this.#identity = { ...this.#identity, ...identity };
  }

  /**
   * This request's visitor's variant of experiment `key`, from Ours'
   * server-side assignment (cached, within `experimentBudgetMs`). Never
   * rejects: anything that goes wrong resolves to the control path.
   * @example
   * const variant = await req.ours.experiment('checkout-redesign');
   * if (req.ours.redirect(variant)) return; // split-URL variant: 302 sent
   * res.render(variant.isControl ? 'checkout' : `checkout-${variant.variantName}`);
   */
  experiment(key: string, options?: ExperimentCallOptions): Promise<ExperimentAssignment> {
    // An opted-out visitor is not asked about: Ours would get its id and record an impression.
    if (this.#optedOutSafe()) return Promise.resolve(controlOf(String(key)));
    return this.#config.client[kExperiments]().assign(key, this.#visit(options?.visitorId), options?.trackImpression);
  }

  /**
   * This request's visitor's personalizations and properties (read-only).
   * Never rejects: resolves to none when the API cannot answer in time.
   * @example
   * const { properties } = await req.ours.personalization();
   */
  personalization(options?: PersonalizationCallOptions): Promise<Personalization> {
    if (this.#optedOutSafe()) return Promise.resolve(NO_PERSONALIZATION);
    return this.#config.client[kExperiments]().personalization(this.#visit(options?.visitorId));
  }

  /** `#hasOptedOut()` for the experiment calls, which never throw: a request that cannot be read is reported, not opted out. */
  #optedOutSafe(): boolean {
    try {
      return this.#hasOptedOut();
    } catch (err) {
      this.#report(err);
      return false;
    }
  }

  /**
   * Answers with a 302 to a split-URL variant's `redirect` (a same-site path
   * or an `https://` URL; anything else is refused and reported) and returns
   * true; returns false when there is nothing to redirect to.
   * @example
   * if (req.ours.redirect(await req.ours.experiment('landing-split'))) return;
   */
  redirect(assignment: ExperimentAssignment): boolean {
    try {
      const res = this.#res;
      if (res instanceof WebResponse) return answerRedirect({ headersSent: res.headersSent, writableEnded: res.headersSent } as ServerResponse, assignment, this.#request().url, (err) => this.#report(err), (location) => res.redirect(location));
      return answerRedirect(res, assignment, this.#request().url, (err) => this.#report(err));
    } catch (err) {
      this.#report(err);
      return false;
    }
  }

  /** Who and where, for an experiment call: read when the call needs it, not before. */
  #visit(visitorId: string | undefined): Visit {
    return {
      visitorId: () => {
        const given = visitorId ?? this.#identity?.userId;
        if (given !== undefined) return given;
        if (this.#config.setVisitorCookie) this.#mintVisitor();
        // Not the `identify` hook: it may be async and is asked once, at the hand-off, when the route is done.
        return this.#mintedUserId ?? this.context.userId;
      },
      page: () => pageContext(this.context.defaultProperties.current_url),
      // An impression is an event: not for a request the app skips, nor one whose visitor said no (gpc: 'drop').
      mayRecord: () => {
        if (this.#config.gpc === 'drop' && this.context.gpc) return false;
        const skipped = this.#skip();
        return isThenable(skipped) ? skipped.then((yes) => !yes) : !skipped;
      },
    };
  }

  #hold(call: HeldCall): void {
    try {
      const { client } = this.#config;
      if (!client[kHold]()) return; // counted, and dropped once the client is shut down
      if (this.#optedOut) return void client[kRelease]('filtered', 1);
      // After the response (a streamed body still being written): sent at once, delivered within `waitUntil`.
      if (this.#handedOff) return void this.#deliver(this.#send([call]));
      if (this.#held) return void this.#held.push(call);
      // Held before the hooks: a response that is already over hands it off at once.
      this.#held = [call];
      this.#start();
    } catch (err) {
      this.#report(err);
    }
  }

  /** First call of this request: hook the response end, mint a visitor if asked to. */
  #start(): void {
    const { handOffs, batchHandOffs, flushOnResponseMs, setVisitorCookie } = this.#config;
    try {
      // The request's view now, not after the response: the framework's (Express's req.app) can change by then.
      if (this.#hasOptedOut()) return this.#silence();
      if (setVisitorCookie) this.#mintVisitor();
    } catch (err) {
      this.#report(err); // the calls are still held, and handed over below
    }
    const handOff = (): void => void this.#handOff(); // runs once, however often it is called
    this.#handOffNow = handOff;
    handOffs.open(handOff); // a flush or shutdown before the response ends takes the calls then
    const res = this.#res;
    if (res instanceof WebResponse) return res.onDone(batchHandOffs && !res.waitUntil ? () => handOffs.add(handOff) : handOff);
    if (flushOnResponseMs !== undefined) holdEnd(res, () => this.#handOff() ?? Promise.resolve(), flushOnResponseMs);
    onResponseDone(res, batchHandOffs ? () => handOffs.add(handOff) : handOff);
  }

  /** Hands what was held to the client, once; returns the delivery promise when someone waits for it. */
  #handOff(): Promise<unknown> | undefined {
    if (this.#handedOff) return undefined;
    this.#handedOff = true;
    const { handOffs } = this.#config;
    if (this.#handOffNow) handOffs.closed(this.#handOffNow);
    const held = this.#held ?? [];
    this.#held = undefined;
    return this.#deliver(this.#send(held));
  }

  /**
   * With `waitUntil` or `flushOnResponse`: this request's delivery, after
   * `sending` (an async hook), handed to `waitUntil` and returned.
   */
  #deliver(sending: Promise<void> | undefined): Promise<unknown> | undefined {
    const { flushOnResponseMs, client } = this.#config;
    const waitUntil = this.#res instanceof WebResponse ? this.#res.waitUntil : this.#config.waitUntil;
    if (!waitUntil && flushOnResponseMs === undefined) return undefined;
    // This request's delivery: other requests still running keep their calls.
    const delivery = sending ? sending.then(() => client[kFlushQueued]()) : client[kFlushQueued]();
    try {
      const result: unknown = waitUntil?.(delivery);
      if (isThenable(result)) result.then(undefined, (err: unknown) => this.#report(err));
    } catch (err) {
      this.#report(err);
    }
    return delivery;
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
      decision = this.#decision ??= this.#decide();
    } catch (err) {
      this.#report(err); // the request could not be read
      decision = this.#decision = 'invalid';
    }
    const sending = isThenable(decision) ? decision.then((d) => this.#sendAll(calls, d)) : this.#sendAll(calls, decision);
    if (sending) this.#config.handOffs.wait(sending);
    return sending;
  }

  #sendAll(calls: HeldCall[], decision: Decision): Promise<void> | undefined {
    if (typeof decision === 'string') return void this.#config.client[kRelease](decision, calls.length);
    // optOut() while an async hook decided: the calls it waited with are dropped too.
    if (this.#optedOut) return void this.#config.client[kRelease]('filtered', calls.length);
    let waits: Promise<void>[] | undefined;
    // One call's failure (a throwing beforeSend, strict validation) loses only that call.
    for (const call of calls) {
      const waiting = this.#sendOne(call, decision);
      if (waiting) (waits ??= []).push(waiting);
    }
    return waits && Promise.all(waits).then(() => undefined);
  }

  /**
   * Whether the request sends, and as whom: `skip`, `gpc: 'drop'` and
   * `identify`, asked once per request (the calls after the response reuse
   * it). Sync hooks decide synchronously; an async one makes it a Promise,
   * which never rejects.
   */
  #decide(): Decision | Promise<Decision> {
    const { gpc } = this.#config;
    // The request is read now, synchronously (a throw is #send's to catch):
    // what runs after an async hook must not throw.
    if (this.context.gpc && gpc === 'drop') return 'filtered';
    let skipped: boolean | Promise<boolean>;
    try {
      skipped = this.#skip();
    } catch (err) {
      return this.#hookFailed(hookError('skip', 'threw', err));
    }
    if (!isThenable(skipped)) return skipped ? 'filtered' : this.#identify();
    return skipped.then(
      (yes) => (yes ? 'filtered' : this.#identify()),
      (err: OursError) => this.#hookFailed(err),
    );
  }

  /**
   * `skip`, asked once per request, by the hand-off or by an experiment's
   * impression, whichever needs it first. A sync throw is the caller's; an
   * async answer settles within `hookTimeoutMs` or rejects with the report.
   */
  #skip(): boolean | Promise<boolean> {
    if (this.#skipped === undefined) {
      const answer = this.#config.skip?.(this.#req) ?? false;
      this.#skipped = isThenable(answer) ? settleHook('skip', answer, this.#config.hookTimeoutMs) : Boolean(answer);
    }
    return this.#skipped;
  }

  /** The request's identity: the visitor (cookie or minted), then what the app's `identify` resolves. */
  #identify(): Decision | Promise<Decision> {
    const base: Identity = { userId: this.#mintedUserId ?? this.#context?.userId };
    let found: ReturnType<NonNullable<TrackerConfig<Req>['identify']>>;
    try {
      found = this.#config.identify?.(this.#req);
    } catch (err) {
      return this.#hookFailed(hookError('identify', 'threw', err));
    }
    if (!isThenable(found)) return defined(base, found);
    return settleHook('identify', found, this.#config.hookTimeoutMs).then(
      (more) => defined(base, more),
      (err: OursError) => this.#hookFailed(err),
    );
  }

  #hookFailed(err: OursError): 'hook_failed' {
    this.#report(err);
    return 'hook_failed';
  }

  /** Builds one call and queues it, through `beforeSend` for a track; the Promise of an async `beforeSend`. */
  #sendOne(call: HeldCall, base: Identity): Promise<void> | undefined {
    const { client, beforeSend } = this.#config;
    let event: TrackEvent;
    try {
      if (call.kind === 'identify') return this.#queue('identify', this.#identifyEvent(call, base));
      event = this.#trackEvent(call, base, beforeSend !== undefined);
    } catch (err) {
      this.#report(err);
      return void client[kRelease]('invalid', 1);
    }
    if (!beforeSend) return this.#queue('track', event);
    let out: ReturnType<typeof beforeSend>;
    try {
      out = beforeSend(event, this.#req);
    } catch (err) {
      this.#report(hookError('beforeSend', 'threw', err));
      return void client[kRelease]('hook_failed', 1);
    }
    if (!isThenable(out)) return this.#sendFinal(out, event);
    return settleHook('beforeSend', out, this.#config.hookTimeoutMs).then(
      (final) => this.#sendFinal(final, event),
      (err: OursError) => {
        this.#report(err);
        client[kRelease]('hook_failed', 1);
      },
    );
  }

  /** What `beforeSend` returned: `null` drops; `undefined` keeps the event as the hook left it. */
  #sendFinal(out: BeforeSendResult, event: TrackEvent): undefined {
    if (out === null || (out as unknown) === false) return void this.#config.client[kRelease]('filtered', 1);
    return this.#queue('track', out ?? event);
  }

  #queue(kind: 'track' | 'identify', event: TrackEvent | IdentifyEvent): undefined {
    const { client } = this.#config;
    try {
      if (this.#visitorCookieTooLate && !event.userId && !event.externalId && !event.email) {
        client[kRelease]('invalid', 1);
        return void this.#report(new OursError(VISITOR_TOO_LATE));
      }
      client[kAcceptHeld](kind, event);
    } catch (err) {
      this.#report(err); // `strict`: the client threw what it counted
    }
    return undefined;
  }

  #trackEvent(call: HeldCall, base: Identity, own: boolean): TrackEvent {
    const ctx = this.context;
    const overrides = call.overrides as TrackOverrides | undefined;
    let eventProperties = call.properties as PropertyMap | undefined;
    if (ctx.gpc && this.#config.gpc === 'annotate') eventProperties = { ...eventProperties, gpc: 'true' };
    else if (own && eventProperties) eventProperties = { ...eventProperties };
    // `own`: a hook will see the event, so it gets objects no other event shares.
    const identityContext = own && ctx.identityContext ? { ...ctx.identityContext } : ctx.identityContext;
    if (overrides) {
      return this.#withConsent({
        ...defined(base, call.identity),
        event: call.name,
        time: call.time,
        eventProperties,
        defaultProperties: overrides.defaultProperties ? this.#withDefaults(overrides.defaultProperties) : own ? ownCopy(ctx.defaultProperties) : ctx.defaultProperties,
        identityContext,
        ...withoutMerged(overrides),
      });
    }
    // The common case, built by named stores on a copy: the same object as
    // the literal above, but `{ ...x, more }` costs microseconds on V8 11
    // (Node 20), where each store after a spread makes a new hidden class.
    const identity = defined(base, call.identity);
    // `base` is shared by every call of this request: never store into it.
    const event = (identity === base ? copyIdentity(base) : identity) as TrackEvent;
    event.event = call.name;
    event.time = call.time;
    event.eventProperties = eventProperties;
    event.defaultProperties = own ? ownCopy(ctx.defaultProperties) : ctx.defaultProperties;
    event.identityContext = identityContext;
    return this.#withConsent(event);
  }

  #identifyEvent(call: HeldCall, base: Identity): IdentifyEvent {
    const ctx = this.context;
    const overrides = call.overrides as IdentifyOverrides | undefined;
    return this.#withConsent({
      ...defined(base, call.identity),
      userProperties: call.properties as UserPropertiesInput,
      defaultProperties: overrides?.defaultProperties ? this.#withDefaults(overrides.defaultProperties) : ctx.defaultProperties,
      identityContext: ctx.identityContext,
      ...withoutMerged(overrides),
    });
  }

  /** The request's `defaultProperties` with a call's on top; URLs the call passes are redacted like the request's. */
  #withDefaults(more: DefaultProperties): DefaultProperties {
    const merged = { ...this.context.defaultProperties, ...more };
    const redact = this.#config.redact;
    if (redact) redactUrlFields(merged, redact.forRequest(this.#req));
    return merged;
  }

  /** `event` with this request's consent in `userProperties.consent` (what the call set wins), when there is any. */
  #withConsent<E extends TrackEvent | IdentifyEvent>(event: E): E {
    const consent = this.#consent();
    if (consent) event.userProperties = withConsent(event.userProperties, consent);
    return event;
  }

  /** This request's consent (`consent` option, `gpc: 'consent'`), read once; a throwing or async hook attaches none. */
  #consent(): ConsentMap | undefined {
    if (this.#consentMap !== undefined) return this.#consentMap ?? undefined;
    const { consent, gpc, warnOnce } = this.#config;
    let map: ConsentMap | undefined;
    try {
      map = consent?.read(this.#req, this.#request(), () =>
        warnOnce('consent-cookie', 'a consent cookie in an unknown format was ignored: no consent attached'),
      );
    } catch (err) {
      this.#report(new OursError(`a consent hook threw: ${(err as Error)?.message ?? String(err)}`));
    }
    if (gpc === 'consent' && this.context.gpc) map = withGpc(map);
    this.#consentMap = map ?? null;
    return map;
  }

  #extractOptions() {
    const { cookieName, collectIp, ipOf, redact, warnOnce } = this.#config;
    return {
      cookieName,
      collectIp,
      ipResolver: (source: RequestSource) => ipOf(source, this.#req),
      redact: redact?.forRequest(this.#req),
      onInvalidVisitorId: () =>
        warnOnce('visitor-id', "a visitor id that is not a UUID v4 (the Ours browser SDK's format) was ignored: the request has no visitor"),
    };
  }

  /**
   * `setVisitorCookie`: a request without the visitor cookie gets a fresh
   * UUID v4 as its visitor, set as the cookie the browser SDK reads (path /,
   * a year, readable by JavaScript), so the SDK adopts it on the next page.
   * Only while the cookie can still be set: an id the browser never gets
   * would make each such event a visitor of its own (see VISITOR_TOO_LATE).
   */
  #mintVisitor(): void {
    if (this.#mintedUserId || this.context.userId) return;
    if (this.#res.headersSent) return void (this.#visitorCookieTooLate = true);
    this.#mintedUserId = platform.randomUUID();
    const secure = this.#request().protocol() === 'https';
    const cookie = serialize(this.#config.cookieName, this.#mintedUserId, {
      path: '/',
      maxAge: VISITOR_COOKIE_MAX_AGE,
      domain: this.#config.cookieDomain,
      sameSite: secure ? 'none' : 'lax',
      secure,
    });
    this.#addCookie(cookie);
  }

  #addCookie(cookie: string): void {
    if (this.#res instanceof WebResponse) return this.#res.addCookie(cookie);
    addSetCookie(this.#res, cookie);
    keepCookieOnWriteHead(this.#res, cookie);
  }

  #report(err: unknown): void {
    const error = err instanceof OursError ? err : new OursError(`tracking failed: ${(err as Error)?.message ?? String(err)}`);
    this.#config.client[kReport](error);
  }
}

/**
 * The request's tracker. One request has one, however often `ours()` runs on
 * it (mounted at app level and again on a router, or two `ours()`): a second
 * tracker would mint a second visitor and lose a `setIdentity()` made before
 * it. The first one's options apply; another `ours()` says so at debug level.
 * @internal
 */
export function requestTracker<Req>(
  existing: RequestTracker<Req> | undefined,
  config: TrackerConfig<Req>,
  sourceOf: (req: Req, socketAddress: string | undefined) => RequestSource,
  res: ServerResponse | WebResponse,
  req: Req,
  socket: { readonly remoteAddress?: string | undefined } | undefined,
): RequestTracker<Req> {
  // The socket address is the one thing read now: it is gone once the client disconnects.
  if (!(existing instanceof RequestTracker)) return new RequestTracker(config, sourceOf, res, req, socket?.remoteAddress);
  if (!existing[kMadeBy](config)) config.noteMountedTwice();
  return existing;
}

/** `base` with the defined identity fields of `more` on top (an explicit `undefined` does not erase). */
function defined(base: Identity, more: Identity | undefined): Identity {
  if (!more) return base;
  const out = copyIdentity(base);
  if (more.userId !== undefined) out.userId = more.userId;
  if (more.externalId !== undefined) out.externalId = more.externalId;
  if (more.email !== undefined) out.email = more.email;
  return out;
}

/**
 * `{ ...identity }` for the identities built here (own keys among `userId`,
 * `externalId`, `email`), without a spread: on V8 11 (Node 20) stores after
 * a spread copy are slow (see #trackEvent).
 */
function copyIdentity(identity: Identity): Identity {
  const out: Identity = {};
  const keys = Object.keys(identity) as (keyof Identity)[];
  for (let i = 0; i < keys.length; i++) out[keys[i]!] = identity[keys[i]!];
  return out;
}

/**
 * A copy a hook may change freely. `Object.assign` over the ~25 fields of
 * `defaultProperties`: cheaper than a spread on V8 11 (docs/requests-and-hooks.md).
 */
function ownCopy<T extends object>(shared: T): T {
  return Object.assign({}, shared);
}

/**
 * Overrides minus `defaultProperties`, which is merged field by field above,
 * and minus fields left `undefined` (`{ userId: session.id }` with no session
 * must not erase the visitor read from the cookie; `null` does erase).
 */
function withoutMerged<T extends { defaultProperties?: unknown }>(overrides: T | undefined): Omit<T, 'defaultProperties'> | undefined {
  if (!overrides) return undefined;
  const { defaultProperties: _merged, ...rest } = overrides;
  for (const key of Object.keys(rest) as (keyof typeof rest)[]) if (rest[key] === undefined) delete rest[key];
  return rest;
}
