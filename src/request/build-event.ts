import type { DefaultProperties } from '../contract/types';
import type {
  Identity,
  IdentifyEvent,
  PropertyMap,
  TrackEvent,
  UserPropertiesInput,
} from '../events';
import type { OursClient } from '../client';
import { kReport } from '../client/side-channels';
import { OursError } from '../errors';
import { withGpc, type ConsentMap, type ConsentReader } from './consent';
import type { RequestContext } from './extract-context';
import type { HeldCall, IdentifyOverrides, TrackOverrides } from './held-call';
import { redactUrlFields, type UrlPolicy } from './redact-option';
import type { RequestSource } from './request-source';

/*
 * The events of a request's calls, built from what was read from the request
 * and what the call set. Shared objects (the request's `defaultProperties`,
 * its identity) are never stored into: an event a hook will see (`own`) gets
 * copies of its own. Object spreads are avoided on the common path
 * (docs/architecture.md, "The hot path").
 */

/**
 * A track call's event. `merged`: the call's `defaultProperties` over the
 * request's, already redacted, when it set any; `annotateGpc`: add
 * `eventProperties.gpc`.
 */
export function buildTrackEvent(
  call: HeldCall,
  base: Identity,
  ctx: RequestContext,
  own: boolean,
  annotateGpc: boolean,
  merged: DefaultProperties | undefined,
): TrackEvent {
  const overrides = call.overrides as TrackOverrides | undefined;
  let eventProperties = call.properties as PropertyMap | undefined;
  if (annotateGpc) eventProperties = { ...eventProperties, gpc: 'true' };
  else if (own && eventProperties) eventProperties = { ...eventProperties };
  const identityContext =
    own && ctx.identityContext ? { ...ctx.identityContext } : ctx.identityContext;
  if (overrides) {
    return {
      ...withIdentity(base, call.identity),
      event: call.name,
      time: call.time,
      eventProperties,
      defaultProperties: merged ?? (own ? ownCopy(ctx.defaultProperties) : ctx.defaultProperties),
      identityContext,
      ...withoutMerged(overrides),
    };
  }
  // The common case, built by named stores on a copy: the same object as the literal above.
  const identity = withIdentity(base, call.identity);
  // `base` is shared by every call of this request: never store into it.
  const event = (identity === base ? copyIdentity(base) : identity) as TrackEvent;
  event.event = call.name;
  event.time = call.time;
  event.eventProperties = eventProperties;
  event.defaultProperties = own ? ownCopy(ctx.defaultProperties) : ctx.defaultProperties;
  event.identityContext = identityContext;
  return event;
}

/** An identify call's event; `own` and `merged` as for {@link buildTrackEvent}. */
export function buildIdentifyEvent(
  call: HeldCall,
  base: Identity,
  ctx: RequestContext,
  own: boolean,
  merged: DefaultProperties | undefined,
): IdentifyEvent {
  const userProperties = call.properties as UserPropertiesInput;
  return {
    ...withIdentity(base, call.identity),
    userProperties: own ? { ...userProperties } : userProperties,
    defaultProperties: merged ?? (own ? ownCopy(ctx.defaultProperties) : ctx.defaultProperties),
    identityContext: own && ctx.identityContext ? { ...ctx.identityContext } : ctx.identityContext,
    ...withoutMerged(call.overrides as IdentifyOverrides | undefined),
  };
}

/** `base` with the defined identity fields of `more` on top (an explicit `undefined` does not erase). */
export function withIdentity(base: Identity, more: Identity | undefined): Identity {
  if (!more) return base;
  const out = copyIdentity(base);
  if (more.userId !== undefined) out.userId = more.userId;
  if (more.externalId !== undefined) out.externalId = more.externalId;
  if (more.email !== undefined) out.email = more.email;
  return out;
}

/** `{ ...identity }` for the identities built here (own keys among `userId`, `externalId`, `email`), without a spread. */
function copyIdentity(identity: Identity): Identity {
  const out: Identity = {};
  const keys = Object.keys(identity) as (keyof Identity)[];
  for (let i = 0; i < keys.length; i++) out[keys[i]!] = identity[keys[i]!];
  return out;
}

/** A copy a hook may change freely: `Object.assign` over the ~25 fields of `defaultProperties`, not a spread (see above). */
function ownCopy<T extends object>(shared: T): T {
  return Object.assign({}, shared);
}

/**
 * Overrides minus `defaultProperties`, which is merged field by field, and
 * minus fields left `undefined` (`{ userId: session.id }` with no session
 * must not erase the visitor read from the cookie; `null` does erase).
 */
function withoutMerged<T extends { defaultProperties?: unknown }>(
  overrides: T | undefined,
): Omit<T, 'defaultProperties'> | undefined {
  if (!overrides) return undefined;
  const { defaultProperties: _merged, ...rest } = overrides;
  for (const key of Object.keys(rest) as (keyof typeof rest)[])
    if (rest[key] === undefined) delete rest[key];
  return rest;
}

/** The request's `defaultProperties` with a call's on top; URLs the call passes are redacted like the request's (`redact`). */
export function mergeDefaults(
  request: DefaultProperties,
  more: DefaultProperties,
  redact: ReturnType<UrlPolicy<unknown>['forRequest']> | undefined,
): DefaultProperties {
  const merged = { ...request, ...more };
  if (redact) redactUrlFields(merged, redact);
  return merged;
}

/**
 * A request's consent (`consent` option; `gpc`: `gpc: 'consent'` and the
 * browser sent `Sec-GPC`), read once per request; a throwing hook attaches none.
 */
export function readConsent<Req>(
  config: {
    readonly client: OursClient;
    readonly warnOnce: (key: string, message: string) => void;
  },
  reader: ConsentReader<Req> | undefined,
  req: Req,
  source: RequestSource,
  gpc: boolean,
): ConsentMap | undefined {
  let map: ConsentMap | undefined;
  try {
    map = reader?.read(req, source, () =>
      config.warnOnce(
        'consent-cookie',
        'a consent cookie in an unknown format was ignored: no consent attached',
      ),
    );
  } catch (err) {
    config.client[kReport](
      new OursError(`a consent hook threw: ${(err as Error)?.message ?? String(err)}`),
    );
  }
  return gpc ? withGpc(map) : map;
}
