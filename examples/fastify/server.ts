/**
 * Runs the Fastify example: `OURS_TOKEN=... PORT=3000 npx tsx examples/fastify/server.ts`.
 * On SIGTERM or SIGINT, `app.close()` finishes the requests in progress and
 * shuts down the client the plugin made (it delivers what is queued).
 */
import { createApp } from './app';

const app = createApp({ handleSignals: false }); // token: process.env.OURS_TOKEN; the app closes itself on signals
app
  .listen({ port: Number(process.env.PORT ?? 3000) })
  .then((address) => console.log(`Fastify example on ${address}`));

const stop = (signal: NodeJS.Signals): void => {
  console.log(`${signal}: closing`);
  void app.close().finally(() => process.exit(0));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
