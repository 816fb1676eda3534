import { expect } from 'chai';
import { OursClient } from '../../src/index';
import { createMockOurs, type MockOurs } from '../../src/testing';
import { captureLogger, FAST_RETRY, TOKEN } from '../support/client';
import { processHooks, send, startApp, type AppOptions, type Kind } from '../faults/support';

/** Every header a client could send to choose the IP Ours records. */
const SPOOF_HEADERS: Record<string, string> = {
  'x-forwarded-for': '198.51.100.1, 198.51.100.2',
  'x-real-ip': '198.51.100.3',
  'x-client-ip': '198.51.100.4',
  forwarded: 'for=198.51.100.5;proto=https, for="[2001:db8::5]:443"',
  'cf-connecting-ip': '198.51.100.6',
  'true-client-ip': '198.51.100.7',
  'fastly-client-ip': '198.51.100.8',
  'x-cluster-client-ip': '198.51.100.9',
  'x-forwarded': 'for=198.51.100.10',
  'forwarded-for': '198.51.100.11',
};

const FRAMEWORKS: { name: string; kind: Kind; previousMajor: boolean }[] = [
  { name: 'Express 5', kind: 'express', previousMajor: false },
  { name: 'Express 4', kind: 'express', previousMajor: true },
  { name: 'Koa 3', kind: 'koa', previousMajor: false },
  { name: 'Koa 2', kind: 'koa', previousMajor: true },
];

/** The framework's own way to trust `hops` proxies: Express `trust proxy`, Koa `proxy` + `maxIpsCount`. */
function frameworkTrust(kind: Kind, hops: number): AppOptions['setup'] {
  return kind === 'express'
    ? (app) => app.set('trust proxy', hops)
    : (app) => {
        app.proxy = true;
        app.maxIpsCount = hops;
      };
}

