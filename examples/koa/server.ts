/**
 * Runs the Koa example on PORT (default 3000), sending to Ours with the
 * OURS_TOKEN environment variable (and OURS_API_URL, if set):
 *
 *     OURS_TOKEN=... PORT=3000 npx tsx examples/koa/server.ts
 *
 * On SIGTERM or SIGINT it stops taking requests, lets those in progress end
 * (their events are handed over as each response finishes), then shuts the
 * client down, which delivers what is still queued within 5 s.
 */
import { createApp } from './app';

const port = Number(process.env.PORT ?? 3000);
const { app, tracking } = createApp(); // token: process.env.OURS_TOKEN
tracking.client.on('error', (err) => console.error(`[ours] ${err.message}`));

const server = app.listen(port, () => console.log(`Koa example on http://localhost:${port}`));

let stopping = false;
async function stop(signal: NodeJS.Signals): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`${signal}: closing`);
  await new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
    setTimeout(() => server.closeAllConnections(), 5000).unref(); // keep-alive clients that linger
  });
  const report = await tracking.client.shutdown({ timeoutMs: 5000 });
  console.log(
    `events: ${report.delivered} delivered, ${report.failed} failed, ${report.dropped} dropped`,
  );
  process.exit(report.failed > 0 ? 1 : 0);
}
process.on('SIGTERM', (signal) => void stop(signal));
process.on('SIGINT', (signal) => void stop(signal));
