import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { createHandler as createFetchHandler } from '../../examples/fetch/app';
import { createApp as createFastifyApp } from '../../examples/fastify/app';
import { createApp as createHonoApp } from '../../examples/hono/app';
import { createApp as createNodeApp } from '../../examples/node/app';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { send } from '../adapters/harness';

const TOKEN = 'frameworks-example-token';
const VISITOR = {
  cookie: 'ours_device_id=00000000-0000-4000-8000-0000000000e1',
  'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) Firefox/125.0',
};

describe('examples: the Fastify, node:http, Hono and fetch apps', function () {
  this.timeout(20_000);
  let mock: MockOurs;
  beforeEach(async () => void (mock = await createMockOurs({ token: TOKEN })));
  afterEach(async () => {
    expect(mock.violations).to.deep.equal([]);
    await mock.close();
  });

  it('Fastify: page view, sign-up with identity and identify, one order, a skipped health check; app.close() delivers', async () => {
    const app = createFastifyApp({
      token: TOKEN,
      apiUrl: mock.url,
      flushIntervalMs: 60_000,
      logger: false,
      handleSignals: false,
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const { port } = app.server.address() as AddressInfo;
    const json = { ...VISITOR, 'content-type': 'application/json' };
    expect(
      (await send(port, '/', { headers: { ...VISITOR, 'x-forwarded-for': '203.0.113.9' } })).status,
    ).to.equal(200);
    expect((await send(port, '/health', { headers: VISITOR })).status).to.equal(200);
    const signup = await new Promise<number>((resolve, reject) => {
      void fetch(`http://127.0.0.1:${port}/signup`, {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ email: 'ada@example.com' }),
      }).then((r) => resolve(r.status), reject);
    });
    expect(signup).to.equal(201);
    expect(
      (await send(port, '/orders/7/complete', { method: 'POST', headers: VISITOR })).status,
    ).to.equal(200);
    await app.close(); // the plugin's own client: shut down, delivering what it queued
    // Requests hand off as their hooks settle, so events of separate requests may arrive in any order.
    const named = (name: string) => mock.events.find((e) => e.event === name);
    expect(mock.events.map((e) => e.event).sort()).to.deep.equal([
      'Order Completed',
      'Page Viewed',
      'Signed Up',
    ]);
    expect(named('Page Viewed')!.defaultProperties).to.include({ ip: '203.0.113.9' }); // trustProxy: 'loopback'
    expect(named('Signed Up')).to.include({ externalId: 'u_ada', email: 'ada@example.com' });
    expect(named('Order Completed')).to.include({ distinctId: 'order-7' });
    expect(mock.identifies).to.have.length(1);
  });

  it('node:http: a first visit gets the visitor cookie its event was sent with; the health check is skipped', async () => {
    const { server, track } = createNodeApp({
      token: TOKEN,
      apiUrl: mock.url,
      logger: false,
      handleSignals: false,
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const first = await send(port, '/', { headers: { 'user-agent': VISITOR['user-agent'] } });
      await send(port, '/health', { headers: VISITOR });
      await track.client.shutdown();
      expect(mock.events).to.have.length(1);
      expect(first.headers['set-cookie']?.[0]).to.match(
        new RegExp(`^ours_device_id=${mock.events[0]!.userId};`),
      );
    } finally {
      server.close();
    }
  });

  it('Hono: a first visit gets its visitor cookie, a sign-up sets the identity and identifies; the health check is skipped', async () => {
    const { app, tracking } = createHonoApp({
      token: TOKEN,
      apiUrl: mock.url,
      logger: false,
      handleSignals: false,
    });
    const first = await app.request('/', { headers: { 'user-agent': VISITOR['user-agent'] } });
    expect(await first.text()).to.equal('hello\n');
    const signup = await app.request('/signup', {
      method: 'POST',
      headers: { ...VISITOR, 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com' }),
    });
    expect(signup.status).to.equal(201);
    expect((await app.request('/health', { headers: VISITOR })).status).to.equal(200);
    await tracking.client.shutdown();
    const named = (name: string) => mock.events.find((e) => e.event === name);
    expect(mock.events.map((e) => e.event).sort()).to.deep.equal(['Page Viewed', 'Signed Up']);
    expect(first.headers.getSetCookie()[0]).to.match(
      new RegExp(`^ours_device_id=${named('Page Viewed')!.userId};`),
    );
    expect(named('Signed Up')).to.include({ externalId: 'u_ada', email: 'ada@example.com' });
    expect(mock.identifies).to.have.length(1);
  });

  it('fetch: the handler puts the minted cookie on its Response and hands its delivery to waitUntil; the health check is skipped', async () => {
    const { handle, track } = createFetchHandler({
      token: TOKEN,
      apiUrl: mock.url,
      logger: false,
      handleSignals: false,
      flushIntervalMs: 60_000,
    });
    const waiting: Promise<unknown>[] = [];
    const waitUntil = (promise: Promise<unknown>): void => void waiting.push(promise);
    const first = handle(
      new Request('https://shop.example/', { headers: { 'user-agent': VISITOR['user-agent'] } }),
      { waitUntil },
    );
    handle(new Request('https://shop.example/health', { headers: VISITOR }), { waitUntil });
    await Promise.all(waiting);
    expect(mock.events.map((e) => e.event)).to.deep.equal(['Page Viewed']);
    expect(first.headers.getSetCookie()[0]).to.match(
      new RegExp(`^ours_device_id=${mock.events[0]!.userId};`),
    );
    await track.client.shutdown();
  });
});
