import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { handleRequest, type HandlerEnv } from './handle';
import { sendJson } from './replies';

/**
 * A listening `node:http` server that answers like the Ours API, and what it takes to
 * stop it at once.
 *
 * @example
 * const served = await serve({ state, token: undefined, closing: ac.signal }, 0, '127.0.0.1');
 * console.log(served.port);
 */
export interface Served {
  server: Server;
  host: string;
  port: number;
  /** Open sockets, kept so `stop()` can destroy keep-alive and hung ones. */
  sockets: Set<Socket>;
}

/**
 * Starts the server and resolves once it listens (rejects if the port is taken).
 *
 * @example
 * const { port } = await serve(env, 0, '127.0.0.1');
 */
export async function serve(env: HandlerEnv, port: number, host: string): Promise<Served> {
  const server = createServer();
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req, res) => {
    handleRequest(env, req, res).catch((err: unknown) => {
      // A closed mock or a vanished client has nobody to answer; otherwise say what broke
      // (e.g. a rows script that threw), so the test sees it instead of a hang.
      if (env.closing.aborted || res.headersSent || res.destroyed) return void res.destroy();
      sendJson(res, { status: 500, body: { success: false, error: `mock error: ${String(err)}` } });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  return { server, host: address.address, port: address.port, sockets };
}

/**
 * Stops accepting connections and destroys the open ones, rather than waiting for
 * keep-alive timeouts or hung requests: tests must not wait, nor the process stay alive.
 *
 * @example
 * await stop(served);
 */
export function stop({ server, sockets }: Served): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    for (const socket of sockets) socket.destroy();
  });
}
