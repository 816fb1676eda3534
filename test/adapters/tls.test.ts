/**
 * Served over TLS (no proxy): the event's `current_url` says `https` and a
 * minted visitor cookie has `Secure` (and `SameSite=None`), on every adapter
 * behind `https.createServer`, on node:http2's secure server with
 * `oursNode()`, and on Fastify's own `https` and `http2: true, https` servers.
 */
import { once } from 'node:events';
import { readFileSync, rmSync } from 'node:fs';
import { connect, createSecureServer } from 'node:http2';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import fastify5, { type FastifyRequest } from 'fastify';
import fastify4 from 'fastify4';
import { ours as oursFastify } from '../../adapters/fastify';
import { oursNode } from '../../adapters/node';
import { selfSignedCert } from '../security/self-signed';
import { clientFor, withMock } from '../support/client';
import { adapterSuite, closeServer } from './harness';

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';

interface Tls {
  key: Buffer;
  cert: Buffer;
}

/** A certificate for 127.0.0.1, made once for the file; undefined (tests skipped) without openssl. */
function withCert(): { tls?: Tls } {
  const box: { tls?: Tls } = {};
  let dir: string | undefined;
  before(function () {
    const made = selfSignedCert();
    if (!made) return this.skip();
    dir = made.dir;
    box.tls = { key: readFileSync(made.keyPath), cert: readFileSync(made.certPath) };
  });
  after(() => dir && rmSync(dir, { recursive: true, force: true }));
  return box;
}

/** GET over HTTPS/1.1, trusting `tls.cert`: the status and the Set-Cookie lines. */
async function httpsGet(
  tls: Tls,
  port: number,
  path: string,
): Promise<{ status: number; cookies: string[] }> {
  const req = request({
    host: '127.0.0.1',
    port,
    path,
    ca: tls.cert,
    agent: false,
    headers: { 'user-agent': UA },
  });
  req.end();
  const [res] = (await once(req, 'response')) as [import('node:http').IncomingMessage];
  res.resume();
  await once(res, 'end');
  return { status: res.statusCode ?? 0, cookies: res.headers['set-cookie'] ?? [] };
}

/** GET over HTTP/2 with TLS, trusting `tls.cert`: the status and the Set-Cookie lines. */
async function h2sGet(
  tls: Tls,
  port: number,
  path: string,
): Promise<{ status: number; cookies: string[] }> {
  const session = connect(`https://127.0.0.1:${port}`, { ca: tls.cert });
  try {
    const req = session.request({ ':path': path, 'user-agent': UA });
    const [head] = (await once(req, 'response')) as [Record<string, string | string[]>];
    req.resume();
    await once(req, 'end');
    const cookies = head['set-cookie'] ?? [];
    return {
      status: Number(head[':status']),
      cookies: Array.isArray(cookies) ? cookies : [cookies],
    };
  } finally {
    session.close();
  }
}

function expectSecureVisitor(cookies: string[]): void {
  const visitor = cookies.find((c) => c.startsWith('ours_device_id='));
  expect(visitor, 'a visitor cookie is minted').to.be.a('string');
  expect(visitor)
    .to.match(/;\s*Secure/i)
    .and.match(/SameSite=None/i);
}

adapterSuite('adapter: served over HTTPS', (t) => {
  const box = withCert();
  it('current_url says https and the minted visitor cookie is Secure', async () => {
    const client = t.client();
    const mw = t.fw.ours({ client, setVisitorCookie: true });
    const listener = await t.fw.app(
      mw,
      () =>
        ({ ours }) =>
          void ours.track('E'),
      [],
    );
    const server: Server = createServer(box.tls!, listener);
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const { status, cookies } = await httpsGet(box.tls!, port, '/p?q=1');
      expect(status).to.equal(200);
      expectSecureVisitor(cookies);
      const [event] = await t.mock.waitFor(1);
      expect(event!.defaultProperties!.current_url).to.equal(`https://127.0.0.1:${port}/p?q=1`);
    } finally {
      await closeServer(server as unknown as import('node:http').Server);
    }
  });
});

describe('adapter: node:http2 secure server (oursNode) and Fastify over TLS', () => {
  const t = withMock();
  const box = withCert();

  it('node:http2 createSecureServer: current_url says https, the visitor cookie is Secure', async () => {
    const { client } = clientFor(t.mock);
    const track = oursNode({ client, setVisitorCookie: true });
    const server = createSecureServer(box.tls!, (req, res) => {
      track(req, res).track('E');
      res.end('ok');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const { status, cookies } = await h2sGet(box.tls!, port, '/h2?x=1');
      expect(status).to.equal(200);
      expectSecureVisitor(cookies);
      const [event] = await t.mock.waitFor(1);
      expect(event!.defaultProperties!.current_url).to.equal(`https://127.0.0.1:${port}/h2?x=1`);
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await client.shutdown();
    }
  });

  for (const [name, create] of [
    ['Fastify 5', fastify5],
    ['Fastify 4', fastify4 as unknown as typeof fastify5],
  ] as const) {
    for (const http2 of [false, true]) {
      it(`${name} with ${http2 ? 'http2: true, ' : ''}https: {...}: current_url says https, the visitor cookie is Secure`, async () => {
        const { client } = clientFor(t.mock);
        // One shape for both servers: the test reads only what they share.
        const app = (http2
          ? create({ http2: true, https: box.tls! })
          : create({ https: box.tls! })) as unknown as ReturnType<typeof fastify5>;
        await app.register(oursFastify, { client, setVisitorCookie: true });
        app.get('/*', async (request: FastifyRequest) => {
          request.ours.track('E');
          return 'ok';
        });
        await app.listen({ port: 0, host: '127.0.0.1' });
        try {
          const { port } = app.server.address() as AddressInfo;
          const { status, cookies } = await (http2 ? h2sGet : httpsGet)(box.tls!, port, '/f?y=2');
          expect(status).to.equal(200);
          expectSecureVisitor(cookies);
          const [event] = await t.mock.waitFor(1);
          expect(event!.defaultProperties).to.deep.include({
            current_url: `https://127.0.0.1:${port}/f?y=2`,
            host: `127.0.0.1:${port}`,
          });
        } finally {
          await app.close();
          await client.shutdown();
        }
      });
    }
  }
});
