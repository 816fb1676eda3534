import type { OursClient } from '../client';
import { kAcceptHeld, kRelease } from '../client/side-channels';
import { OursError } from '../errors';
import type { IdentifyEvent, TrackEvent } from '../events';
import { isThenable } from '../is-thenable';
import { reportFailure } from './decide';
import { hookError, settleHook } from './hook';
import type { MiddlewareConfig } from './middleware-config';
import type { BeforeSendResult } from './middleware-options';

/** Why `setVisitorCookie` could not mint a visitor, where the adapter does not say (see `ResponseControl.noCookieReason`). */
export const HEADERS_SENT =
  "the response headers were already sent at the request's first track(). Track before the response starts streaming.";

/** The report of an event `setVisitorCookie` could give no visitor: `reason`, why no cookie could be set. */
const noVisitor = (reason: string): string =>
  `setVisitorCookie: no visitor cookie could be set, so the event has no visitor (no ours_device_id, identify or setIdentity) and is not sent: ${reason}`;

/**
 * Hands one built event of a held call to the client, through `beforeSend`
 * (a track's and an identify's alike); returns the Promise of an async
 * `beforeSend` (which never rejects). Every event ends queued or released
 * with a reason. `noCookie`: why `setVisitorCookie` could not set the
 * cookie, when it could not; an event without a visitor is then not sent.
 */
export function queueEvent<Req>(
  config: MiddlewareConfig<Req, unknown>,
  req: Req,
  kind: 'track' | 'identify',
  event: TrackEvent | IdentifyEvent,
  noCookie: string | undefined,
): Promise<void> | undefined {
  const { client, beforeSend } = config;
  if (!beforeSend) return accept(client, kind, event, noCookie);
  let out: ReturnType<typeof beforeSend>;
  try {
    out = beforeSend(event, req);
  } catch (err) {
    reportFailure(client, hookError('beforeSend', 'threw', err));
    return void client[kRelease]('hook_failed', 1);
  }
  if (!isThenable(out)) return afterBeforeSend(client, out, kind, event, noCookie);
  return settleHook('beforeSend', out, config.hookTimeoutMs).then(
    (final) => afterBeforeSend(client, final, kind, event, noCookie),
    (err: OursError) => {
      reportFailure(client, err);
      client[kRelease]('hook_failed', 1);
    },
  );
}

/** What `beforeSend` returned: `null` drops; `undefined` keeps the event as the hook left it. */
function afterBeforeSend(
  client: OursClient,
  out: BeforeSendResult,
  kind: 'track' | 'identify',
  event: TrackEvent | IdentifyEvent,
  noCookie: string | undefined,
): undefined {
  if (out === null || (out as unknown) === false) return void client[kRelease]('filtered', 1);
  return accept(client, kind, out ?? event, noCookie);
}

function accept(
  client: OursClient,
  kind: 'track' | 'identify',
  event: TrackEvent | IdentifyEvent,
  noCookie: string | undefined,
): undefined {
  try {
    if (noCookie !== undefined && !event.userId && !event.externalId && !event.email) {
      client[kRelease]('invalid', 1);
      return void reportFailure(client, new OursError(noVisitor(noCookie)));
    }
    client[kAcceptHeld](kind, event);
  } catch (err) {
    reportFailure(client, err); // `strict`: the client threw what it counted
  }
  return undefined;
}
