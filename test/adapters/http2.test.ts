import { expect } from 'chai';
import { once } from 'node:events';
import { createServer, type Http2Server } from 'node:http2';
import type { AddressInfo } from 'node:net';
import Koa from 'koa';
import { ours, type OursKoaOptions } from '../../adapters/koa';
import { clientFor, withMock } from '../support/client';
import { h2get } from './harness';

/** GET `path` over cleartext HTTP/2; resolves with the status (and the headers) once the response has ended. */
async function get(
  port: number,
  path: string,
  headers: Record<string, string> = {},
): Promise<number> {
  return (await h2get(port, path, headers)).status;
}

describe('adapter: Koa 3 on an HTTP/2 server (its compatibility response)', () => {
  const t = withMock();
  let server: Http2Server | undefined;
  afterEach(
    () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())),
  );

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

    const status = await get(port, '/pricing?utm_source=h2', {
      cookie: 'ours_device_id=00000000-0000-4000-8000-000000000011',
      'user-agent': 'Mozilla/5.0 h2 test',
    });
    expect(status).to.equal(200);
    await t.mock.waitFor(1);
    const [event] = t.mock.events;
    expect(event).to.include({
      event: 'Page Viewed',
      userId: '00000000-0000-4000-8000-000000000011',
    });
    expect(event!.defaultProperties).to.include({
      pathname: '/pricing',
      utm_source: 'h2',
      host: `127.0.0.1:${port}`,
    });
    expect(errors).to.deep.equal([]);
    await client.shutdown();
  });

  /** A Koa app whose route throws 404 after `route` ran: the `Set-Cookie` lines of its error response. */
  async function cookiesOfKoaError(
    options: Omit<OursKoaOptions, 'client'>,
    route: (ctx: Koa.Context) => void,
  ) {
    const { client } = clientFor(t.mock);
    const app = new Koa();
    app.silent = true;
    app.use(ours({ client, ...options }));
    app.use((ctx) => {
      route(ctx);
      ctx.throw(404);
    });
    server = createServer(app.callback()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    const reply = await h2get(port, '/missing', { 'user-agent': 'Mozilla/5.0 h2 test' });
    expect(reply.status).to.equal(404);
    return { cookies: (reply.headers['set-cookie'] as string[] | undefined) ?? [], client };
  }

  it('optOut() then ctx.throw(404): the opt-out cookie is kept on the error response', async () => {
    const { cookies, client } = await cookiesOfKoaError({}, (ctx) => ctx.ours.optOut());
    expect(cookies.map((c) => c.split(';')[0])).to.deep.equal(['ours_opt_out=1']);
    await client.shutdown();
  });

  it('setVisitorCookie: ctx.throw(404) after the first track() keeps the minted cookie on the error response', async () => {
    const { cookies, client } = await cookiesOfKoaError({ setVisitorCookie: true }, (ctx) =>
      ctx.ours.track('Missing Page'),
    );
    expect(cookies).to.have.length(1);
    const [event] = await t.mock.waitFor(1);
    expect(cookies[0]).to.match(new RegExp(`^ours_device_id=${event!.userId};`));
    await client.shutdown();
  });
});