for (const fw of FRAMEWORKS) {
  describe(`security: a client cannot choose the IP Ours sees [${fw.name}]`, function () {
    this.timeout(20_000);
    const hooks = processHooks();
    let mock: MockOurs;
    let seq = 0;
    before(async () => {
      hooks.install();
      mock = await createMockOurs({ token: TOKEN });
    });
    afterEach(() => {
      expect(mock.violations.map((v) => v.message)).to.deep.equal([]);
      mock.reset();
    });
    after(async () => {
      await mock.close();
      hooks.check();
    });

    /** Sends one request with `headers` to a fresh app; returns the IPs of the event Ours received. */
    async function ipsFor(options: AppOptions, headers: Record<string, string>) {
      const { logs: _logs, ...ips } = await ipsAndLogs(options, headers);
      return ips;
    }

    async function ipsAndLogs(options: AppOptions, headers: Record<string, string>) {
      const logger = captureLogger();
      const client = new OursClient({
        token: TOKEN,
        apiUrl: mock.url,
        retry: FAST_RETRY,
        flushIntervalMs: 10,
        logger,
      });
      const app = await startApp(fw.kind, client, { previousMajor: fw.previousMajor, ...options });
      try {
        const id = `ip-${++seq}`;
        const reply = await send(app.port, '/', {
          headers: { ...headers, 'x-id': id, 'user-agent': 'IpTest/1.0' },
        });
        expect(reply.status).to.equal(200);
        await client.flush();
        const event = mock.events.find((e) => e.distinctId === id);
        expect(event, `event ${id}`).to.not.equal(undefined);
        return {
          ip: event!.defaultProperties?.ip,
          identityIp: event!.identityContext?.ip,
          logs: logger.lines,
        };
      } finally {
        await app.close();
        await client.shutdown({ timeoutMs: 500 });
      }
    }

    describe('with default settings', () => {
      for (const [name, value] of Object.entries(SPOOF_HEADERS)) {
        it(`ignores ${name}`, async () => {
          expect(await ipsFor({}, { [name]: value })).to.deep.equal({
            ip: '127.0.0.1',
            identityIp: '127.0.0.1',
          });
        });
      }

      it('ignores all of them sent together', async () => {
        expect(await ipsFor({}, SPOOF_HEADERS)).to.deep.equal({
          ip: '127.0.0.1',
          identityIp: '127.0.0.1',
        });
      });
    });

    describe(`with trust configured in ${fw.kind === 'express' ? "Express's `trust proxy`" : "Koa's `proxy` + `maxIpsCount`"}`, () => {
      it('one trusted hop: the rightmost X-Forwarded-For entry (what the proxy saw), not the client-chosen leftmost', async () => {
        const ips = await ipsFor(
          { setup: frameworkTrust(fw.kind, 1) },
          { ...SPOOF_HEADERS, 'x-forwarded-for': '6.6.6.6, 203.0.113.50' },
        );
        expect(ips).to.deep.equal({ ip: '203.0.113.50', identityIp: '203.0.113.50' });
      });

      it('two trusted hops: the entry left of the second proxy', async () => {
        const ips = await ipsFor(
          { setup: frameworkTrust(fw.kind, 2) },
          { 'x-forwarded-for': '6.6.6.6, 203.0.113.51, 10.0.0.2' },
        );
        expect(ips).to.deep.equal({ ip: '203.0.113.51', identityIp: '203.0.113.51' });
      });

      it('an IPv4-mapped and an IPv6 hop are normalised', async () => {
        expect(
          await ipsFor(
            { setup: frameworkTrust(fw.kind, 1) },
            { 'x-forwarded-for': '6.6.6.6, ::ffff:203.0.113.52' },
          ),
        ).to.deep.equal({ ip: '203.0.113.52', identityIp: '203.0.113.52' });
        expect(
          await ipsFor(
            { setup: frameworkTrust(fw.kind, 1) },
            { 'x-forwarded-for': '6.6.6.6, 2001:db8::52' },
          ),
        ).to.deep.equal({ ip: '2001:db8::52', identityIp: '2001:db8::52' });
      });

      it("an untrusted hop that is not an IP gives no IP (or the socket's), never a spoofed one", async () => {
        const ips = await ipsFor(
          { setup: frameworkTrust(fw.kind, 1) },
          { 'x-forwarded-for': '6.6.6.6, not-an-ip' },
        );
        // The framework's pick is then the junk: left out, not replaced by the socket (a proxy's address).
        expect(ips).to.deep.equal({ ip: undefined, identityIp: undefined });
      });

      it('other forwarding headers stay ignored under trust', async () => {
        const { 'x-forwarded-for': _xff, ...others } = SPOOF_HEADERS;
        expect(await ipsFor({ setup: frameworkTrust(fw.kind, 1) }, others)).to.deep.equal({
          ip: '127.0.0.1',
          identityIp: '127.0.0.1',
        });
      });

      if (fw.kind === 'koa') {
        it("proxy on with maxIpsCount 0: Koa's ctx.ip (the leftmost, client-chosen entry), and a warning that says so", async () => {
          const warned: unknown[][] = [];
          const warn = console.warn;
          console.warn = (...args: unknown[]) => void warned.push(args);
          try {
            const { logs, ...ips } = await ipsAndLogs(
              { setup: frameworkTrust('koa', 0) },
              { 'x-forwarded-for': '6.6.6.6, 203.0.113.53' },
            );
            expect(ips).to.deep.equal({ ip: '6.6.6.6', identityIp: '6.6.6.6' });
            warned.push(...logs.map((l) => [l.level, l.msg]));
          } finally {
            console.warn = warn;
          }
          expect(JSON.stringify(warned)).to.include('maxIpsCount'); // on the client's logger (or the console)
        });
      }
    });

    describe('with the trustProxy option', () => {
      it('a hop count: the rightmost untrusted hop', async () => {
        const ips = await ipsFor(
          { ours: { trustProxy: 1 } },
          { ...SPOOF_HEADERS, 'x-forwarded-for': '6.6.6.6, 203.0.113.60' },
        );
        expect(ips).to.deep.equal({ ip: '203.0.113.60', identityIp: '203.0.113.60' });
      });

      it("a CIDR list: walks past every trusted proxy, stops at the first address it doesn't trust", async () => {
        const headers = { 'x-forwarded-for': '6.6.6.6, 203.0.113.61, 10.1.2.3, 10.1.2.4' };
        expect(
          await ipsFor({ ours: { trustProxy: 'loopback, 10.0.0.0/8' } }, headers),
        ).to.deep.equal({ ip: '203.0.113.61', identityIp: '203.0.113.61' });
        expect(await ipsFor({ ours: { trustProxy: ['loopback'] } }, headers)).to.deep.equal({
          ip: '10.1.2.4',
          identityIp: '10.1.2.4',
        });
      });

      it('a function', async () => {
        const ips = await ipsFor(
          { ours: { trustProxy: (_addr: string, i: number) => i < 2 } },
          { 'x-forwarded-for': '6.6.6.6, 203.0.113.62, 10.0.0.9' },
        );
        expect(ips).to.deep.equal({ ip: '203.0.113.62', identityIp: '203.0.113.62' });
      });

      it('not trusting the socket: every header ignored', async () => {
        expect(await ipsFor({ ours: { trustProxy: '10.0.0.0/8' } }, SPOOF_HEADERS)).to.deep.equal({
          ip: '127.0.0.1',
          identityIp: '127.0.0.1',
        });
      });

      it('wins over the framework setting', async () => {
        const ips = await ipsFor(
          { setup: frameworkTrust(fw.kind, 2), ours: { trustProxy: 1 } },
          { 'x-forwarded-for': '6.6.6.6, 203.0.113.63, 203.0.113.64' },
        );
        expect(ips).to.deep.equal({ ip: '203.0.113.64', identityIp: '203.0.113.64' });
      });
    });
  });
}
