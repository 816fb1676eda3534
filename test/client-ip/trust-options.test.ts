import { expect } from 'chai';
import { captureLogger } from '../support/client';
import { adapterSuite, type StartOptions } from '../adapters/harness';

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';

/** Every header a client could use to claim an IP. */
const SPOOFED = {
  'x-forwarded-for': '198.51.100.1, 203.0.113.5',
  'x-real-ip': '198.51.100.2',
  'x-client-ip': '198.51.100.3',
  forwarded: 'for="[2001:db8::1]:4711";proto=https',
  'cf-connecting-ip': '198.51.100.4',
  'true-client-ip': '198.51.100.5',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'https',
};

/** Trusts one proxy in the framework's own way: Express `trust proxy`, Koa `app.proxy` + `maxIpsCount`, Fastify's `trustProxy`. */
const trustOneProxy: Record<'express' | 'koa' | 'fastify', StartOptions['setup']> = {
  express: (app) => app.set('trust proxy', 1),
  koa: (app) => {
    app.proxy = true;
    app.maxIpsCount = 1;
  },
  // Fastify 5 trusts no hop count (it cannot check the peer): the proxy by address.
  fastify: (options) => void (options.trustProxy = '127.0.0.1'),
};

adapterSuite("adapter: which IP is the end user's", (t) => {
  /** Tracks one event with `headers` and returns what the mock got. */
  async function ipFor(options: StartOptions, headers: Record<string, string>) {
    const app = await t.start(options);
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/page', {
      headers: {
        cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003',
        'user-agent': UA,
        ...headers,
      },
    });
    const [event] = await t.mock.waitFor(1);
    return {
      ip: event!.defaultProperties!.ip,
      identityIp: event!.identityContext?.ip,
      dp: event!.defaultProperties!,
      port: app.port,
    };
  }

  it('by default ignores every forwarding header: the IP is the socket address', async () => {
    const { ip, identityIp, dp, port } = await ipFor({}, SPOOFED);
    expect([ip, identityIp]).to.deep.equal(['127.0.0.1', '127.0.0.1']);
    // Host and protocol come from the framework, which does not trust X-Forwarded-* either.
    expect(dp).to.deep.include({
      host: `127.0.0.1:${port}`,
      current_url: `http://127.0.0.1:${port}/page`,
    });
  });

  it('reads an IPv6 socket address, and the bracketed host', async () => {
    const app = await t.start({ host: '::1' });
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/v6', {
      headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003', 'user-agent': UA },
    });
    const [event] = await t.mock.waitFor(1);
    expect(event!.identityContext).to.deep.equal({ ip: '::1', userAgent: UA });
    expect(event!.defaultProperties).to.deep.include({
      ip: '::1',
      host: `[::1]:${app.port}`,
      current_url: `http://[::1]:${app.port}/v6`,
    });
  });

  // A plain node handler, fetch and Hono have no proxy setting of their own: the `trustProxy` option below is their way.
  if (t.fw.ownTrust)
    it("with the framework trusting one proxy, uses the proxy's hop (rightmost) and its host and protocol", async () => {
      const { ip, identityIp, dp } = await ipFor(
        { setup: trustOneProxy[t.fw.kind as keyof typeof trustOneProxy] },
        {
          'x-forwarded-for': '198.51.100.1, 203.0.113.5',
          'x-forwarded-host': 'shop.example',
          'x-forwarded-proto': 'https',
        },
      );
      expect([ip, identityIp]).to.deep.equal(['203.0.113.5', '203.0.113.5']);
      expect(dp).to.deep.include({
        host: 'shop.example',
        current_url: 'https://shop.example/page',
      });
    });

  if (t.fw.kind === 'koa') {
    it("Koa app.proxy with maxIpsCount 0: follows ctx.ip (the client-chosen leftmost entry) and warns once through the client's logger", async () => {
      const logger = captureLogger();
      const app = await t.start({
        ours: { client: t.client({ logger }) },
        setup: (a) => void (a.proxy = true),
      });
      app.handle(({ ours }) => ours.track('E'));
      const headers = {
        cookie: 'ours_device_id=00000000-0000-4000-8000-000000000003',
        'user-agent': UA,
        'x-forwarded-for': '198.51.100.66, 203.0.113.7',
      };
      await app.get('/', { headers });
      await app.get('/', { headers });
      const events = await t.mock.waitFor(2);
      expect(events.map((e) => e.defaultProperties!.ip)).to.deep.equal([
        '198.51.100.66',
        '198.51.100.66',
      ]);
      const warnings = logger.lines.filter((l) => l.level === 'warn');
      expect(warnings.map((w) => w.msg)).to.have.length(1);
      expect(warnings[0]!.msg).to.include('maxIpsCount');
    });
  }

  describe('trustProxy option (proxy-addr semantics), whatever the framework is set to', () => {
    const XFF = { 'x-forwarded-for': '198.51.100.9, 10.1.2.3, 203.0.113.5' };

    it('a hop count of 1 takes the rightmost entry', async () => {
      expect((await ipFor({ ours: { trustProxy: 1 } }, XFF)).ip).to.equal('203.0.113.5');
    });

    it('a hop count of 2 takes the next one', async () => {
      expect((await ipFor({ ours: { trustProxy: 2 } }, XFF)).ip).to.equal('10.1.2.3');
    });

    it('a CIDR list walks over trusted addresses only', async () => {
      const xff = { 'x-forwarded-for': '198.51.100.9, 203.0.113.5, 10.1.2.3' };
      expect((await ipFor({ ours: { trustProxy: ['loopback', '10.0.0.0/8'] } }, xff)).ip).to.equal(
        '203.0.113.5',
      );
    });

    it('a function decides per address', async () => {
      const { ip } = await ipFor(
        { ours: { trustProxy: (addr: string) => addr === '127.0.0.1' } },
        XFF,
      );
      expect(ip).to.equal('203.0.113.5');
    });

    it('still ignores the other headers', async () => {
      const { 'x-forwarded-for': _xff, ...others } = SPOOFED;
      expect((await ipFor({ ours: { trustProxy: 1 } }, others)).ip).to.equal('127.0.0.1');
    });
  });

  describe('trustProxy presets: the platform overwrites its own header', () => {
    it("'cloudflare' reads CF-Connecting-IP, and nothing else", async () => {
      expect((await ipFor({ ours: { trustProxy: 'cloudflare' } }, SPOOFED)).ip).to.equal(
        '198.51.100.4',
      );
      const { 'cf-connecting-ip': _cf, ...others } = SPOOFED;
      t.mock.reset();
      expect((await ipFor({ ours: { trustProxy: 'cloudflare' } }, others)).ip).to.equal(undefined);
    });

    it("'vercel' reads X-Real-IP, else the first X-Forwarded-For entry", async () => {
      expect((await ipFor({ ours: { trustProxy: 'vercel' } }, SPOOFED)).ip).to.equal(
        '198.51.100.2',
      );
      const { 'x-real-ip': _real, ...others } = SPOOFED;
      t.mock.reset();
      expect((await ipFor({ ours: { trustProxy: 'vercel' } }, others)).ip).to.equal('198.51.100.1');
    });

    it('an unknown preset is refused when mounting, naming the option and the presets', async () => {
      const err = await t.fw.mountError({ client: t.client(), trustProxy: 'cloudfront' });
      expect(String(err)).to.match(/trustProxy.*'cloudflare', 'vercel'/);
    });
  });

  describe("clientIp: 'request-ip' (opt-in, spoofable)", () => {
    it('takes X-Client-IP first, as request-ip does', async () => {
      const { ip, identityIp } = await ipFor({ ours: { clientIp: 'request-ip' } }, SPOOFED);
      expect([ip, identityIp]).to.deep.equal(['198.51.100.3', '198.51.100.3']);
    });

    it('falls back to the socket address without such headers', async () => {
      expect((await ipFor({ ours: { clientIp: 'request-ip' } }, {})).ip).to.equal('127.0.0.1');
    });
  });

  it('clientIp as a function wins, and an invalid answer leaves the IP out', async () => {
    const app = await t.start({
      ours: { clientIp: (r) => (t.fw.userOf(r) ? '192.0.2.55' : 'not-an-ip') },
    });
    app.handle(({ ours }) => ours.track('E'));
    await app.get('/', {
      headers: {
        cookie: 'ours_device_id=00000000-0000-4000-8000-000000000012',
        'user-agent': UA,
        'x-user': 'u1',
      },
    });
    await app.get('/', {
      headers: { cookie: 'ours_device_id=00000000-0000-4000-8000-000000000009', 'user-agent': UA },
    });
    const events = await t.mock.waitFor(2);
    const byUser = Object.fromEntries(
      events.map((e) => [e.userId, [e.defaultProperties!.ip, e.identityContext?.ip]]),
    );
    expect(byUser).to.deep.equal({
      '00000000-0000-4000-8000-000000000012': ['192.0.2.55', '192.0.2.55'],
      '00000000-0000-4000-8000-000000000009': [undefined, undefined],
    });
  });
});
