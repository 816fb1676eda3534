import { platform } from '#platform';
import { kExperiments, kHold, kRelease } from '../client/side-channels';
import { OursError } from '../errors';
import type { Identity, PropertyMap, UserPropertiesInput } from '../events';
import { pageContext } from '../experiments/api';
import type { Visit } from '../experiments/experiments';
import { controlOf, NO_PERSONALIZATION } from '../experiments/parse-answer';
import { redirectLocation } from '../experiments/redirect';
import type {
  ExperimentAssignment,
  ExperimentCallOptions,
  Personalization,
  PersonalizationCallOptions,
} from '../experiments/types';
import { isThenable } from '../is-thenable';
import { decide, hookFailed, reportFailure } from './decide';
import { extractContext, type RequestContext } from './extract-context';
import type { Decision, HeldCall, IdentifyOverrides, TrackOverrides } from './held-call';
import { HeldCalls } from './held-calls';
import { hookError, settleHook } from './hook';
import { extractOptionsFor, type MiddlewareConfig } from './middleware-config';
import { hasOptedOut, optOutCookie } from './opt-out';
import { HEADERS_SENT } from './queue-event';
import type { RequestSource } from './request-source';
import { kDecide, kSource, kNoVisitorCookie, type TrackedRequest } from './tracked-request';
import { visitorCookie } from './visitor-cookie';

export type { IdentifyOverrides, TrackOverrides } from './held-call';

/** Why an `optOut()` could not set its cookie, where the adapter does not say (see `ResponseControl.noCookieReason`). */
const OPT_OUT_HEADERS_SENT =
  'the response headers were already sent. Call optOut() before the response starts (before streaming a body).';
/** The report of an `optOut()` whose cookie could not be set: `reason`, why (the adapter's, else the headers were sent). */
const optOutTooLate = (reason = OPT_OUT_HEADERS_SENT): string =>
  `optOut(): the opt-out cookie (ours_opt_out) could not be set, so this browser's later requests will be tracked (this request's calls are dropped): ${reason}`;

/** Whether an `ours()` with this config made the tracker (see `requestTracker`). @internal */
const kMadeBy = Symbol('ours-middleware.madeBy');
/** The tracker's response, for the Web tracker's `respond()`. @internal */
export const kResponse = Symbol('ours-middleware.response');

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
export class RequestTracker<Req = unknown, Res = unknown> implements TrackedRequest {
  readonly #config: MiddlewareConfig<Req, Res>;
  readonly #sourceOf: (req: Req, socketAddress: string | undefined) => RequestSource;
  #source: RequestSource | undefined;
  readonly #res: Res;
  readonly #req: Req;
  readonly #socketAddress: string | undefined;
  /** The calls held since the first `track()`; undefined for a request that tracks nothing. */
  #calls: HeldCalls<Req, Res> | undefined;
  #identity: Identity | undefined;
  #context: RequestContext | undefined;
  #mintedUserId: string | undefined;
  /** The `Set-Cookie` line of the visitor minted for this request, taken back if the visitor opts out. */
  #mintedCookie: string | undefined;
  /** The visitor opted out (`optOut()` or the cookie): every call is dropped, as `filtered`. */
  #optedOut = false;
  /** What the first `optOut()` did about the cookie; a second call does nothing more (one cookie, one report). */
  #optOutCookie: 'set' | 'too late' | undefined;
  /** Why `setVisitorCookie` could not give a visitor (the headers were sent), when it could not. */
  #noVisitorCookie: string | undefined;
  /** What `skip` said for this request (see `#skip`). */
  #skipped: boolean | Promise<boolean> | undefined;

