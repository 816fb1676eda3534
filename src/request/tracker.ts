import { randomUUID } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import { serialize } from 'cookie';
import { kReport } from '../client';
import type { DefaultProperties } from '../contract/types';
import { OursError } from '../errors';
import type { Identity, IdentifyEvent, PropertyMap, TrackEvent, UserPropertiesInput } from '../events';
import { withConsent, withGpc, type ConsentMap } from './consent';
import { extractContext, type RequestContext } from './extract-context';
import { holdEnd, onResponseDone } from './hand-off';
import { hasOptedOut, optOutCookie } from './opt-out';
import { redactUrlFields } from './redact-option';
import type { RequestSource } from './request-source';
import { appendSetCookie } from './set-cookie';
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
  readonly #res: ServerResponse;
  readonly #req: Req;
  readonly #socketAddress: string | undefined;
  #held: HeldCall[] | undefined;
  #handedOff = false;
  #identity: Identity | undefined;
  #context: RequestContext | undefined;
  #mintedUserId: string | undefined;
  #optedOut = false;

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
    res: ServerResponse,
    req: Req,
    socketAddress: string | undefined,
  ) {
    this.#config = config;
    this.#sourceOf = sourceOf;
    this.#res = res;
    this.#req = req;
    this.#socketAddress = socketAddress;
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
      appendSetCookie(this.#res, optOutCookie(this.#request().protocol() === 'https', this.#config.cookieDomain));
    } catch (err) {
      this.#report(err);
    }
  }

  /** An opted-out visitor: what is held is dropped, and nothing is held or sent from now on. */
  #silence(): void {
    this.#optedOut = true;
    this.#held = undefined;
  }

  /** Who the visitor is, for every call made after this one in this request (e.g. after login). */
  setIdentity(identity: Identity): void {
    this.#identity = { ...this.#identity, ...identity };
  }

  #hold(call: HeldCall): void {
    try {
      if (this.#optedOut) return;
      if (this.#handedOff) return this.#send([call]);
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
    // The request's view now, not after the response: the framework's (Express's req.app) can change by then.
    if (hasOptedOut(this.#request())) return this.#silence();
    if (this.#config.setVisitorCookie) this.#mintVisitor();
    const ms = this.#config.flushOnResponseMs;
    if (ms !== undefined) holdEnd(this.#res, () => this.#handOff() ?? Promise.resolve(), ms);
    const handOff = (): void => void this.#handOff(); // runs once, however often it is called
    const { handOffs } = this.#config;
    onResponseDone(this.#res, handOffs ? () => handOffs.add(handOff) : handOff);
  }

  /** Hands what was held to the client, once; returns the delivery promise when someone waits for it. */
  #handOff(): Promise<unknown> | undefined {
    if (this.#handedOff) return undefined;
    this.#handedOff = true;
    const held = this.#held ?? [];
    this.#held = undefined;
    this.#send(held);
    const { waitUntil, flushOnResponseMs, client } = this.#config;
    if (!waitUntil && flushOnResponseMs === undefined) return undefined;
    const delivery = client.flush();
    try {
      waitUntil?.(delivery);
    } catch (err) {
      this.#report(err);
    }
    return delivery;
  }

  #send(calls: HeldCall[]): void {
    if (calls.length === 0 || this.#optedOut) return;
    const { skip, gpc } = this.#config;
    let base: Identity;
    try {
      if (skip?.(this.#req)) return;
      if (gpc === 'drop' && this.context.gpc) return;
      base = this.#baseIdentity();
    } catch (err) {
      return this.#report(err);
    }
    const consent = this.#consent();
    // One call's failure (a throwing beforeSend, strict validation) loses only that call.
    for (const call of calls) {
      try {
        this.#sendOne(call, base, consent);
      } catch (err) {
        this.#report(err);
      }
    }
  }

  #sendOne(call: HeldCall, base: Identity, consent: ConsentMap | undefined): void {
    const { client, beforeSend } = this.#config;
    if (call.kind === 'identify') {
      const identify = this.#identifyEvent(call, base);
      if (consent) identify.userProperties = withConsent(identify.userProperties, consent);
      return client.identify(identify);
    }
    const event = this.#trackEvent(call, base);
    if (consent) event.userProperties = withConsent(event.userProperties, consent);
    const final = beforeSend ? beforeSend(event, this.#req) : event;
    if (final) client.track(final);
  }

  /** This request's consent (`consent` option, GPC), once per hand-off; a throwing hook attaches none. */
  #consent(): ConsentMap | undefined {
    const { consent, gpc, warnOnce } = this.#config;
    let map: ConsentMap | undefined;
    try {
      map = consent?.read(this.#req, this.#request(), () =>
        warnOnce('consent-cookie', 'ours-middleware: a consent cookie in an unknown format was ignored: no consent attached'),
      );
    } catch (err) {
      this.#report(err);
    }
    return gpc === 'consent' && this.context.gpc ? withGpc(map) : map;
  }

  /** Identity from the request (cookie, then the app's `identify`), before per-call settings. */
  #baseIdentity(): Identity {
    const base: Identity = { userId: this.#mintedUserId ?? this.context.userId };
    return defined(base, this.#config.identify?.(this.#req));
  }

  #trackEvent(call: HeldCall, base: Identity): TrackEvent {
    const ctx = this.context;
    const overrides = call.overrides as TrackOverrides | undefined;
    let eventProperties = call.properties as PropertyMap | undefined;
    if (ctx.gpc && this.#config.gpc === 'annotate') eventProperties = { ...eventProperties, gpc: 'true' };
    if (overrides) {
      return {
        ...defined(base, call.identity),
        event: call.name,
        time: call.time,
        eventProperties,
        defaultProperties: overrides.defaultProperties ? this.#withDefaults(overrides.defaultProperties) : ctx.defaultProperties,
        identityContext: ctx.identityContext,
        ...withoutMerged(overrides),
      };
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
    event.defaultProperties = ctx.defaultProperties;
    event.identityContext = ctx.identityContext;
    return event;
  }

  #identifyEvent(call: HeldCall, base: Identity): IdentifyEvent {
    const ctx = this.context;
    const overrides = call.overrides as IdentifyOverrides | undefined;
    return {
      ...defined(base, call.identity),
      userProperties: call.properties as UserPropertiesInput,
      defaultProperties: overrides?.defaultProperties ? this.#withDefaults(overrides.defaultProperties) : ctx.defaultProperties,
      identityContext: ctx.identityContext,
      ...withoutMerged(overrides),
    };
  }

  /** The request's `defaultProperties` with a call's on top; URLs the call passes are redacted like the request's. */
  #withDefaults(more: DefaultProperties): DefaultProperties {
    const merged = { ...this.context.defaultProperties, ...more };
    const redact = this.#config.redact;
    if (redact) redactUrlFields(merged, redact.forRequest(this.#req));
    return merged;
  }

  #extractOptions() {
    const { cookieName, collectIp, ipOf, redact, warnOnce } = this.#config;
    return {
      cookieName,
      collectIp,
      ipResolver: (source: RequestSource) => ipOf(source, this.#req),
      redact: redact?.forRequest(this.#req),
      onInvalidVisitorId: () =>
        warnOnce('visitor-id', 'ours-middleware: a visitor id that is not a UUID v4 (the Ours browser SDK\'s format) was ignored: the request has no visitor'),
    };
  }

  /**
   * `setVisitorCookie`: a request without the visitor cookie gets a fresh
   * UUID v4 as its visitor, set as the cookie the browser SDK reads (path /,
   * a year, readable by JavaScript), so the SDK adopts it on the next page.
   */
  #mintVisitor(): void {
    if (this.context.userId || this.#res.headersSent) return;
    this.#mintedUserId = randomUUID();
    const secure = this.#request().protocol() === 'https';
    const cookie = serialize(this.#config.cookieName, this.#mintedUserId, {
      path: '/',
      maxAge: VISITOR_COOKIE_MAX_AGE,
      domain: this.#config.cookieDomain,
      sameSite: secure ? 'none' : 'lax',
      secure,
    });
    appendSetCookie(this.#res, cookie);
  }

  #report(err: unknown): void {
    const error = err instanceof OursError ? err : new OursError(`ours-middleware: a tracking hook threw: ${(err as Error)?.message ?? String(err)}`);
    this.#config.client[kReport](error);
  }
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
