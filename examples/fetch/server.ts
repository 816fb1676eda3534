/**
 * Runs the fetch example on the runtime it is started with, each with its own
 * server and its way of telling the peer's address:
 *   bun examples/fetch/server.ts
 *   deno run --allow-net --allow-env --allow-read --sloppy-imports examples/fetch/server.ts
 *   npx tsx examples/fetch/server.ts        (Node, through @hono/node-server)
 * with OURS_TOKEN and PORT set. On a Worker the same handler is
 * `fetch: (request, env, ctx) => handle(request, { waitUntil: (p) => ctx.waitUntil(p) })`.
 */
import { serve } from '@hono/node-server';
import { createHandler } from './app';

const { handle } = createHandler(); // token: process.env.OURS_TOKEN; Ctrl-C or SIGTERM delivers what is queued first (`handleSignals`)
const port = Number(globalThis.process?.env.PORT ?? 3000);

interface BunServer {
  requestIP(request: Request): { address: string } | null;
}
const { Bun, Deno } = globalThis as {
  Bun?: {
    serve(options: { port: number; fetch(request: Request, server: BunServer): Response }): unknown;
  };
  Deno?: {
    serve(
      options: { port: number },
      handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response,
    ): unknown;
  };
};

if (Bun)
  Bun.serve({
    port,
    fetch: (request, server) =>
      handle(request, { remoteAddress: server.requestIP(request)?.address }),
  });
else if (Deno)
  Deno.serve({ port }, (request, info) =>
    handle(request, { remoteAddress: info.remoteAddr.hostname }),
  );
else
  serve({
    port,
    fetch: (request, env: { incoming: { socket: { remoteAddress?: string } } }) =>
      handle(request, { remoteAddress: env.incoming.socket.remoteAddress }),
  });
console.log(`fetch example on port ${port}`);