  /**
   * Made for every request, so it only stores: the adapter's view of the
   * request (`sourceOf`) is built on first use, and a request that tracks
   * nothing costs five stores. `socketAddress` is the one thing read at the
   * start (the socket's peer address is gone once the client disconnects).
   * @internal
   */
  constructor(
    config: MiddlewareConfig<Req, Res>,
    sourceOf: (req: Req, socketAddress: string | undefined) => RequestSource,
    res: Res,
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
  [kMadeBy](config: MiddlewareConfig<Req, Res>): boolean {
    return this.#config === config;
  }

  /** @internal */
  get [kResponse](): Res {
    return this.#res;
  }

  /** @internal */
  [kSource](): RequestSource {
    return this.#request();
  }

  /** @internal */
  get [kNoVisitorCookie](): string | undefined {
    return this.#noVisitorCookie;
  }

  /** What was read from the request (visitor, device, page, campaign), computed on first read. */
  get context(): Readonly<RequestContext> {
    this.#context ??= Object.freeze(
      extractContext(this.#request(), extractOptionsFor(this.#config, this.#req), Date.now()),
    );
    return this.#context;
  }

  /** The adapter's view of the request, made on first use. */
  #request(): RequestSource {
    if (this.#source) return this.#source;
    const source = this.#sourceOf(this.#req, this.#socketAddress);
    this.#source = this.#config.viaProxy?.(source) ?? source;
    return this.#source;
  }

  /**
   * Tracks an event for this request's visitor. Sent after the response.
   * @param event - the event name, as allow-listed in the Ours dashboard
   * @param eventProperties - anything about the event; numbers and booleans become strings
   * @param overrides - any field of the contract's event; wins over what was read from the request
   */
  track(event: string, eventProperties?: PropertyMap, overrides?: TrackOverrides): void {
    this.#hold({
      kind: 'track',
      name: event,
      properties: eventProperties,
      overrides,
      identity: this.#identity,
      time: Date.now(),
    });
  }

  /** Sets properties on this request's visitor (`POST /identify`), after the response. */
  identify(userProperties: UserPropertiesInput, overrides?: IdentifyOverrides): void {
    this.#hold({
      kind: 'identify',
      name: '',
      properties: userProperties,
      overrides,
      identity: this.#identity,
      time: Date.now(),
    });
  }

  /**
   * For a visitor who asks not to be tracked: nothing is sent for this
   * request, and a cookie (`ours_opt_out=1`) makes the middleware send
   * nothing on this browser's later requests either.
   */
  optOut(): void {
    this.#silence();
    if (this.#optOutCookie) return;
    try {
      const { response, cookieDomain } = this.#config;
      if (response.headersSent(this.#res)) {
        this.#optOutCookie = 'too late';
        return this.#report(
          new OursError(optOutTooLate(response.noCookieReason?.(this.#res, 'opt-out'))),
        );
      }
      // A visitor minted by an earlier track() of this request: an opted-out browser gets no new id.
      if (this.#mintedCookie !== undefined) response.removeCookie(this.#res, this.#mintedCookie);
      this.#mintedCookie = undefined;
      response.addCookie(
        this.#res,
        optOutCookie(this.#request().protocol() === 'https', cookieDomain),
      );
      this.#optOutCookie = 'set';
    } catch (err) {
      this.#report(err);
    }
  }

  /** An opted-out visitor: what is held is dropped (counted as `filtered`), and nothing is held or sent from now on. */
  #silence(): void {
    this.#optedOut = true;
    this.#calls?.drop();
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
    return this.#config.client[kExperiments]().assign(
      key,
      this.#visit(options?.visitorId),
      options?.trackImpression,
    );
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
      const location = redirectLocation(assignment, this.#request().url, (err) =>
        this.#report(err),
      );
      if (location === undefined) return false;
      const { response } = this.#config;
      if (response.headersSent(this.#res)) {
        this.#report(
          new OursError(
            `experiment '${assignment.experimentKey}': cannot redirect, the response has already started`,
          ),
        );
        return false;
      }
      response.redirect(this.#res, location);
      return true;
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
      if (this.#calls) return this.#calls.add(call);
      // Held before the hooks: a response that is already over hands it off at once.
      this.#calls = new HeldCalls(this, this.#config, this.#req, this.#res, call);
      this.#start(this.#calls);
    } catch (err) {
      this.#report(err);
    }
  }

  /** First call of this request: mint a visitor if asked to, then hook the response end. */
  #start(calls: HeldCalls<Req, Res>): void {
    try {
      // The request's view now, not after the response: the framework's (Express's req.app) can change by then.
      if (this.#hasOptedOut()) return this.#silence();
      if (this.#config.setVisitorCookie) this.#mintVisitor();
    } catch (err) {
      this.#report(err); // the calls are still held, and handed over below
    }
    calls.start();
  }

  /**
   * Whether the request sends, and as whom (see `decide`), asked once per
   * request by the held calls. The request is read now, synchronously (a
   * throw is the caller's): what runs after an async hook must not throw.
   * @internal
   */
  [kDecide](): Decision | Promise<Decision> {
    if (this.context.gpc && this.#config.gpc === 'drop') return 'filtered';
    let skipped: boolean | Promise<boolean>;
    try {
      skipped = this.#skip();
    } catch (err) {
      return hookFailed(this.#config.client, hookError('skip', 'threw', err));
    }
    return decide(this.#config, this.#req, skipped, {
      userId: this.#mintedUserId ?? this.#context?.userId,
    });
  }

  /**
   * `skip`, asked once per request, by the hand-off or by an experiment's
   * impression, whichever needs it first. A sync throw is the caller's; an
   * async answer settles within `hookTimeoutMs` or rejects with the report.
   */
  #skip(): boolean | Promise<boolean> {
    if (this.#skipped === undefined) {
      const answer = this.#config.skip?.(this.#req) ?? false;
      this.#skipped = isThenable(answer)
        ? settleHook('skip', answer, this.#config.hookTimeoutMs)
        : Boolean(answer);
    }
    return this.#skipped;
  }

  /**
   * `setVisitorCookie`: a request without the visitor cookie gets a fresh
   * UUID v4 as its visitor, set as the cookie the browser SDK reads (path /,
   * a year, readable by JavaScript), so the SDK adopts it on the next page.
   * Only while the cookie can still be set: an id the browser never gets
   * would make each such event a visitor of its own (see `queueEvent`).
   */
  #mintVisitor(): void {
    if (this.#mintedUserId || this.context.userId) return;
    const { response, cookieName, cookieDomain } = this.#config;
    if (response.headersSent(this.#res))
      return void (this.#noVisitorCookie =
        response.noCookieReason?.(this.#res, 'visitor') ?? HEADERS_SENT);
    this.#mintedUserId = platform.randomUUID();
    this.#mintedCookie = visitorCookie(
      cookieName,
      this.#mintedUserId,
      cookieDomain,
      this.#request().protocol() === 'https',
    );
    response.addCookie(this.#res, this.#mintedCookie);
  }

  #report(err: unknown): void {
    reportFailure(this.#config.client, err);
  }
}

/**
 * The request's tracker. One request has one, however often `ours()` runs on
 * it (mounted at app level and again on a router, or two `ours()`): a second
 * tracker would mint a second visitor and lose a `setIdentity()` made before
 * it. The first one's options apply; another `ours()` says so at debug level.
 * @internal
 */
export function requestTracker<Req, Res>(
  existing: RequestTracker<Req, Res> | undefined,
  config: MiddlewareConfig<Req, Res>,
  sourceOf: (req: Req, socketAddress: string | undefined) => RequestSource,
  res: Res,
  req: Req,
  socket: { readonly remoteAddress?: string | undefined } | undefined,
): RequestTracker<Req, Res> {
  // The socket address is the one thing read now: it is gone once the client disconnects.
  if (!(existing instanceof RequestTracker))
    return new RequestTracker(config, sourceOf, res, req, socket?.remoteAddress);
  return sharedTracker(existing, config);
}

/**
 * `existing`, the tracker another mount made for the request: it serves,
 * with its options; a mount of another `ours()` says so, at debug level.
 * @internal
 */
export function sharedTracker<T extends RequestTracker<Req, Res>, Req, Res>(
  existing: T,
  config: MiddlewareConfig<Req, Res>,
): T {
  if (!existing[kMadeBy](config)) config.noteMountedTwice();
  return existing;
}
