import { readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join, relative, resolve } from 'node:path';
import { expect } from 'chai';
import { ours as oursExpress } from '../../adapters/express';
import { ours as oursKoa } from '../../adapters/koa';
import {
  OursClient,
  OursConfigError,
  OursDeliveryError,
  type FetchLike,
  type OursError,
} from '../../src/index';
import { TOKEN } from '../support/client';
import { selfSignedCert } from './self-signed';
import { processHooks, until } from '../faults/support';

const root = resolve(__dirname, '../..');

describe('security: transport', function () {
  this.timeout(30_000);
  const hooks = processHooks();
  before(() => hooks.install());
  after(() => hooks.check());

  describe('plain http:// is refused unless it is loopback or explicitly allowed', () => {
    const refused = [
      'http://api.example.com',
      'http://api.oursprivacy.com/api/v1',
      'http://localhost.example.com',
      'http://127.0.0.1.nip.io',
      'http://0.0.0.0:8080',
      'http://10.0.0.1',
      'http://[::ffff:127.0.0.1]',
      'http://[2001:db8::1]',
      'HTTP://API.EXAMPLE.COM',
      'http://localhost.:8080', // a name that DNS, not the hosts file, may answer
      'http://127.0.0.1@api.example.com', // the host is api.example.com
      'http://api.example.com\\@127.0.0.1', // a backslash is a slash: still api.example.com
    ];
    for (const apiUrl of refused) {
      it(`refuses ${apiUrl}`, () => {
        expect(() => new OursClient({ token: TOKEN, apiUrl })).to.throw(
          OursConfigError,
          /allowInsecureHttp/,
        );
        expect(() => oursExpress({ token: TOKEN, apiUrl })).to.throw(
          OursConfigError,
          /allowInsecureHttp/,
        );
        expect(() => oursKoa({ token: TOKEN, apiUrl })).to.throw(
          OursConfigError,
          /allowInsecureHttp/,
        );
      });
    }

    it('refuses it from OURS_API_URL too', () => {
      const saved = process.env.OURS_API_URL;
      process.env.OURS_API_URL = 'http://api.example.com/api/v1';
      try {
        expect(() => new OursClient({ token: TOKEN })).to.throw(
          OursConfigError,
          /allowInsecureHttp/,
        );
      } finally {
        if (saved === undefined) delete process.env.OURS_API_URL;
        else process.env.OURS_API_URL = saved;
      }
    });

    it('refuses schemes other than https: and http:', () => {
      for (const apiUrl of [
        'ftp://api.example.com',
        'file:///etc/passwd',
        'ws://api.example.com',
        'javascript:alert(1)',
      ]) {
        expect(
          () => new OursClient({ token: TOKEN, apiUrl, allowInsecureHttp: true }),
          apiUrl,
        ).to.throw(OursConfigError);
      }
    });

    it('allows loopback over http (local mocks and sidecars)', () => {
      for (const apiUrl of [
        'http://127.0.0.1:8080/api/v1',
        'http://127.1.2.3/api/v1',
        'http://localhost:3000/api/v1',
        'http://LOCALHOST/api/v1',
        'http://[::1]:9000/api/v1',
        'http://127.1/api/v1', // 127.0.0.1, as every URL parser reads it
        'HTTP://[0:0:0:0:0:0:0:1]:9000/api/v1',
      ]) {
        expect(
          () => new OursClient({ token: TOKEN, apiUrl, logger: false }),
          apiUrl,
        ).not.to.throw();
      }
    });

    it('refuses a user name or password in the URL, loopback or not', () => {
      for (const apiUrl of [
        'http://user:pw@127.0.0.1/api/v1',
        'https://user@api.example.com/api/v1',
      ])
        expect(() => new OursClient({ token: TOKEN, apiUrl }), apiUrl).to.throw(
          OursConfigError,
          /user name or password/,
        );
    });

    it('allows a remote http:// only with allowInsecureHttp: true', () => {
      expect(
        () =>
          new OursClient({
            token: TOKEN,
            apiUrl: 'http://api.example.com/api/v1',
            allowInsecureHttp: true,
            logger: false,
          }),
      ).not.to.throw();
      expect(() =>
        oursExpress({
          token: TOKEN,
          apiUrl: 'http://api.example.com/api/v1',
          allowInsecureHttp: true,
          logger: false,
        }),
      ).not.to.throw();
      expect(
        () =>
          new OursClient({
            token: TOKEN,
            apiUrl: 'http://api.example.com',
            allowInsecureHttp: 'yes' as never,
          }),
      ).to.throw(OursConfigError);
    });

    it('https:// needs nothing', () => {
      expect(
        () =>
          new OursClient({ token: TOKEN, apiUrl: 'https://api.example.com/api/v1', logger: false }),
      ).not.to.throw();
    });
  });

  describe('TLS certificate errors are never ignored', () => {
    let dir: string | undefined;
    let cert: Buffer;
    let server: Server;
    let port: number;
    let handled = 0;
    let handshakeErrors = 0;

    before(function () {
      const made = selfSignedCert();
      if (!made) return this.skip();
      dir = made.dir;
      cert = readFileSync(made.certPath);
    });

    before(async function () {
      if (!dir) return this.skip();
      server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert }, (req, res) => {
        handled++;
        req.resume();
        req.on('end', () => {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ success: true }));
        });
      });
      server.on('tlsClientError', () => handshakeErrors++);
      await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
      port = (server.address() as AddressInfo).port;
    });

    after(async () => {
      if (server) {
        server.closeAllConnections();
        await new Promise((done) => server.close(done));
      }
      if (dir) rmSync(dir, { recursive: true, force: true });
    });

    it('the test process does not switch certificate checks off', () => {
      expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).to.not.equal('0');
    });

    it('a self-signed certificate: the request fails, is retried, and is reported; the server never sees it', async () => {
      const client = new OursClient({
        token: TOKEN,
        apiUrl: `https://127.0.0.1:${port}/api/v1`,
        flushIntervalMs: 5,
        retry: { initialDelayMs: 5, maxDelayMs: 10, jitterMs: [0, 0], maxAttempts: 3 },
        logger: false,
      });
      const errors: OursError[] = [];
      client.on('error', (err) => errors.push(err));
      client.track({ event: 'E', externalId: 'u' });
      client.track({ event: 'E', externalId: 'u' });
      const report = await client.flush();
      await client.shutdown();
      expect(report).to.deep.equal({ delivered: 0, failed: 2, dropped: 0 });
      expect(client.stats()).to.include({ delivered: 0, failed: 2, retried: 4 }); // 2 events x 2 retries
      expect(handled).to.equal(0); // no request ever got through
      await until(() => handshakeErrors >= 3, 'the server to see 3 refused handshakes'); // every attempt
      expect(errors).to.have.length(1);
      expect(errors[0]).to.be.instanceOf(OursDeliveryError);
      expect(errors[0]!.message).to.match(
        /gave up after 3 attempts; last error: network error on POST https:\/\/127\.0\.0\.1:\d+\/api\/v1\/batch: .*certificate/,
      );
      expect((errors[0] as OursDeliveryError).count).to.equal(2);
    });

    it('control: the same server is reachable once its certificate is trusted (so the failure above is the check)', async () => {
      // A fetch that trusts this one certificate, through node:https.
      const trusting: FetchLike = (url, init) =>
        new Promise((done, fail) => {
          const req = httpsRequest(
            url,
            { method: init.method, headers: init.headers, ca: cert, signal: init.signal },
            (res) => {
              let text = '';
              res.setEncoding('utf8');
              res.on('data', (c: string) => (text += c));
              res.on('end', () =>
                done({
                  status: res.statusCode ?? 0,
                  headers: {
                    get: (n: string) =>
                      (res.headers[n.toLowerCase()] as string | undefined) ?? null,
                  },
                  text: async () => text,
                }),
              );
            },
          );
          req.on('error', fail);
          req.end(init.body);
        });
      const client = new OursClient({
        token: TOKEN,
        apiUrl: `https://127.0.0.1:${port}/api/v1`,
        fetch: trusting,
        endpoint: 'track',
        flushIntervalMs: 5,
        logger: false,
      });
      client.track({ event: 'E', externalId: 'u' });
      const report = await client.flush();
      await client.shutdown();
      expect(report.delivered).to.equal(1);
      expect(handled).to.equal(1);
    });
  });

  it('no code in src/ or adapters/ turns certificate checks off', () => {
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const path = join(dir, name);
        return statSync(path).isDirectory()
          ? files(path)
          : /\.(ts|js|mjs|cjs)$/.test(name)
            ? [path]
            : [];
      });
    const forbidden = [
      /rejectUnauthorized\s*:\s*(false|0|!)/,
      /NODE_TLS_REJECT_UNAUTHORIZED/,
      /checkServerIdentity\s*:/,
      /insecureHTTPParser/,
    ];
    const offending = [...files(join(root, 'src')), ...files(join(root, 'adapters'))].flatMap(
      (file) => {
        const text = readFileSync(file, 'utf8');
        return forbidden
          .filter((re) => re.test(text))
          .map((re) => `${relative(root, file)}: ${re}`);
      },
    );
    expect(offending).to.deep.equal([]);
  });
});
