import { expect } from 'chai';
import { once } from 'node:events';
import { connect, createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { ours } from '../../adapters/koa';
import { clientFor, withMock } from '../helpers/client';

/** GET `path` over cleartext HTTP/2; resolves with the status once the response has ended. */
async function get(port: number, path: string, headers: Record<string, string> = {}): Promise<number> {
  const session = connect(`http://127.0.0.1:${port}`);
  try {
    const req = session.request({ ':path': path, ...headers });
    const [head] = (await once(req, 'response')) as [Record<string, unknown>];
    req.resume();
    await once(req, 'end');
    return Number(head[':status']);
  } finally {
    session.close();
  }
}

describe('adapter: Koa 3 on an HTTP/2 server (its compatibility response)', () => {
  const t = withMock();
  let server: Http2Server | undefined;
  afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

  it('hands tracked events over once the response has ended, with the request context', async () => {
    const { client, errors } = clientFor(t.mock);
    const app = new Koa();
    app.use(ours({ client }));
    app.use((ctx) => {
      ctx.ours.track('Page Viewed', { section: 'h2' });
      ctx.body = 'ok';
    });
    server = createServer(app.callback()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;

    const status = await get(port, '/pricing?utm_source=h2', { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000011', 'user-agent': 'Mozilla/5.0 h2 test' });
    expect(status).to.equal(200);
    await t.mock.waitFor(1);
    const [event] = t.mock.events;
    expect(event).to.include({ event: 'Page Viewed', userId: '00000000-0000-4000-8000-000000000011' });
    expect(event!.defaultProperties).to.include({ pathname: '/pricing', utm_source: 'h2', host: `127.0.0.1:${port}` });
    expect(errors).to.deep.equal([]);
    await client.shutdown();
  });
});
