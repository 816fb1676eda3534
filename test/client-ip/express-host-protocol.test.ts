/**
 * The event's `host` and the protocol of its `current_url` are Express's own
 * (`req.hostname`, with the Host header's port; `req.protocol`), in every
 * `trust proxy` setting: the adapter reads the forwarding headers itself and
 * asks the trust function once instead of going through Express's getters
 * (issue 19), so it must decide exactly as they do. Differential, as the IP's
 * test beside it: real and forged X-Forwarded-Host / -Proto, each request's
 * own getters against its event.
 */
import { expect } from 'chai';
import express5, { type Express, type Request } from 'express';
import express4 from 'express4';
import type { MockEvent } from '../../src/testing';
import { adapterSuite } from '../adapters/harness';
import { differential } from './differential';
import { throughSubApp } from './sub-app';

const REQUESTS: Record<string, string>[] = [
  {},
  { host: 'Shop.Example:8080' },
  { host: '[::1]:3000' },
  { 'x-forwarded-host': 'edge.example' },
  { 'x-forwarded-host': 'edge.example:8443, inner.example' },
  { 'x-forwarded-host': ' , inner.example' },
  { 'x-forwarded-host': '[2001:db8::1]:8443' },
  { 'x-forwarded-host': '' },
  { host: 'proxied.example:9000', 'x-forwarded-host': 'proxied.example' },
  { 'x-forwarded-proto': 'https' },
  { 'x-forwarded-proto': ' https , http' },
  { 'x-forwarded-proto': 'ftp' },
  { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'edge.example' },
];

const SETTINGS: [string, unknown][] = [
  ['off (default)', undefined],
  ['true', true],
  ['1', 1],
  ["'loopback'", 'loopback'],
  ["'10.0.0.0/8' (the socket is not trusted)", '10.0.0.0/8'],
  ['a function', (addr: string, i: number) => i === 0 && addr.endsWith('1')],
];

/** What the event should say, from Express's own getters on the same request. */
function expected(req: Request): { host: string | undefined; origin: string | undefined } {
  const hostname = req.hostname;
  const header = req.headers.host;
  const host = (hostname && header?.startsWith(hostname) ? header : hostname)?.toLowerCase();
  const web = req.protocol === 'http' || req.protocol === 'https';
  return { host: host || undefined, origin: host && web ? `${req.protocol}://${host}` : undefined };
}

