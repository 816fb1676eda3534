/**
 * Runs the node:http example: `OURS_TOKEN=... PORT=3000 npx tsx examples/node/server.ts`.
 * On SIGTERM or SIGINT it stops taking requests, then shuts the client down,
 * delivering what is queued.
 */
import { createApp } from './app';

const { server, track } = createApp({ handleSignals: false }); // token: process.env.OURS_TOKEN
server.listen(Number(process.env.PORT ?? 3000), () =>
  console.log(`node:http example on port ${(server.address() as { port: number }).port}`),
);

const stop = (signal: NodeJS.Signals): void => {
  console.log(`${signal}: closing`);
  server.close(() => void track.client.shutdown().finally(() => process.exit(0)));
  server.closeIdleConnections();
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
