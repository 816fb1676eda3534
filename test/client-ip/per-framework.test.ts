/**
 * The IP in an event is the one the framework itself reports (issue 13.1),
 * and it survives a client that disconnects before the first track() (issue
 * 18.2). Differential: the same requests, with real and forged forwarding
 * headers, through every proxy setting of each framework; the handler takes
 * the framework's own `req.ip` / `ctx.ip` / `request.ip` (node: the socket's
 * peer), the event must carry the same.
 */
import { request } from 'node:http';
import { expect } from 'chai';
import { normalizeIp } from '../../src/request/client-ip';
import { adapterSuite, type StartOptions } from '../adapters/harness';
import { differential } from './differential';
import { throughSubApp } from './sub-app';

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';
const VISITOR = '0b6f2a5e-9a4d-4c1e-8f3a-2d1c5b7e9f10';

/** Real proxy chains and forged headers, as a client or a chain of proxies would send them. */
const REQUESTS: Record<string, string | string[]>[] = [
  {},
  { 'x-forwarded-for': '198.51.100.1' },
  { 'x-forwarded-for': '198.51.100.1, 203.0.113.5' },
  { 'x-forwarded-for': '198.51.100.1, 10.0.0.7, 203.0.113.5' },
  { 'x-forwarded-for': '203.0.113.5, 10.0.0.7, 127.0.0.1' },
  { 'x-forwarded-for': 'not-an-ip, 203.0.113.5' },
  { 'x-forwarded-for': ' , 203.0.113.5' },
  { 'x-forwarded-for': '203.0.113.5:8080' },
  { 'x-forwarded-for': '2001:db8::1, 203.0.113.5' },
  { 'x-forwarded-for': ['198.51.100.1', '203.0.113.5'] }, // repeated header: Node joins it
  { 'x-real-ip': '198.51.100.2' },
  { 'x-real-ip': '198.51.100.2', 'x-forwarded-for': '198.51.100.1, 203.0.113.5' },
  { 'x-real-ip': '198.51.100.2, 203.0.113.9' },
  {
    'cf-connecting-ip': '198.51.100.4',
    'x-client-ip': '198.51.100.3',
    forwarded: 'for=198.51.100.6',
  },
];

type Setting = [name: string, setup: NonNullable<StartOptions['setup']>];

const EXPRESS: Setting[] = [
  ['trust proxy off (default)', () => undefined],
  ['trust proxy false', (app) => app.set('trust proxy', false)],
  ['trust proxy true', (app) => app.set('trust proxy', true)],
  ['trust proxy 1', (app) => app.set('trust proxy', 1)],
  ['trust proxy 2', (app) => app.set('trust proxy', 2)],
  ["trust proxy '127.0.0.1'", (app) => app.set('trust proxy', '127.0.0.1')],
  ["trust proxy 'loopback'", (app) => app.set('trust proxy', 'loopback')],
  ["trust proxy 'loopback, uniquelocal'", (app) => app.set('trust proxy', 'loopback, uniquelocal')],
  [
    "trust proxy ['127.0.0.0/8', '10.0.0.0/8']",
    (app) => app.set('trust proxy', ['127.0.0.0/8', '10.0.0.0/8']),
  ],
  [
    "trust proxy '10.0.0.0/8' (the socket is not trusted)",
    (app) => app.set('trust proxy', '10.0.0.0/8'),
  ],
  [
    'trust proxy function',
    (app) => app.set('trust proxy', (addr: string, i: number) => addr === '127.0.0.1' || i < 2),
  ],
];

const KOA: Setting[] = [
  ['proxy off (default)', () => undefined],
  ['proxy off, proxyIpHeader X-Real-IP', (app) => void (app.proxyIpHeader = 'X-Real-IP')],
  ['proxy on, maxIpsCount 0', (app) => void (app.proxy = true)],
  ['proxy on, maxIpsCount 1', (app) => Object.assign(app, { proxy: true, maxIpsCount: 1 })],
  ['proxy on, maxIpsCount 2', (app) => Object.assign(app, { proxy: true, maxIpsCount: 2 })],
  [
    'proxy on, proxyIpHeader X-Real-IP',
    (app) => Object.assign(app, { proxy: true, proxyIpHeader: 'X-Real-IP' }),
  ],
  [
    'proxy on, proxyIpHeader x-real-ip, maxIpsCount 1',
    (app) => Object.assign(app, { proxy: true, proxyIpHeader: 'x-real-ip', maxIpsCount: 1 }),
  ],
  [
    'proxy on, proxyIpHeader CF-Connecting-IP',
    (app) => Object.assign(app, { proxy: true, proxyIpHeader: 'CF-Connecting-IP' }),
  ],
];

