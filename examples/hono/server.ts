/**
 * Runs the Hono example on Node: `OURS_TOKEN=... PORT=3000 npx tsx examples/hono/server.ts`.
 * The IP comes from the socket through Hono's `getConnInfo`. On SIGTERM or
 * SIGINT it stops taking requests, then shuts the client down, delivering
 * what is queued. (On Workers: `export default app`; deliveries go to
 * `c.executionCtx.waitUntil` by themselves.)
 */
import { serve } from '@hono/node-server';
import { getConnInfo } from '@hono/node-server/conninfo';
import { createApp } from './app';

const { app, tracking } = createApp({ getConnInfo, handleSignals: false }); // token: process.env.OURS_TOKEN
const server = serve({ fetch: app.fetch, port: Number(process.env.PORT ?? 3000) }, ({ port }) =>
  console.log(`Hono example on port ${port}`),
);

const stop = (signal: NodeJS.Signals): void => {
  console.log(`${signal}: closing`);
  server.close(() => void tracking.client.shutdown().finally(() => process.exit(0)));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
