import { expect } from 'chai';
import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { oursNode } from '../../adapters/node';
import { clientFor, withMock } from '../support/client';
import { h2get, send } from './harness';

const UA = 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0';

/** What only `ours-middleware/node` has: HTTP/2 requests and `track(req, res)` called again. The shared cases are in the other files. */
describe('adapter: node (plain handlers)', () => {
  const t = withMock();
  let server: Http2Server | Server | undefined;
  afterEach(
    () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  );

  it('an HTTP/2 request (compatibility API): host from :authority, protocol from :scheme, a minted visitor cookie', async () => {
    const { client, errors } = clientFor(t.mock);
    const track = oursNode({ client, setVisitorCookie: true });
    server = createServer((req, res) => {
      track(req, res).track('H2 Viewed');
      res.end('ok');
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const { status, headers: head } = await h2get(port, '/h2?utm_source=h2', { 'user-agent': UA });
    expect(status).to.equal(200);
    const [event] = await t.mock.waitFor(1);
    expect(event!.defaultProperties).to.include({
      host: `127.0.0.1:${port}`,
      current_url: `http://127.0.0.1:${port}/h2?utm_source=h2`,
      utm_source: 'h2',
      ip: '127.0.0.1',
    });
    expect(head['set-cookie']).to.deep.equal([
      `ours_device_id=${event!.userId}; Max-Age=31536000; Path=/; SameSite=Lax`,
    ]);
    expect(errors).to.deep.equal([]);
    await client.shutdown();
  });

  it('track(req, res) called again for the request returns its tracker, so a setIdentity() made earlier holds', async () => {
    const { client } = clientFor(t.mock);
    const track = oursNode({ client });
    const other = oursNode({ client });
    const seen: unknown[] = [];
    server = createHttpServer((req, res) => {
      track(req, res).setIdentity({ externalId: 'u_7' });
      const again = other(req, res); // a second module of the app, with its own oursNode()
      seen.push(again === track(req, res));
      again.track('Later');
      res.end('ok');
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    await send((server.address() as AddressInfo).port, '/', {
      headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000001', 'user-agent': UA },
    });
    const [event] = await t.mock.waitFor(1);
    expect(seen).to.deep.equal([true]);
    expect(event).to.include({
      event: 'Later',
      userId: '00000000-0000-4000-8000-000000000001',
      externalId: 'u_7',
    });
    await client.shutdown();
  });
});