/** Fastify's `trustProxy` (a constructor option: `setup` gets the options). Fastify 5 trusts no hop count, Fastify 4 does. */
const FASTIFY: Setting[] = [
  ['trustProxy off (default)', () => undefined],
  ['trustProxy true', (options) => void (options.trustProxy = true)],
  ['trustProxy 1', (options) => void (options.trustProxy = 1)],
  ["trustProxy '127.0.0.1'", (options) => void (options.trustProxy = '127.0.0.1')],
  [
    "trustProxy 'loopback, uniquelocal'",
    (options) => void (options.trustProxy = 'loopback, uniquelocal'),
  ],
  [
    "trustProxy ['127.0.0.0/8', '10.0.0.0/8']",
    (options) => void (options.trustProxy = ['127.0.0.0/8', '10.0.0.0/8']),
  ],
  [
    "trustProxy '10.0.0.0/8' (the socket is not trusted)",
    (options) => void (options.trustProxy = '10.0.0.0/8'),
  ],
  [
    'trustProxy function',
    (options) =>
      void (options.trustProxy = (addr: string, i: number) => addr === '127.0.0.1' || i < 2),
  ],
];

/** No framework, so no proxy setting: the socket's peer. */
const NODE: Setting[] = [['no proxy setting', () => undefined]];

const SETTINGS = {
  express: EXPRESS,
  koa: KOA,
  fastify: FASTIFY,
  node: NODE,
  fetch: NODE,
  hono: NODE,
};
const PEER = 'req.socket.remoteAddress';
const THEIRS = {
  express: 'req.ip',
  koa: 'ctx.ip',
  fastify: 'request.ip',
  node: PEER,
  fetch: PEER,
  hono: PEER,
};

adapterSuite("adapter: the event's IP is the framework's", (t) => {
  for (const [name, setup] of SETTINGS[t.fw.kind]) {
    for (const host of ['127.0.0.1', '::1'] as const) {
      it(`${name}, socket ${host}: identityContext.ip equals ${THEIRS[t.fw.kind]} for every request`, async () => {
        const app = await t.start({ setup, host });
        const { theirs, ours } = await differential(
          app,
          t.mock,
          REQUESTS,
          '/',
          ({ target, req }) =>
            normalizeIp(!t.fw.ownTrust ? req.socket.remoteAddress : (target as { ip?: string }).ip),
          (e) => {
            expect(
              e.defaultProperties?.ip,
              `request ${String(e.eventProperties!['case'])}`,
            ).to.equal(e.identityContext?.ip);
            return e.identityContext?.ip;
          },
        );
        expect(ours).to.deep.equal(theirs);
      });
    }
  }

  if (t.fw.kind === 'express') {
    it("a mounted sub-app's own trust proxy: the IP is the sub-app's req.ip", async () => {
      const { theirs, event } = await throughSubApp(
        t,
        {
          cookie: `ours_device_id=${VISITOR}`,
          'user-agent': UA,
          'x-forwarded-for': '198.51.100.1, 203.0.113.5',
        },
        (req) => req.ip,
      );
      expect(theirs).to.equal('203.0.113.5');
      expect(event.identityContext?.ip).to.equal(theirs);
    });
  }

  it('a client that disconnects before a slow handler tracks: the event still has the IP', async () => {
    const app = await t.start();
    let tracked!: () => void;
    const done = new Promise<void>((resolve) => (tracked = resolve));
    app.handle(async ({ ours, req, res }) => {
      await new Promise((resolve) => res.once('close', resolve)); // the client has gone
      expect(req.socket.destroyed).to.equal(true);
      ours.track('Order Completed');
      tracked();
    });
    const client = request({
      host: '127.0.0.1',
      port: app.port,
      path: '/slow',
      agent: false,
      headers: { cookie: `ours_device_id=${VISITOR}`, 'user-agent': UA },
    });
    client.on('error', () => undefined); // the abort below
    client.end();
    client.on('socket', (socket) =>
      socket.on('connect', () => setTimeout(() => client.destroy(), 50)),
    );
    await done;
    const [event] = await t.mock.waitFor(1);
    expect(event!.event).to.equal('Order Completed');
    expect(event!.identityContext).to.deep.equal({ ip: '127.0.0.1', userAgent: UA });
    expect(event!.defaultProperties!.ip).to.equal('127.0.0.1');
  });
});
