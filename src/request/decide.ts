import type { OursClient } from '../client';
import { kReport } from '../client/side-channels';
import { OursError } from '../errors';
import type { Identity } from '../events';
import { isThenable } from '../is-thenable';
import { withIdentity } from './build-event';
import type { Decision } from './held-call';
import { hookError, settleHook } from './hook';
import type { MiddlewareConfig } from './middleware-config';

/*
 * Whether a request sends, and as whom: `skip`, then `identify`, asked once
 * per request (the tracker keeps the answer for the calls after the
 * response). Sync hooks decide synchronously; an async one makes it a
 * Promise, which never rejects: a hook that throws, rejects or is too slow
 * is reported and decides `hook_failed`.
 */

/** After `skip` answered (`skipped`; a sync throw is the caller's): the decision. */
export function decide<Req>(
  config: MiddlewareConfig<Req, unknown>,
  req: Req,
  skipped: boolean | PromiseLike<boolean>,
  visitor: Identity,
): Decision | Promise<Decision> {
  if (!isThenable(skipped)) return skipped ? 'filtered' : identify(config, req, visitor);
  return (skipped as Promise<boolean>).then(
    (yes) => (yes ? 'filtered' : identify(config, req, visitor)),
    (err: OursError) => hookFailed(config.client, err),
  );
}

/** The request's identity: the visitor (cookie or minted), then what the app's `identify` resolves. */
function identify<Req>(
  config: MiddlewareConfig<Req, unknown>,
  req: Req,
  visitor: Identity,
): Decision | Promise<Decision> {
  let found: ReturnType<NonNullable<MiddlewareConfig<Req, unknown>['identify']>>;
  try {
    found = config.identify?.(req);
  } catch (err) {
    return hookFailed(config.client, hookError('identify', 'threw', err));
  }
  if (!isThenable(found)) return withIdentity(visitor, found);
  return settleHook('identify', found, config.hookTimeoutMs).then(
    (more) => withIdentity(visitor, more),
    (err: OursError) => hookFailed(config.client, err),
  );
}

/** A hook failed: reported; the request's calls are dropped as `hook_failed`. */
export function hookFailed(client: OursClient, err: OursError): 'hook_failed' {
  client[kReport](err);
  return 'hook_failed';
}

/** Reports a failure of tracking (the app's code, or a request that cannot be read) on the client's `error` event. */
export function reportFailure(client: OursClient, err: unknown): void {
  client[kReport](
    err instanceof OursError
      ? err
      : new OursError(`tracking failed: ${(err as Error)?.message ?? String(err)}`),
  );
}
