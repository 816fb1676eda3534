/**
 * Runs the Nest example: `PLATFORM=fastify OURS_TOKEN=... PORT=3000 npx tsx
 * --tsconfig examples/nest/tsconfig.json examples/nest/server.ts`. Prints
 * `listening on <port>`; on SIGTERM closes the app, then shuts the client down.
 */
import { OursClient } from '../../src/index';
import { createNestApp } from './app';

async function main(): Promise<void> {
  const platform = process.env.PLATFORM === 'fastify' ? 'fastify' : 'express';
  // The app owns the signal: it closes Nest first, then the client delivers what is queued.
  const client = new OursClient({
    token: process.env.OURS_TOKEN,
    apiUrl: process.env.OURS_API_URL,
    handleSignals: false,
  });
  const app = await createNestApp(platform, client);
  await app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1');
  const address = app.getHttpServer().address() as { port: number };
  console.log(`${platform}: listening on ${address.port}`);
  process.once('SIGTERM', async () => {
    await app.close();
    const report = await client.shutdown();
    console.log(`shut down: ${report.delivered} delivered, ${report.failed} failed`);
  });
}

void main();
