import type { SetupWording } from '../../src/request/setup-wording';

/** How a route handler or middleware.ts sets tracking up, for the messages that name the fix. */
export const NEXT_ROUTE_SETUP: SetupWording = {
  call: 'withOurs()',
  perRequest: '`withOurs(handler, {...})(request, ctx)` inside a handler',
  once: 'Wrap each handler once, where it is exported: `export const POST = withOurs(handler, { client })`, with `client` made once in a module of its own (lib/ours.ts).',
};

/** How a server component or action sets tracking up. */
export const NEXT_RENDER_SETUP: SetupWording = {
  call: 'oursTracker()',
  perRequest:
    '`oursTracker({ client, skip: (r) => ... })` with hooks defined inline, a new function per render',
  once: 'Define the options once in a module of their own (lib/ours.ts: `export const tracking = { client, skip }`) and pass that object: `await oursTracker(tracking)`.',
};