adapterSuite("adapter: the event's host and protocol are Express's", (t) => {
  if (t.fw.kind !== 'express') return;
  for (const [name, trust] of SETTINGS) {
    for (const socket of ['127.0.0.1', '::1'] as const) {
      it(`trust proxy ${name}, socket ${socket}: host and current_url's origin follow req.hostname and req.protocol`, async () => {
        const setup = (app: { set(name: string, value: unknown): void }): void => {
          if (trust !== undefined) app.set('trust proxy', trust);
        };
        const app = await t.start({ setup, host: socket });
        const { theirs, ours } = await differential(
          app,
          t.mock,
          REQUESTS,
          '/p?q=1',
          ({ target }) => expected(target as Request),
          (e) => {
            const url = e.defaultProperties?.current_url;
            return {
              host: e.defaultProperties?.host,
              origin: url?.slice(0, url.indexOf('/p?q=1')) ?? undefined,
            };
          },
        );
        expect(ours).to.deep.equal(theirs);
        // The cases tell the settings apart: a forwarded host or protocol wins somewhere only when trusted.
        const forwarded = theirs.some((x) => x.host?.startsWith('edge.example'));
        expect(forwarded, 'a forwarded host was taken').to.equal(
          trust !== undefined && trust !== '10.0.0.0/8',
        );
      });
    }
  }

  describe('an app that redefines the getters (its CDN says where the visitor is)', () => {
    const CDN_REQUESTS: Record<string, string>[] = [
      {},
      { 'x-edge-proto': 'https', 'x-edge-host': 'Shop.Example', 'cf-connecting-ip': '203.0.113.9' },
      { 'x-edge-host': 'edge.example', 'x-forwarded-host': 'forged.example' },
      { 'x-forwarded-proto': 'https', 'cf-connecting-ip': '2001:db8::5' },
    ];
    /** The app's getters: the CDN's headers, never the forwarding ones. */
    const CDN_GETTERS: PropertyDescriptorMap = {
      protocol: {
        configurable: true,
        get(this: Request) {
          return this.get('x-edge-proto') ?? 'http';
        },
      },
      hostname: {
        configurable: true,
        get(this: Request) {
          return this.get('x-edge-host') ?? 'origin.example';
        },
      },
      ip: {
        configurable: true,
        get(this: Request) {
          return this.get('cf-connecting-ip');
        },
      },
    };
    const theirsWithIp = (req: Request) => ({ ...expected(req), ip: req.ip });
    const oursWithIp = (e: MockEvent) => {
      const url = e.defaultProperties?.current_url;
      return {
        host: e.defaultProperties?.host,
        origin: url?.slice(0, url.indexOf('/p?q=1')) ?? undefined,
        ip: e.defaultProperties?.ip,
      };
    };
    const differ = async (setup: (app: Express) => void) => {
      const app = await t.start({ setup });
      const { theirs, ours } = await differential(
        app,
        t.mock,
        CDN_REQUESTS,
        '/p?q=1',
        ({ target }) => theirsWithIp(target as Request),
        oursWithIp,
      );
      expect(ours).to.deep.equal(theirs);
      // The app's getters were asked: the CDN's host, never the forwarded one.
      expect(theirs.map((x) => x.host)).to.deep.equal([
        'origin.example',
        'shop.example',
        'edge.example',
        'origin.example',
      ]);
    };

    for (const trust of [undefined, true]) {
      it(`on app.request (trust proxy ${String(trust ?? 'off')}): the event follows req.protocol, req.hostname and req.ip`, async () => {
        await differ((app) => {
          if (trust !== undefined) app.set('trust proxy', trust);
          Object.defineProperties(app.request, CDN_GETTERS);
        });
      });
    }

    it("on a mounted sub-app's app.request only: its routes' events follow the sub-app's getters", async () => {
      const { theirs, event } = await throughSubApp(
        t,
        { cookie: 'ours_device_id=0b6f2a5e-9a4d-4c1e-8f3a-2d1c5b7e9f10', ...CDN_REQUESTS[1] },
        theirsWithIp,
        (sub) => Object.defineProperties(sub.request, CDN_GETTERS),
      );
      expect(theirs).to.deep.equal({
        host: 'shop.example',
        origin: 'https://shop.example',
        ip: '203.0.113.9',
      });
      expect(event.defaultProperties).to.deep.include({
        host: theirs.host,
        current_url: `${theirs.origin}/sub/x`,
        ip: theirs.ip,
      });
    });

    it('on express.request (every app of that copy of Express): the event follows them', async () => {
      const base = (t.fw.name === 'Express 4' ? express4 : express5).request;
      const saved = Object.getOwnPropertyDescriptors(base);
      Object.defineProperties(base, CDN_GETTERS);
      try {
        await differ(() => undefined);
      } finally {
        for (const name of Object.keys(CDN_GETTERS))
          Object.defineProperty(base, name, saved[name]!);
      }
    });

    it("on express.request, with getters named as Express's own (function protocol() {...}): the event follows them", async () => {
      const base = (t.fw.name === 'Express 4' ? express4 : express5).request;
      const saved = Object.getOwnPropertyDescriptors(base);
      // The same getters, as named functions: a name is no proof of whose getter it is.
      Object.defineProperties(base, {
        protocol: {
          configurable: true,
          get: function protocol(this: Request) {
            return this.get('x-edge-proto') ?? 'http';
          },
        },
        hostname: {
          configurable: true,
          get: function hostname(this: Request) {
            return this.get('x-edge-host') ?? 'origin.example';
          },
        },
        ip: {
          configurable: true,
          get: function ip(this: Request) {
            return this.get('cf-connecting-ip');
          },
        },
      });
      try {
        await differ(() => undefined);
      } finally {
        for (const name of Object.keys(CDN_GETTERS))
          Object.defineProperty(base, name, saved[name]!);
      }
    });

    it('on each request, by a middleware before ours(): the event follows them too', async () => {
      await differ((app) =>
        app.use((req, _res, next) => {
          Object.defineProperties(req, CDN_GETTERS);
          next();
        }),
      );
    });
  });

  it("a mounted sub-app's own trust proxy: host and protocol are the sub-app's req.hostname and req.protocol", async () => {
    const { theirs, event } = await throughSubApp(
      t,
      {
        cookie: 'ours_device_id=0b6f2a5e-9a4d-4c1e-8f3a-2d1c5b7e9f10',
        'x-forwarded-host': 'edge.example',
        'x-forwarded-proto': 'https',
      },
      expected,
    );
    expect(theirs).to.deep.equal({ host: 'edge.example', origin: 'https://edge.example' });
    expect(event.defaultProperties?.host).to.equal(theirs.host);
    expect(event.defaultProperties?.current_url).to.equal(`${theirs.origin}/sub/x`);
  });
});
