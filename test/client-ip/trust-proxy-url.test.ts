/**
 * The `trustProxy` option governs protocol and host as it governs the IP, on
 * every adapter: behind a TLS-terminating proxy the event's `current_url` is
 * `https://` and a minted visitor cookie has `Secure`. node:http, fetch
 * handlers and Hono have no trust setting of their own, so before this only
 * the IP followed the option. Differential against Express 5 with
 * `trust proxy` set to the same value and the same headers: `req.protocol`
 * and `req.host` (which keeps a forwarded port) are what the event must say.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import express from 'express';
import { adapterSuite } from '../adapters/harness';
import { closeServer } from '../adapters/harness';
import { send } from '../support/http';
import { until } from '../support/wait';

const UA = 'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0';

/** The Host every request sends, so that Express and the adapter's app (on other ports) see the same. */
const HOST = 'App.Example:8080';

const REQUESTS: Record<string, string>[] = [
  {},
  { 'x-forwarded-proto': 'https' },
  { 'x-forwarded-proto': ' https , http' },
  { 'x-forwarded-proto': 'http, https' },
  { 'x-forwarded-proto': 'ftp' },
  { 'x-forwarded-host': 'edge.example' },
  { 'x-forwarded-host': 'edge.example:8443, inner.example' },
  { 'x-forwarded-host': ' , inner.example' },
  { 'x-forwarded-host': '[2001:db8::1]:8443' },
  { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'shop.example' },
];

/** Each `trustProxy` value, and whether it trusts the loopback peer. */
const SETTINGS: [string, unknown, boolean][] = [
  ['true', true, true],
  ['1', 1, true],
  ["'loopback'", 'loopback', true],
  ["'127.0.0.1, 10.0.0.0/8'", '127.0.0.1, 10.0.0.0/8', true],
  ["'10.0.0.0/8' (the peer is not trusted)", '10.0.0.0/8', false],
  ['a function', (addr: string) => addr === '127.0.0.1', true],
  ['a function that trusts nothing', () => false, false],
];

interface Location {
  protocol: string;
  host: string | undefined;
}

/** What Express 5 says of each request, under `trust proxy` = `setting`. */
async function expressSays(setting: unknown): Promise<Location[]> {
  const app = express();
  app.set('trust proxy', setting);
  const seen: Location[] = [];
  app.get('/p', (req, res) => {
    seen[Number(req.headers['x-case'])] = { protocol: req.protocol, host: req.host };
    res.end('ok');
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    for (const [i, headers] of REQUESTS.entries())
      await send(port, '/p?q=1', { headers: { host: HOST, ...headers, 'x-case': String(i) } });
  } finally {
    await closeServer(server);
  }
  return seen;
}

/** The event's `current_url` as Express's getters would build it. */
function urlOf({ protocol, host }: Location): string | undefined {
  if (!host || (protocol !== 'http' && protocol !== 'https')) return undefined;
  return `${protocol}://${host.toLowerCase()}/p?q=1`;
}

adapterSuite(
  'adapter: the trustProxy option governs protocol and host, as Express trust proxy',
  (t) => {
    for (const [name, setting, trusted] of SETTINGS) {
      it(`trustProxy ${name}: current_url and host are Express's, the visitor cookie Secure only behind a trusted https proxy`, async () => {
        const theirs = await expressSays(setting);
        const app = await t.start({
          ours: { trustProxy: setting as never, setVisitorCookie: true },
        });
        const secure: boolean[] = [];
        app.handle(({ ours, req }) => {
          ours.track('E', { case: Number(req.headers['x-case']) });
        });
        for (const [i, headers] of REQUESTS.entries()) {
          const reply = await app.get('/p?q=1', {
            headers: { host: HOST, 'user-agent': UA, 'x-case': String(i), ...headers },
          });
          const cookie = String(reply.headers['set-cookie'] ?? '');
          expect(cookie, `case ${i} mints a visitor cookie`).to.match(/ours_device_id=/);
          secure[i] = /;\s*Secure/i.test(cookie);
        }
        const ours: (string | undefined)[] = [];
        const hosts: (string | undefined)[] = [];
        for (const e of await t.mock.waitFor(REQUESTS.length)) {
          const i = Number(e.eventProperties!['case']);
          ours[i] = e.defaultProperties?.current_url ?? undefined;
          hosts[i] = e.defaultProperties?.host ?? undefined;
        }
        expect(ours).to.deep.equal(theirs.map(urlOf));
        expect(hosts).to.deep.equal(theirs.map((x) => x.host?.toLowerCase()));
        expect(secure).to.deep.equal(theirs.map((x) => x.protocol === 'https'));
        // The cases tell trust apart: a forwarded https shows only behind a trusted peer.
        expect(secure[1]).to.equal(trusted);
      });
    }

    it("trustProxy 'cloudflare' and 'vercel': the edge's X-Forwarded-Proto is read, a client's X-Forwarded-Host is not", async () => {
      for (const preset of ['cloudflare', 'vercel'] as const) {
        t.mock.reset();
        const app = await t.start({ ours: { trustProxy: preset, setVisitorCookie: true } });
        app.handle(({ ours }) => ours.track('E'));
        const reply = await app.get('/p', {
          headers: {
            'user-agent': UA,
            host: 'shop.example',
            'x-forwarded-proto': 'https',
            'x-forwarded-host': 'evil.example',
          },
        });
        expect(String(reply.headers['set-cookie']), preset).to.match(/;\s*Secure/i);
        const [event] = await t.mock.waitFor(1);
        expect(event!.defaultProperties, preset).to.deep.include({
          current_url: 'https://shop.example/p',
          host: 'shop.example',
        });
      }
    });

    it('a trustProxy function that throws: the peer is not trusted, the request and its event go on', async () => {
      const app = await t.start({
        ours: {
          trustProxy: () => {
            throw new Error('boom');
          },
        },
      });
      app.handle(({ ours }) => ours.track('E'));
      const reply = await app.get('/p', {
        headers: {
          host: HOST,
          cookie: 'ours_device_id=0b6f2a5e-9a4d-4c1e-8f3a-2d1c5b7e9f10',
          'user-agent': UA,
          'x-forwarded-proto': 'https',
          'x-forwarded-for': '203.0.113.9',
        },
      });
      expect(reply.status).to.equal(200);
      const [event] = await t.mock.waitFor(1);
      expect(event!.defaultProperties).to.deep.include({
        current_url: 'http://app.example:8080/p',
        ip: '127.0.0.1',
      });
      await until(() => app.clientErrors.length > 0, 'the throw reported');
      expect(String(app.clientErrors[0])).to.match(/trustProxy threw: boom/);
    });
  },
);
