import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { expect } from 'chai';
import { httpFetch } from '../../src/node-http-fetch';
import { MAX_RESPONSE_CHARS } from '../../src/client/post-events';

type Handler = (req: IncomingMessage, res: ServerResponse, nth: number) => void;

/** A loopback server that numbers the requests of each connection (1, 2, ...). */
async function serve(
  handler: Handler,
): Promise<{ url: string; sockets: Set<Socket>; server: Server }> {
  const sockets = new Set<Socket>();
  const perSocket = new WeakMap<Socket, number>();
  const server = createServer((req, res) => {
    const nth = (perSocket.get(req.socket) ?? 0) + 1;
    perSocket.set(req.socket, nth);
    req.resume();
    req.on('end', () => handler(req, res, nth));
  });
  server.keepAliveTimeout = 30_000; // the client's pool, not the server, decides when idle sockets go
  server.on('connection', (s) => sockets.add(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/v1/batch`,
    sockets,
    server,
  };
}

const init = (signal = new AbortController().signal) => ({
  method: 'POST' as const,
  headers: { 'content-type': 'application/json' },
  body: '{"events":[]}',
  signal,
  redirect: 'manual' as const,
});

describe('client transport: the default fetch (node:http, kept alive)', () => {
  const servers: Server[] = [];
  const start = async (handler: Handler) => {
    const s = await serve(handler);
    servers.push(s.server);
    return s;
  };
  afterEach(() => {
    for (const s of servers.splice(0)) (s.closeAllConnections(), s.close());
  });

  it('an already-aborted signal rejects at once and opens no connection', async () => {
    let requests = 0;
    const { url, sockets } = await start((_req, res) => void (requests++, res.end('{}')));
    const fetch = httpFetch(1);
    const controller = new AbortController();
    controller.abort(new Error('cancelled by shutdown'));
    let failure: unknown;
    await fetch(url, init(controller.signal)).catch((err: unknown) => (failure = err));
    expect((failure as Error)?.message).to.equal('cancelled by shutdown');
    await sleep(50);
    expect({ connections: sockets.size, requests }).to.deep.equal({ connections: 0, requests: 0 });
  });

  it('reuses one connection for requests one after another, sending content-length and the headers given', async () => {
    const seen: IncomingMessage['headers'][] = [];
    const { url, sockets } = await start((req, res) => {
      seen.push(req.headers);
      res.end('{"success":true}');
    });
    const fetchFn = httpFetch(4);
    for (let i = 0; i < 3; i++) {
      const res = await fetchFn(url, init());
      expect(res.status).to.equal(200);
      expect(await res.text()).to.equal('{"success":true}');
    }
    expect(sockets.size).to.equal(1);
    expect(seen[0]).to.include({ 'content-type': 'application/json', 'content-length': '13' });
    expect(seen[0]).to.not.have.property('accept-encoding'); // answers come uncompressed
  });

  it('hands a redirect back instead of following it (the token must not travel elsewhere)', async () => {
    let hits = 0;
    const { url } = await start((_req, res) => {
      hits++;
      res.writeHead(307, { location: 'http://127.0.0.1:9/elsewhere' }).end();
    });
    const res = await httpFetch(4)(url, init());
    expect(res.status).to.equal(307);
    expect(res.headers.get('location')).to.equal('http://127.0.0.1:9/elsewhere');
    expect(hits).to.equal(1);
  });

  it(`stops reading an answer past ${MAX_RESPONSE_CHARS} characters`, async () => {
    const { url } = await start((_req, res) => {
      res.write('x'.repeat(MAX_RESPONSE_CHARS));
      res.write('y'.repeat(1024 * 1024)); // and would go on
      res.end();
    });
    const text = await (await httpFetch(4)(url, init())).text();
    expect(text.length).to.equal(MAX_RESPONSE_CHARS + 1);
  });

  it('sends once more on a fresh connection when a kept-alive one was closed by the server as it was reused', async () => {
    const { url, sockets } = await start((req, res, nth) => {
      if (nth === 2) return req.socket.destroy(); // the race: the server gave up on the idle socket
      res.end('{"success":true}');
    });
    const fetchFn = httpFetch(4);
    expect((await fetchFn(url, init())).status).to.equal(200);
    const res = await fetchFn(url, init());
    expect(res.status).to.equal(200);
    expect(sockets.size).to.equal(2);
  });

  it('does not resend when a fresh connection fails: that error is the answer', async () => {
    let hits = 0;
    const { url } = await start((req) => {
      hits++;
      req.socket.destroy();
    });
    const err = await httpFetch(4)(url, init()).then(
      () => undefined,
      (e: NodeJS.ErrnoException) => e,
    );
    expect(err?.code).to.equal('ECONNRESET');
    expect(hits).to.equal(1);
  });

  it('aborts on the signal while the answer is still coming', async () => {
    const { url } = await start((_req, res) => res.write('{"succ')); // headers and a part, then nothing
    const controller = new AbortController();
    const res = await httpFetch(4)(url, init(controller.signal));
    const reading = res.text().then(
      () => 'read',
      (e: Error) => `${e.name}: ${e.message}`,
    );
    controller.abort(new Error('deadline'));
    expect(await reading).to.equal('Error: aborted'); // the client's post() reports the signal's reason instead
  });

  it('closes a socket idle past its timeout, and never a busy one (an answer slower than that still arrives)', async () => {
    const { url, sockets } = await start((_req, res) =>
      setTimeout(() => res.end('{"success":true}'), 300),
    );
    const fetchFn = httpFetch(4, 100);
    const res = await fetchFn(url, init()); // busy for 300 ms, three times the idle timeout
    expect(res.status).to.equal(200);
    expect(await res.text()).to.equal('{"success":true}');
    const [socket] = sockets;
    await sleep(250); // idle now, past 100 ms
    expect(socket!.destroyed).to.equal(true);
  });

  it('leaves no kept-alive socket that keeps the process alive', async () => {
    const { url } = await start((_req, res) => res.end('{"success":true}'));
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', join(__dirname, 'fixtures', 'one-post.ts'), url],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    let doneAt = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (!doneAt && out.includes('DONE')) doneAt = Date.now();
    });
    const [code] = (await once(child, 'exit')) as [number];
    expect(out.trim()).to.equal('DONE 200 {"success":true}');
    expect(code).to.equal(0);
    expect(Date.now() - doneAt).to.be.below(3000); // the pool keeps idle sockets 4 s, unref'd
  });
});
