/**
 * Next.js (14, 15, 16; App Router): `withOurs(handler, options)` for route
 * handlers and `middleware.ts`, `await oursTracker(options)` for server
 * components and server actions.
 */
import { OursClient } from '../../src/client';
import type { MiddlewareOptions } from '../../src/request/middleware-options';
import { nextAfter, nextHeaders } from './next-server';

/** TEMPORARY until the fetch layer lands. */
export interface NextTracker {
  track(event: string, properties?: Record<string, string | number | boolean>): void;
  readonly context: { userId?: string | undefined };
}

export type OursNextOptions = MiddlewareOptions<Request>;

function tempTracker(client: OursClient, deliver: (p: Promise<unknown>) => void): NextTracker {
  return {
    track(event, properties) {
      client.track({ event, userId: 'temp-user', eventProperties: properties as Record<string, string> });
      deliver(client.flush());
    },
    context: {},
  };
}

function deliveryFor(ctx: unknown): (p: Promise<unknown>) => void {
  const after = nextAfter();
  return (p) => {
    if (after) {
      try {
        return after(() => p);
      } catch {}
    }
    const wu = (ctx as { waitUntil?: (p: Promise<unknown>) => void } | undefined)?.waitUntil;
    if (typeof wu === 'function') wu.call(ctx, p);
  };
}

export function withOurs<Ctx extends object = {}, Req extends Request = Request, Res extends Response | undefined | void = Response>(
  handler: (request: Req, ctx: Ctx & { ours: NextTracker }) => Res | Promise<Res>,
  options: OursNextOptions,
): (request: Req, ctx: Ctx) => Promise<Res> {
  const client = options.client!;
  return async (request, ctx) => {
    const withTracker = Object.assign(ctx ?? ({} as Ctx), { ours: tempTracker(client, deliveryFor(ctx)) });
    return handler(request, withTracker);
  };
}

export async function oursTracker(options: OursNextOptions): Promise<NextTracker> {
  const { headers } = nextHeaders();
  await headers();
  return tempTracker(options.client!, deliveryFor(undefined));
}
