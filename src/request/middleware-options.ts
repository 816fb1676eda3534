import type { OursClient } from '../client';
import type { Identity, IdentifyEvent, TrackEvent } from '../events';
import type { ClientOptions } from '../options';
import type { TrustPreset, TrustSetting } from './client-ip';
import type { ConsentOption } from './consent';
import type { RedactOption } from './redact-option';

/**
 * What `beforeSend` returns: the event to send, `null` to drop it, or
 * nothing (`void`: a hook that only changes the event in place) to send it as the hook left it.
 */
export type BeforeSendResult = TrackEvent | IdentifyEvent | null | undefined | void;

/**
 * Options of `ours()` in every adapter. `Req` is the framework's request
 * (Express `req`, Koa `ctx`). Pass a shared `client`, or client options to
 * let the middleware make its own (`ours(opts).client`).
 */
export interface MiddlewareOptions<Req> extends ClientOptions {
  /**
   * A client to share with the rest of the app, instead of client options.
   * @remarks Without it, `ours()` calls with identical client options share
   * one client while it is open (see `ours(...).client`).
   */
  client?: OursClient | undefined;
  /** Cookie holding the Ours Visitor ID. @defaultValue 'ours_device_id' (the browser SDK's) */
  cookieName?: string | undefined;
  /** Read the end user's IP. `false` leaves it out of every event. @defaultValue true */
  collectIp?: boolean | undefined;
  /**
   * Which proxies to trust for `X-Forwarded-For` (proxy-addr semantics: hop
   * count, CIDR list, or `(addr, i) => boolean`), or the platform whose edge
   * sets the client's address: `'cloudflare'`, `'vercel'`.
   * @remarks For apps that have not configured their framework's own trust.
   * It governs protocol and host too, as Express's `trust proxy` does: from
   * a trusted peer, the first value of `X-Forwarded-Proto` and
   * `X-Forwarded-Host` make `current_url` (and `https` a `Secure` visitor
   * cookie); the presets read `X-Forwarded-Proto` only. `Forwarded` (RFC
   * 7239) is not read, as Express and Koa do not.
   * `'cloudflare'` reads `CF-Connecting-IP`, `'vercel'` `X-Real-IP`, then
   * `X-Forwarded-For`; anywhere else a client could forge those. The default
   * is Express's `trust proxy`, Koa's `app.proxy` + `app.maxIpsCount`,
   * Fastify's `trustProxy`; fetch and Hono: the peer address when given, else none.
   * @defaultValue the framework's setting
   */
  trustProxy?: TrustSetting | TrustPreset | undefined;
  /**
   * Where else the IP may come from: a function (it wins over all), or
   * `'request-ip'`, which trusts client-settable headers (forgeable).
   * @remarks `'request-ip'` reads the first address in `X-Client-IP`,
   * `X-Forwarded-For` and CDN headers: use it only where an edge overwrites
   * those headers. Needs the `request-ip` package installed.
   */
  clientIp?: 'request-ip' | ((req: Req) => string | undefined) | undefined;
  /**
   * Requests to ignore entirely (health checks): `true` sends none of the
   * request's calls (counted as dropped, reason `filtered`). Asked once per
   * request, after its response, and may be async.
   */
  skip?: ((req: Req) => boolean | Promise<boolean>) | undefined;
  /**
   * Resolves `externalId`/`email` from the app's session, e.g.
   * `(req) => ({ externalId: req.user?.id })`, or `async (req) => ...`.
   * Asked once per request, after its response.
   */
  identify?: ((req: Req) => Identity | undefined | Promise<Identity | undefined>) | undefined;
  /**
   * Redact, enrich or drop each event before it is queued; may be async.
   * Return the event (changed in place or a new one), `null` to drop it, or
   * nothing to send it as the hook left it. Each call gets its own event: a
   * change to one never shows in another.
   * @remarks Identify calls (`req.ours.identify()`) go through it too, as an
   * `IdentifyEvent`: `'event' in event` is true for a track only, and narrows
   * the type (docs/requests-and-hooks.md, "beforeSend sees identify calls").
   */
  beforeSend?:
    | ((
        event: TrackEvent | IdentifyEvent,
        req: Req,
      ) => BeforeSendResult | Promise<BeforeSendResult>)
    | undefined;
  /**
   * How long an async `skip`, `identify` or `beforeSend` may take; past it,
   * or when it throws or rejects, its events are dropped (`hook_failed`).
   * @remarks The failure is reported on the client's `error` event; the events
   * are never sent unchecked. @defaultValue 5000
   */
  hookTimeoutMs?: number | undefined;
  /**
   * When the browser sends `Sec-GPC: 1`: `'annotate'` sets
   * `eventProperties.gpc = 'true'`; `'consent'` sends
   * `userProperties.consent.advertising = 'false'`; `'drop'` sends nothing
   * for that request; `'ignore'` does none of these.
   * @remarks `eventProperties` cannot overwrite stored consent, so Ours'
   * destination rules can act on it; `'consent'` is what Ours'
   * `autoDisableOnGPC` does in the browser. @defaultValue 'annotate'
   */
  gpc?: 'annotate' | 'consent' | 'drop' | 'ignore' | undefined;
  /**
   * Redaction of `current_url`, `referrer` and `pathname`: an array adds
   * keys; a function `(url, req) => string | undefined` replaces the rules;
   * `{ keys, url, pathname }` also templates paths; `false` sends URLs as they are.
   * @remarks On by default: the values of secret and personal query
   * parameters (tokens, codes, passwords, keys, session ids,
   * email/phone/name-like keys; the list is in docs/privacy.md) and
   * email-like values become `REDACTED`, keys kept; campaign parameters never.
   * @defaultValue the documented rules
   */
  redact?: RedactOption<Req> | undefined;
  /**
   * The visitor's consent, sent as `userProperties.consent` of every event:
   * `(req) => ({ analytics: true, advertising: false })`, or `'cookie'` for
   * the Ours consent banner's `op_consent` cookie (`{ cookie: name }` for another).
   * @remarks Ours' mappers and Global Consent Center act on it. Nothing is
   * attached when it yields nothing. @defaultValue none
   */
  consent?: ConsentOption<Req> | undefined;
  /**
   * Opt-in, a consent decision: when a tracked request has no visitor cookie,
   * mint a UUID v4, use it as `userId` and set it as the cookie with the
   * browser SDK's attributes, so the SDK adopts the same visitor. @defaultValue false
   */
  setVisitorCookie?: boolean | undefined;
  /** `Domain` of a cookie set by `setVisitorCookie`, e.g. `.example.com`. @defaultValue host-only */
  cookieDomain?: string | undefined;
  /** Serverless: receives each delivery promise (Vercel's or Cloudflare's `waitUntil`). */
  waitUntil?: ((promise: Promise<unknown>) => void) | undefined;
  /**
   * Serverless without `waitUntil`: hold `res.end()` until this request's
   * events are delivered, at most `timeoutMs` (`true`: 2000 ms). @defaultValue false
   */
  flushOnResponse?: boolean | { timeoutMs: number } | undefined;
}
